/**
 * How the CLI prints steps, outcomes and checkpoints (progress on stderr, results on stdout). Step numbers
 * count from 1 everywhere; checkpoint N is the state after step N (0: before any step).
 */
import Table from 'cli-table3';
import { kindLabel } from '../../../workflows/labels';
import { type AnswerRecord } from '../../../workflows/model';
import type { RunOutcome } from '../../client/outcome';
import { originText, type Checkpoint, type LoadedCheckpoint } from '../../checkpoints/derive';
import { formatUsd } from '../../../workflows/pricing';
import type { HumanAnswer, HumanRequest, StepResult, ToolRequest } from '../../../workflows/types';
import { oneLine, shellLines, wrap } from '../../shared/util';
import type { Hints } from '../hints';

const n = (x: number): string => x.toLocaleString('en-US');

/**
 * One line per completed step, as it happens: `#3  researcher  agent  round 1  109→50 tokens  $0.0001  14 ms`
 * (the cost when the run has prices; the model's answer time).
 */
export function stepLine(r: StepResult, costUsd = 0): string {
  const retries = r.attempt > 1 ? `  (attempt ${r.attempt})` : '';
  const head = `  #${String(r.stepIndex + 1).padEnd(3)} ${r.agent.padEnd(13)} ${kindLabel(r).padEnd(7)} round ${String(r.round).padEnd(3)} `;
  if (r.kind === 'tool' && r.tool) {
    if (r.tool.replayedFrom) return `${head}${r.tool.call.name} ↺ replayed from ${r.tool.replayedFrom}`;
    if (r.tool.notRun) return `${head}${r.tool.call.name} ⊘ not run (replay branch, ${r.tool.sideEffects})`;
    return `${head}${r.tool.call.name} ${r.tool.ok ? '✔' : '✖'} ${n(r.tool.durationMs)} ms  ${r.tool.sideEffects}${retries}`;
  }
  const calls = r.toolCalls?.length ? `  → calls ${r.toolCalls.map((c) => c.name).join(', ')}` : '';
  const cost = costUsd > 0 ? `  ${usd(costUsd)}` : '';
  return (
    `  #${String(r.stepIndex + 1).padEnd(3)} ${r.agent.padEnd(13)} ${kindLabel(r).padEnd(7)} round ${String(r.round).padEnd(3)} ` +
    `${n(r.usage.promptTokens)}→${n(r.usage.completionTokens)} tokens${cost}  model ${n(r.latencyMs)} ms${retries}${calls}`
  );
}

/** A tool call scheduled, as a following process sees it: `  ⚙ #11  coder  run_code {"language":…}`. */
export function toolScheduledLine(req: ToolRequest): string {
  const args = oneLine(req.call.arguments);
  return `  ⚙ #${String(req.stepIndex + 1).padEnd(3)} ${req.agent.padEnd(13)} ${req.call.name} ${args.length > 40 ? `${args.slice(0, 39)}…` : args}`;
}

/** A tool call starting: `  ⚙ #5   coder   run_code started (attempt 1, key wf/run/5/call_4_1)`. */
export function toolStartLine(req: ToolRequest, attempt: number): string {
  return `  ⚙ #${String(req.stepIndex + 1).padEnd(3)} ${req.agent.padEnd(13)} ${req.call.name} started (attempt ${attempt}, ${req.spec.sideEffects}, key ${req.idempotencyKey})`;
}

