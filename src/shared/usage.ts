/** Token usage summed over steps: what `--json` reports and what a resume does not pay again. */
import type { TokenUsage } from '../../workflows/types';

export interface Usage extends TokenUsage {
  totalTokens: number;
  llmCalls: number;
  /** At the run's prices (0 for a run started without a price table). */
  costUsd: number;
}

export const noUsage = (): Usage => ({ promptTokens: 0, completionTokens: 0, totalTokens: 0, llmCalls: 0, costUsd: 0 });

/** The usage of these steps (one LLM call each, but tool steps: none; `costUsd` each when known). */
export function sumUsage(steps: readonly { usage: TokenUsage; costUsd?: number; kind?: string }[]): Usage {
  const promptTokens = steps.reduce((n, s) => n + s.usage.promptTokens, 0);
  const completionTokens = steps.reduce((n, s) => n + s.usage.completionTokens, 0);
  return {
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    llmCalls: steps.filter((s) => s.kind !== 'tool').length,
    costUsd: steps.reduce((n, s) => n + (s.costUsd ?? 0), 0),
  };
}
