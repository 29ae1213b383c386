/** How a conversation's turns read on the terminal: the line `ask` starts with, and `turns`. */
import type { AskPlan, TurnSummary } from '../../client';

/** What `ask` prints before the turn starts. */
export function askLine(plan: AskPlan): string {
  return (
    `↪ Turn ${plan.turn} of ${plan.workflowId}: follows up ${plan.fromCheckpoint ?? `run ${plan.fromRunId.slice(0, 8)}`} ` +
    `after step ${plan.fromStep}; ${plan.fromStep} step${plan.fromStep === 1 ? '' : 's'} carried over, ` +
    `${plan.reusedTokens.toLocaleString('en-US')} tokens not paid again`
  );
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
    lines.push(
      one(`${t.turn}. ${t.task}`, 78),
      `   ${t.by ? `asked by ${t.by} · ` : ''}${steps} · ${used.toLocaleString('en-US')} tokens` +
        (t.usage.costUsd > 0 ? ` · $${t.usage.costUsd.toFixed(4)}` : ''),
      `   ${t.answer === null ? '(no answer yet)' : `→ ${one(t.answer, 74)}`}`,
    );
  }
  lines.push(
    `${turns.length} turn${turns.length === 1 ? '' : 's'}, ${tokens.toLocaleString('en-US')} tokens` +
      (cost > 0 ? `, $${cost.toFixed(4)}` : ''),
  );
  return lines;
}
