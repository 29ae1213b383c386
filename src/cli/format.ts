/** How the CLI prints steps and outcomes (progress on stderr, results on stdout). */
import Table from 'cli-table3';
import type { RunOutcome } from '../app';
import type { Checkpoint, LoadedCheckpoint } from '../checkpoints';
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

/** Checkpoints as a borderless table, grouped by run with each run's lineage. */
export function checkpointTable(list: Checkpoint[], title?: string): string {
  const lines: string[] = title ? [title + ':'] : [];
  const byRun = new Map<string, Checkpoint[]>();
  for (const c of list) byRun.set(c.runId, [...(byRun.get(c.runId) ?? []), c]);
  for (const [runId, items] of byRun) {
    const first = items[0]!;
    const origin = first.resetFrom
      ? `  ← reset from run ${first.resetFrom.runId} at event ${first.resetFrom.eventId} (${first.resetFrom.reason})`
      : first.restoredFrom
        ? `  ← restored from ${first.restoredFrom.workflowId} run ${first.restoredFrom.runId} (${first.restoredFrom.steps} steps carried over)`
        : '';
    lines.push(`${first.workflowId}  run ${runId}  ${first.runStatus}${origin}`);
    const table = new Table({
      head: ['step', 'agent', 'kind', 'round', 'tokens so far', 'created', 'checkpoint id'],
      chars: {
        top: '',
        'top-mid': '',
        'top-left': '',
        'top-right': '',
        bottom: '',
        'bottom-mid': '',
        'bottom-left': '',
        'bottom-right': '',
        left: '  ',
        'left-mid': '',
        mid: '',
        'mid-mid': '',
        right: '',
        'right-mid': '',
        middle: ' ',
      },
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': 1 },
    });
    for (const c of items) {
      table.push([
        String(c.step),
        c.agent ?? '(entry)',
        c.kind ?? '',
        String(c.round),
        n(c.usage.totalTokens),
        c.createdAt?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? '',
        c.checkpointId,
      ]);
    }
    lines.push(table.toString());
  }
  return lines.join('\n');
}

/** `checkpoints show`: the checkpoint, the equivalent reset, and the state. */
export function checkpointDetails(c: LoadedCheckpoint, resetCommand: string, webUi: string | null): string {
  const s = c.state;
  const out = [
    `Checkpoint ${c.checkpointId}`,
    `  workflow ${c.workflowId}, run ${c.runId} (${c.runStatus}), event ${c.eventId}, created ${c.createdAt ?? '?'}`,
    `  after step ${c.step}${c.agent ? `: ${c.agent} ${c.kind}, round ${c.round}` : ' (entry checkpoint: no agent has run)'}`,
    `  saved: ${n(c.usage.totalTokens)} tokens in ${c.usage.llmCalls} LLM calls are reused by a resume from here`,
    ...(c.resetFrom
      ? [`  this run was reset from run ${c.resetFrom.runId} at event ${c.resetFrom.eventId}: ${c.resetFrom.reason}`]
      : []),
    `  resume: agent-team resume ${c.checkpointId}`,
    `  same as: ${resetCommand}`,
    ...(webUi ? [`  Web UI: ${webUi}`] : []),
    '',
    `State: phase ${s.phase}, round ${s.round}/${s.settings.maxRounds}, stalls ${s.stallCount}/${s.settings.maxStalls}, replans ${s.replans}`,
    `  task: ${s.task}`,
    `  plan: ${(s.plan ?? '(none yet)').replace(/\n/g, '\n        ')}`,
    `  messages (${s.messages.length}):`,
    ...s.messages.map(
      (m) =>
        `    #${m.step} ${m.agent} · ${m.kind} · round ${m.round}: ${m.content.replace(/\s+/g, ' ').slice(0, 140)}`,
    ),
  ];
  return out.join('\n');
}
