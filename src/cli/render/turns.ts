/** How a conversation's turns read on the terminal: the line `ask` starts with, and `turns`. */
import type { AskPlan, TurnSummary } from '../../client';

/** What `ask` prints before the turn starts. */
export function askLine(plan: AskPlan): string {
  const from = plan.fromCheckpoint
    ? `from ${plan.fromCheckpoint}`
    : `after turn ${plan.turn - 1} (step ${plan.fromStep})`;
  return (
    `↪ Turn ${plan.turn} of ${plan.workflowId}, ${from}: ${plan.fromStep} step${plan.fromStep === 1 ? '' : 's'} ` +
    `carried over, ${plan.reusedTokens.toLocaleString('en-US')} tokens not paid again`
  );
}

/** What a turn without an answer says. */
const UNANSWERED: Record<string, string> = {
  running: '(working on it)',
  left: '(left unanswered: the next turn followed up from an earlier checkpoint)',
  failed: '(failed: resume it, or ask --from one of its checkpoints)',
  canceled: '(cancelled: resume it, or ask --from one of its checkpoints)',
};

/** The conversation's totals: its turns added up. */
export function turnTotals(turns: readonly TurnSummary[]): {
  turns: number;
  steps: number;
  tokens: number;
  llmCalls: number;
  costUsd: number;
} {
  return {
    turns: turns.length,
    steps: turns.at(-1)?.toStep ?? 0,
    tokens: turns.reduce((n, t) => n + t.usage.promptTokens + t.usage.completionTokens, 0),
    llmCalls: turns.reduce((n, t) => n + t.usage.llmCalls, 0),
    costUsd: Math.round(turns.reduce((n, t) => n + t.usage.costUsd, 0) * 1e9) / 1e9,
  };
}

/** The turns as lines of at most 80 columns. */
export function turnLines(turns: readonly TurnSummary[]): string[] {
  const one = (t: string, max: number): string => {
    const flat = t.replace(/\s+/g, ' ').trim();
    return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  };
  const lines: string[] = [];
  let tokens = 0;
  let cost = 0;
  for (const t of turns) {
    const used = t.usage.promptTokens + t.usage.completionTokens;
    tokens += used;
    cost += t.usage.costUsd;
    const steps = t.toStep >= t.fromStep ? `steps ${t.fromStep}-${t.toStep}` : 'no steps yet';
    const summary = t.summaryStep !== undefined ? ` (#${t.summaryStep} summary)` : '';
    lines.push(
      one(`${t.turn}. ${t.task}`, 78),
      `   ${t.by ? `asked by ${t.by} · ` : ''}${steps}${summary} · ${used.toLocaleString('en-US')} tokens` +
        (t.usage.costUsd > 0 ? ` · $${t.usage.costUsd.toFixed(4)}` : ''),
      `   ${t.answer !== null ? `→ ${one(t.answer, 74)}` : (UNANSWERED[t.status] ?? `(${t.status})`)}`,
    );
  }
  lines.push(
    `${turns.length} turn${turns.length === 1 ? '' : 's'}, ${tokens.toLocaleString('en-US')} tokens` +
      (cost > 0 ? `, $${cost.toFixed(4)}` : ''),
  );
  return lines;
}