/** The closing line of a run. */
export function outcomeLine(outcome: RunOutcome): string {
  const calls = outcome.usage.llmCalls;
  const tokens = `${n(outcome.usage.totalTokens)} tokens in ${calls} LLM call${calls === 1 ? '' : 's'}`;
  const cost = outcome.usage.costUsd > 0 ? usd(outcome.usage.costUsd) : '';
  if (outcome.status === 'COMPLETED') {
    const by = outcome.result?.cutShortBy === 'budget' ? 'the budget' : 'max_rounds';
    const cut = outcome.result?.cutShort ? `\n  (cut short by ${by})` : '';
    const line = `✔ COMPLETED: ${outcome.steps.length} steps, ${outcome.result?.rounds ?? 0} rounds, ${tokens}${cost ? ` (${cost})` : ''}${cut}`;
    const r = outcome.result;
    if (!r?.turn) return line;
    // A follow-up: this turn's figures above, the conversation's below.
    const all = r.usage.promptTokens + r.usage.completionTokens;
    const allCost = r.usage.costUsd ? ` (${usd(r.usage.costUsd)})` : '';
    return `${line}\n  Turn ${r.turn}; the conversation: ${r.steps} steps, ${n(all)} tokens in ${r.usage.llmCalls} LLM calls${allCost}`;
  }
  const e = outcome.error;
  const where = e?.agent ? ` at ${e.agent}${e.round !== undefined ? ` (round ${e.round})` : ''}` : '';
  const head = `✖ ${outcome.status}${where} after ${outcome.steps.length} completed step${outcome.steps.length === 1 ? '' : 's'}`;
  const usage = `${tokens}${cost ? `, ${cost}` : ''}`;
  // On one line when it fits 80 columns, else the usage on a line of its own.
  const line = `${head} (${usage})`.length <= 79 ? `${head} (${usage})` : `${head}\n  (${usage})`;
  return `${line}${e ? `:\n  ${e.message}` : ''}`;
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
    else if (first.restoredFrom) lines.push(oneLine(`  ← ${originText(first.restoredFrom)}`, 78));
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
      // A gate was open here: the run waited (or waits) on a person, and a resume from here asks again.
      if (c.waiting)
        table.push(['', { colSpan: options.wide ? 5 : 4, content: `⏸ waiting: ${requestTitle(c.waiting)}` }]);
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
  hints: Hints,
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
      `${n(c.usage.totalTokens)} tokens in ${c.usage.llmCalls} LLM calls` +
        (c.usage.costUsd > 0 ? ` (${usd(c.usage.costUsd)})` : '') +
        ' are reused by a resume from here',
    ),
    ...(c.waiting ? block('  waiting: ', `${requestTitle(c.waiting)} (a resume from here asks again)`) : []),
    ...(c.resetFrom
      ? block('  ', `this run was reset from run ${c.resetFrom.runId} at @${c.resetFrom.step}: ${c.resetFrom.reason}`)
      : []),
    `  resume: ${hints.command('resume', c.shortId)}`,
    '  same as:',
    shellLines(resetCommand, '    '),
    ...(webUi ? [`  Web UI: ${webUi}`] : []),
    '',
    `State: phase ${s.phase}, round ${s.round}/${s.settings.maxRounds}, stalls ${s.stallCount}/${s.settings.maxStalls}, replans ${s.replans}`,
    ...block('  task: ', oneLine(s.task)),
    ...(s.plan ?? '(none yet)').split('\n').flatMap((l, i) => block(i === 0 ? '  plan: ' : '        ', l)),
    ...(s.answers.length
      ? [`  answers (${s.answers.length}):`, ...s.answers.map((a) => oneLine(`    ${answerLine(a)}`, 80))]
      : []),
    `  messages (${s.messages.length}):`,
    ...s.messages.map((m) => {
      const head = `    #${m.step} ${m.agent} · ${m.kind} · round ${m.round}: `;
      return head + oneLine(m.content, Math.max(20, 80 - head.length));
    }),
  ];
  return out.join('\n');
}

/** USD as the CLI prints it: `$0.000054` under a cent, `$0.0821` under a dollar, else `$1.25`. */
/** `$0.000828`, `$0.5000`, `$12.50`: as the questions a run asks say it. */
export const usd = formatUsd;

const REQUEST_TITLES: Record<HumanRequest['kind'], string> = {
  plan_review: 'plan review',
  step_approval: 'step approval',
  final_review: 'final answer review',
  budget: 'budget',
};

/** A request's kind as every command prints it: `plan review`, `budget`… */
export const requestTitle = (kind: HumanRequest['kind']): string => REQUEST_TITLES[kind];

/** The commands that answer a request, one per decision, as a user pastes them. */
export function answerCommands(request: HumanRequest, workflowId: string, hints: Hints): string[] {
  if (request.kind === 'budget') {
    return [hints.command('budget', workflowId, '--add-usd', '0.05'), hints.command('budget', workflowId, '--stop')];
  }
  return [
    hints.command('approve', workflowId),
    hints.command('revise', workflowId, '--feedback', { placeholder: '"what to change"' }),
    hints.command('reject', workflowId, '--reason', { placeholder: '"why"' }),
  ];
}

