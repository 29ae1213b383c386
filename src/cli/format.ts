/** How the CLI prints steps and outcomes (progress on stderr, results on stdout). */
import type { RunOutcome } from '../app';
import type { RecordedStep } from '../history';

const n = (x: number): string => x.toLocaleString('en-US');

/** One line per completed step, as it happens. */
export function stepLine(step: RecordedStep): string {
  const r = step.result;
  const what =
    r.kind === 'plan'
      ? r.replan
        ? 'replan'
        : 'plan'
      : r.kind === 'ledger'
        ? 'ledger'
        : r.kind === 'final'
          ? 'final answer'
          : 'answer';
  const retries = r.attempt > 1 ? `  (attempt ${r.attempt})` : '';
  return (
    `  #${String(r.stepIndex).padEnd(3)} ${r.agent.padEnd(13)} ${what.padEnd(12)} round ${String(r.round).padEnd(3)} ` +
    `${n(r.usage.promptTokens)}→${n(r.usage.completionTokens)} tokens  ${n(r.latencyMs)} ms${retries}`
  );
}

/** The closing line of a run. */
export function outcomeLine(outcome: RunOutcome): string {
  const tokens = `${n(outcome.usage.totalTokens)} tokens in ${outcome.usage.llmCalls} LLM calls`;
  if (outcome.status === 'COMPLETED') {
    const cut = outcome.result?.cutShort ? ' — cut short by max_rounds' : '';
    return `✔ COMPLETED: ${outcome.steps.length} steps, ${outcome.result?.rounds ?? 0} rounds, ${tokens}${cut}`;
  }
  const e = outcome.error;
  const where = e?.agent ? ` at ${e.agent}${e.round !== undefined ? ` (round ${e.round})` : ''}` : '';
  return `✖ ${outcome.status}${where} after ${outcome.steps.length} completed steps (${tokens})${e ? `:\n  ${e.message}` : ''}`;
}
