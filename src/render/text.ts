/**
 * How the CLI prints steps, outcomes and checkpoints (progress on stderr, results on stdout). Step numbers
 * count from 1 everywhere; checkpoint N is the state after step N (0: before any step).
 */
import Table from 'cli-table3';
import { kindLabel } from '../../workflows/state';
import type { RunOutcome } from '../client/outcome';
import type { Checkpoint, LoadedCheckpoint } from '../checkpoints/derive';
import type { StepResult } from '../../workflows/types';
import { oneLine, shellLines, wrap } from '../shared/util';

const n = (x: number): string => x.toLocaleString('en-US');

/** One line per completed step, as it happens: `#3  researcher  agent  round 1  109→50 tokens  model 14 ms`. */
export function stepLine(r: StepResult): string {
  const retries = r.attempt > 1 ? `  (attempt ${r.attempt})` : '';
  return (
    `  #${String(r.stepIndex + 1).padEnd(3)} ${r.agent.padEnd(13)} ${kindLabel(r).padEnd(7)} round ${String(r.round).padEnd(3)} ` +
    `${n(r.usage.promptTokens)}→${n(r.usage.completionTokens)} tokens  model ${n(r.latencyMs)} ms${retries}`
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

const BORDERLESS = {
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
};

/** What a checkpoint follows: `researcher agent`, `orchestrator replan`, or `(entry)`. */
const after = (c: Checkpoint): string =>
  c.agent && c.kind ? `${c.agent} ${kindLabel({ kind: c.kind, ...(c.replan ? { replan: true } : {}) })}` : '(entry)';

/**
 * Checkpoints grouped by run, each run headed by its task, status and lineage. By default it fits an 80-column
 * terminal and names each checkpoint by its short id (`<workflowId>@<step>`); `wide` adds the creation time and
 * the full id (`cp2_…`).
 */
export function checkpointTable(
  list: Checkpoint[],
  options: { title?: string; wide?: boolean; task?: Map<string, string> } = {},
): string {
  const lines: string[] = options.title ? [options.title + ':'] : [];
  const byRun = new Map<string, Checkpoint[]>();
  for (const c of list) byRun.set(c.runId, [...(byRun.get(c.runId) ?? []), c]);
  for (const [runId, items] of byRun) {
    const first = items[0]!;
    lines.push(`${first.workflowId} · run ${runId.slice(0, 13)}… · ${first.runStatus}`);
    const task = options.task?.get(runId);
    if (task) lines.push(`  task: ${oneLine(task, 70)}`);
    if (first.resetFrom)
      lines.push(
        oneLine(
          `  ← reset from run ${first.resetFrom.runId.slice(0, 13)}… at @${first.resetFrom.step}: ${first.resetFrom.reason}`,
          78,
        ),
      );
    else if (first.restoredFrom)
      lines.push(
        oneLine(
          `  ← restored from ${first.restoredFrom.workflowId} (${first.restoredFrom.steps} steps carried over)`,
          78,
        ),
      );
    const table = new Table({
      head: ['step', 'after', 'round', 'tokens', ...(options.wide ? ['created', 'checkpoint id'] : ['checkpoint'])],
      chars: BORDERLESS,
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': 1 },
    });
    for (const c of items) {
      table.push([
        String(c.step),
        after(c),
        String(c.round),
        n(c.usage.totalTokens),
        ...(options.wide
          ? [c.createdAt?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? '', c.checkpointId]
          : [c.shortId]),
      ]);
    }
    lines.push(
      table
        .toString()
        .split('\n')
        .map((l) => l.trimEnd())
        .join('\n'),
    );
  }
  return lines.join('\n');
}

/** `checkpoints show`: the checkpoint, the equivalent reset, and the state, in lines that fit 80 columns. */
export function checkpointDetails(
  c: LoadedCheckpoint,
  resetCommand: string,
  webUi: string | null,
  cli = 'agent-team',
): string {
  const s = c.state;
  const block = (first: string, text: string): string[] =>
    wrap(text, 80 - first.length).map((l, i) => (i === 0 ? first : ' '.repeat(first.length)) + l);
  const out = [
    ...block(
      'Checkpoint ',
      `${c.shortId}: after step ${c.step}${c.agent ? ` (${after(c)}, round ${c.round})` : ' (the entry checkpoint: no step has run)'}`,
    ),
    `  id: ${c.checkpointId}`,
    `  workflow ${c.workflowId}`,
    `  run ${c.runId} (${c.runStatus}), event ${c.eventId}`,
    `  created ${c.createdAt ?? '?'}`,
    ...block(
      '  saved: ',
      `${n(c.usage.totalTokens)} tokens in ${c.usage.llmCalls} LLM calls are reused by a resume from here`,
    ),
    ...(c.resetFrom
      ? block('  ', `this run was reset from run ${c.resetFrom.runId} at @${c.resetFrom.step}: ${c.resetFrom.reason}`)
      : []),
    `  resume: ${cli} resume ${c.shortId}`,
    '  same as:',
    shellLines(resetCommand, '    '),
    ...(webUi ? [`  Web UI: ${webUi}`] : []),
    '',
    `State: phase ${s.phase}, round ${s.round}/${s.settings.maxRounds}, stalls ${s.stallCount}/${s.settings.maxStalls}, replans ${s.replans}`,
    ...block('  task: ', oneLine(s.task)),
    ...(s.plan ?? '(none yet)').split('\n').flatMap((l, i) => block(i === 0 ? '  plan: ' : '        ', l)),
    `  messages (${s.messages.length}):`,
    ...s.messages.map((m) => {
      const head = `    #${m.step} ${m.agent} · ${m.kind} · round ${m.round}: `;
      return head + oneLine(m.content, Math.max(20, 80 - head.length));
    }),
  ];
  return out.join('\n');
}