/** What a waiting run asks, in lines that fit 80 columns: the question, what it is about, how to answer. */
export function requestLines(
  request: HumanRequest,
  workflowId: string,
  hints: Hints,
  /** `here`: this process asks too (a terminal); `elsewhere`: only another shell can answer. */
  where: 'here' | 'elsewhere' = 'here',
): string[] {
  const block = (first: string, text: string, maxLines = 12): string[] => {
    const lines = text
      .split('\n')
      .flatMap((l, i) =>
        wrap(l, 78 - first.length).map((w, j) => (i === 0 && j === 0 ? first : ' '.repeat(first.length)) + w),
      );
    return lines.length > maxLines ? [...lines.slice(0, maxLines - 1), ' '.repeat(first.length) + '…'] : lines;
  };
  const lines = [`⏸ ${requestTitle(request.kind)}: the run waits for you (after step ${request.step})`];
  if (request.plan !== undefined) lines.push(...block('  plan: ', request.plan));
  if (request.agent !== undefined) lines.push(`  next: ${request.agent}`);
  if (request.instruction !== undefined) lines.push(...block('  instruction: ', request.instruction));
  if (request.answer !== undefined) lines.push(...block('  answer: ', request.answer));
  if (request.spent) {
    const { limit, spent } = request;
    const limits = [
      limit?.usd != null ? `${usd(limit.usd)}` : null,
      limit?.tokens != null ? `${n(limit.tokens)} tokens` : null,
    ].filter(Boolean);
    lines.push(`  spent: ${usd(spent.usd)}, ${n(spent.tokens)} tokens (limit ${limits.join(', ')})`);
  }
  lines.push(...block('  ', request.question));
  if (request.timeout) {
    const { ms, decision } = request.timeout;
    const after = ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
    lines.push(`  Without an answer within ${after} (gates.timeout_ms), it will ${decision}.`);
  }
  lines.push(where === 'here' ? '  Answer here, or from any shell:' : '  Answer from any shell:');
  for (const c of answerCommands(request, workflowId, hints)) lines.push(`    ${c}`);
  return lines;
}

/** What an answer said, and who said it: `approve by alice`, `add $0.5000 by bob: …`, `stop (no answer in time)`. */
export function answerText(
  a: Pick<HumanAnswer, 'decision' | 'addUsd' | 'addTokens' | 'feedback' | 'reason' | 'timedOut'> & {
    answeredBy?: string | null;
  },
): string {
  const what =
    a.decision === 'add_budget'
      ? `add ${[a.addUsd ? usd(a.addUsd) : null, a.addTokens ? `${n(a.addTokens)} tokens` : null].filter(Boolean).join(' and ')}`
      : a.decision;
  const note = a.feedback ?? a.reason;
  return (
    `${what}${a.timedOut ? ' (no answer in time)' : a.answeredBy ? ` by ${a.answeredBy}` : ''}` +
    (note ? `: ${note}` : '')
  );
}

/** An answer a run took: `plan review @1: approve by alice`, `budget @4: add $0.5000 by bob`, `… (timed out)`. */
export const answerLine = (a: AnswerRecord): string => `${requestTitle(a.kind)} @${a.step}: ${answerText(a)}`;

/**
 * Where to resume a run that did not complete: its last checkpoint, and why that is before its last step when
 * it is (a cancel request that came in with that step's result stays in any reset after it).
 */
/**
 * The lines that say how to resume a run that did not complete: `lead` (with the note on where, if any), then the
 * command alone on its line, to paste. None for a completed run or one without a checkpoint.
 */
export function resumeLines(outcome: RunOutcome, hints: Hints, lead = 'Resume it from its last checkpoint'): string[] {
  const point = resumePoint(outcome);
  if (!point) return [];
  return [
    ...wrap(`${lead}${point.note}:`, 76).map((l) => `  ${l}`),
    `    ${hints.command('resume', point.checkpoint.shortId, ...(point.repeat ? ['--repeat-side-effects'] : []))}`,
  ];
}

function resumePoint(outcome: RunOutcome): { checkpoint: Checkpoint; note: string; repeat: boolean } | null {
  const last = outcome.checkpoints.at(-1);
  if (!last || outcome.status === 'COMPLETED') return null;
  // A destructive tool call that may have started: from the checkpoint before it, once what it did is checked.
  const uncertain = outcome.error?.type === 'SideEffectUncertain' ? outcome.error.step : undefined;
  if (uncertain !== undefined) {
    const before = outcome.checkpoints.filter((c) => c.step < uncertain).at(-1) ?? last;
    return {
      checkpoint: before,
      note: ` (step ${uncertain} may have run: check what it did first; the resume runs it again)`,
      repeat: true,
    };
  }
  const lastStep = outcome.steps.at(-1)?.step ?? 0;
  const note =
    outcome.status === 'CANCELED' && lastStep > last.step
      ? ` (step ${lastStep} came in with the cancel request and is sent again: a run resumed after it would be cancelled again)`
      : '';
  return { checkpoint: last, note, repeat: false };
}
