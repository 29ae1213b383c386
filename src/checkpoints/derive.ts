/**
 * Checkpoints, in Temporal terms. A checkpoint is the durable point right after an agent step completed:
 * the WorkflowTaskCompleted event that follows the step's ActivityTaskCompleted, a valid reset point. The
 * first WorkflowTaskCompleted (before any agent ran) is the entry checkpoint. This module names them in a
 * run's history; ./store.ts lists, loads and resumes them through a client.
 */
import { pendingRequest } from '../../workflows/gates';
import { InvalidTeamInput } from '../../workflows/input';
import type { TeamState } from '../../workflows/model';
import { apply, initialState, seedSteps, type RecordedEvent } from '../../workflows/state';
import type { RequestKind, StepKind, StepResult } from '../../workflows/types';
import type { RecordedStep, RecordedToolCall, RunHistory, RunStatus } from '../history/reader';
import type { NextStep } from '../shared/errors';
import type { Usage } from '../shared/usage';
import { encodeCheckpointId, shortCheckpointId } from './ids';

/** Where a run came from, when it was made by a reset. */
export interface ResetOrigin {
  runId: string;
  eventId: number;
  /** The checkpoint of the base run it branched at: the steps up to it were kept. */
  step: number;
  checkpointId: string;
  reason: string;
}

/** One checkpoint, as `listCheckpoints` and `checkpoints list --json` return it. */
export interface Checkpoint {
  /** The full, self-checking id (`cp2_…`). */
  checkpointId: string;
  /** The short form a person types: `<workflowId>@<step>`, with `~<run>` unless the run is its workflow's latest. */
  shortId: string;
  workflowId: string;
  runId: string;
  /** The WorkflowTaskCompleted event: `temporal workflow reset -e <eventId>`. */
  eventId: number;
  /** Steps completed at this point (0 = the entry checkpoint, before any agent ran). */
  step: number;
  /** The agent whose step just completed (null at the entry checkpoint). */
  agent: string | null;
  kind: StepKind | null;
  /** Set when that step was a replan. */
  replan?: boolean;
  round: number;
  createdAt: string | null;
  runStatus: RunStatus;
  /** Usage of all steps up to this point: what resuming from here does not pay again. */
  usage: Usage;
  /** Set on checkpoints of a run that was made by a reset. */
  resetFrom?: ResetOrigin;
  /** Set on checkpoints of a run restored from an exported checkpoint (`checkpoints import --restore`). */
  restoredFrom?: RestoreOrigin;
  /** Set when the run, at this point, waits on a person (a gate): a resume from here asks again. */
  waiting?: RequestKind;
}

/** Where a restored run came from: the exported checkpoint whose steps seeded it. */
export interface RestoreOrigin {
  checkpointId: string;
  workflowId: string;
  runId: string;
  /** Steps carried over (they were not executed by this run). */
  steps: number;
  /** Set for a fork (`agent-team fork`): the step it was forked at, and what was edited there. */
  fork?: { step: number; edits: string[] };
  /** Set for a link of a chain: the run continued as new into this one. */
  continued?: true;
  /** Set for a follow-up (`agent-team ask`): the turn (from 2) of the conversation the seed carries. */
  followUp?: { task: string; turn: number };
}

/** How a restored or forked run's origin reads: `forked from X@4 (edited: …)`, `restored from X`. */
export function originText(r: RestoreOrigin): string {
  if (r.continued) return `continued as new from run ${r.runId} after step ${r.steps}`;
  if (r.followUp) return `turn ${r.followUp.turn}: a follow-up after step ${r.steps} (${r.steps} steps carried over)`;
  if (r.fork) {
    return `forked from ${r.workflowId}@${r.fork.step} (${r.fork.edits.length ? `edited: ${r.fork.edits.join(', ')}` : 'no edits'})`;
  }
  return `restored from ${r.workflowId} (${r.steps} steps carried over)`;
}

/** The steps a run was seeded with (0 unless it was restored from an export). */
export function seededSteps(run: RunHistory): StepResult[] {
  const restore = run.input?.restore;
  return restore ? seedSteps(restore, run.seedPieces) : [];
}

/** A checkpoint with the full state at that point. */
export interface LoadedCheckpoint extends Checkpoint {
  state: TeamState;
}

/** The reset that made this run, read from its history. */
export function resetOriginOf(run: RunHistory, namespace: string): ResetOrigin | undefined {
  for (const event of run.events) {
    const failed = event.workflowTaskFailedEventAttributes;
    if (failed?.baseRunId && failed.newRunId === run.runId) {
      const eventId = Number(event.eventId);
      return {
        runId: failed.baseRunId,
        eventId,
        step: seededSteps(run).length + run.steps.filter((s) => s.completedEventId < eventId).length,
        checkpointId: encodeCheckpointId({ namespace, workflowId: run.workflowId, runId: failed.baseRunId, eventId }),
        reason: failed.failure?.message ?? '',
      };
    }
  }
  return undefined;
}

/**
 * The checkpoints of one run, oldest first. `latest`: the run is its workflow's latest, so its short ids need
 * no run prefix (by default they name the run, which stays true whatever happens later); `siblings`: the other
 * runs of the workflow that are known, so the run prefix is long enough to tell them apart.
 */
export function checkpointsOf(
  run: RunHistory,
  namespace: string,
  options: { latest?: boolean; siblings?: readonly string[] } = {},
): Checkpoint[] {
  const resetFrom = resetOriginOf(run, namespace);
  const seed = seededSteps(run);
  const restore = run.input?.restore;
  const fork = run.input?.fork;
  const restoredFrom: RestoreOrigin | undefined = restore
    ? {
        checkpointId: restore.checkpointId,
        workflowId: restore.workflowId,
        runId: restore.runId,
        steps: seed.length,
        ...(fork ? { fork: { step: fork.step, edits: fork.edits } } : {}),
        ...(restore.continued ? { continued: true as const } : {}),
        ...(run.input?.followUp
          ? { followUp: { task: String(run.input.followUp.task), turn: (initialStateOf(run)?.turns?.length ?? 0) + 1 } }
          : {}),
      }
    : undefined;
  const base = {
    workflowId: run.workflowId,
    runId: run.runId,
    runStatus: run.status,
    ...(resetFrom ? { resetFrom } : {}),
    ...(restoredFrom ? { restoredFrom } : {}),
  };
  const list: Checkpoint[] = [];
  const at = (
    eventId: number,
    when: Date | null,
    state: TeamState,
    r: StepResult | undefined,
  ): Checkpoint => {
    const waiting = pendingRequest(state)?.kind;
    return {
      ...base,
      checkpointId: encodeCheckpointId({ namespace, workflowId: run.workflowId, runId: run.runId, eventId }),
      shortId: shortCheckpointId(
        { workflowId: run.workflowId, runId: run.runId, step: state.steps },
        options.latest ?? false,
        options.siblings,
      ),
      eventId,
      step: state.steps,
      agent: r?.agent ?? null,
      kind: r?.kind ?? null,
      round: r?.round ?? 0,
      ...(r?.replan ? { replan: true } : {}),
      createdAt: when?.toISOString() ?? null,
      usage: usageOf(state),
      ...(waiting ? { waiting } : {}),
    };
  };
  // Fold the run's steps and answers in history order; a checkpoint holds what came before its event.
  let state = initialStateOf(run);
  let last: StepResult | undefined = seed[seed.length - 1];
  const events = foldablesOf(run);
  let next = 0;
  const foldUpTo = (eventId: number): void => {
    for (; next < events.length && events[next]!.eventId < eventId; next++) {
      const e = events[next]!;
      if (e.step) last = e.step.result;
      if (state) state = fold(state, e);
    }
  };
  if (run.entryEventId !== null && state) {
    foldUpTo(run.entryEventId);
    list.push(at(run.entryEventId, run.startedAt, state, last));
  }
  run.steps.forEach((s, i) => {
    if (s.checkpointEventId === null) return; // the run closed (or is still deciding) right after this step
    // Steps that completed together (parallel tool calls) share one workflow task: one checkpoint, after the last.
    if (run.steps[i + 1]?.checkpointEventId === s.checkpointEventId) return;
    foldUpTo(s.checkpointEventId);
    if (state) list.push(at(s.checkpointEventId, s.completedAt, state, last));
  });
  return list;
}

/**
 * Why a run has no checkpoint after step `step`, in words that name the checkpoints there are instead: steps that
 * completed together (parallel tool calls, taken in one workflow task) share the checkpoint after the last of them;
 * a step whose result came in with a cancel request has none (a run resumed there would be cancelled again).
 */
export function whyNoCheckpoint(
  run: RunHistory,
  step: number,
  checkpoints: readonly Checkpoint[],
): { why: string; next: NextStep[] } {
  const recorded = run.steps.find((s) => s.result.stepIndex + 1 === step);
  const before = checkpoints.filter((c) => c.step < step).at(-1);
  const after = checkpoints.find((c) => c.eventId === recorded?.checkpointEventId);
  const together = recorded?.checkpointEventId
    ? run.steps.filter((s) => s.checkpointEventId === recorded.checkpointEventId).map((s) => s.result.stepIndex + 1)
    : [];
  if (together.length > 1 && after) {
    const earlier = checkpoints.filter((c) => c.step < together[0]!).at(-1);
    return {
      why:
        `steps ${together.slice(0, -1).join(', ')} and ${together.at(-1)} of "${run.workflowId}" completed together ` +
        '(their results were taken in one workflow task), so there is no checkpoint between them: ' +
        `${after.shortId} is after all of them${earlier ? `, ${earlier.shortId} before them` : ''}`,
      next: [],
    };
  }
  if (recorded?.cameWithCancel && before) {
    return {
      why:
        `step ${step} of "${run.workflowId}" has no checkpoint: the cancel request came in with its result, so ` +
        `a run resumed there would be cancelled again at once. Resume from the checkpoint before it, ` +
        `${before.shortId} (step ${step} is sent again)`,
      next: [{ purpose: `resume from ${before.shortId}`, args: ['resume', before.shortId] }],
    };
  }
  const steps = checkpoints.map((c) => c.step);
  return {
    why:
      `run ${run.runId} of "${run.workflowId}" has no checkpoint after step ${step} ` +
      `(it has ${steps.length ? `@${steps[0]} to @${steps[steps.length - 1]}` : 'none yet'})`,
    next: [{ purpose: 'list them', args: ['checkpoints', 'list', '-w', run.workflowId] }],
  };
}

/**
 * The state a run started from, or null for a run without a recorded input, or with one the workflow refused
 * (`temporal workflow start --input '{}'`: it failed at once, with no checkpoint).
 */
function initialStateOf(run: RunHistory): TeamState | null {
  if (!run.input) return null;
  try {
    return initialState(run.input, run.seedPieces);
  } catch (err) {
    if (err instanceof InvalidTeamInput) return null;
    throw err;
  }
}

/** What a state is folded from, in history order: each recorded event, with the event id that recorded it. */
interface Foldable {
  eventId: number;
  event: RecordedEvent;
  /** For a step: where history records it. */
  step?: RecordedStep;
}

/** The run's steps, answers, people's messages and MCP tool list in history order: the order the workflow applied them in. */
function foldablesOf(run: RunHistory): Foldable[] {
  return [
    ...run.steps.map((step) => ({ eventId: step.completedEventId, event: { step: step.result }, step })),
    ...run.answers.map((a) => ({ eventId: a.eventId, event: { answer: a.answer } })),
    ...run.told.map((m) => ({ eventId: m.eventId, event: { message: m.message } })),
    ...(run.mcpTools ? [{ eventId: run.mcpTools.eventId, event: { mcpTools: run.mcpTools.specs } }] : []),
  ].sort((x, y) => x.eventId - y.eventId);
}

/** One foldable applied, with the workflow's own function. */
const fold = (state: TeamState, e: Foldable): TeamState => apply(state, e.event);

/**
 * The team's state in a run just before `eventId` (everything when omitted): its input, with every step and
 * every answer recorded before that event, folded with the workflow's own reducer. Null for a run without
 * a recorded input.
 */
export function stateAt(run: RunHistory, eventId = Number.POSITIVE_INFINITY): TeamState | null {
  let state = initialStateOf(run);
  if (!state) return null;
  for (const e of foldablesOf(run)) {
    if (e.eventId >= eventId) break;
    state = fold(state, e);
  }
  return state;
}

/** The usage of a state, as checkpoints and outcomes report it. */
export function usageOf(state: TeamState): Usage {
  const { promptTokens, completionTokens, llmCalls, costUsd } = state.usage;
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, llmCalls, costUsd };
}

/**
 * The destructive tool calls a resume from the checkpoint at `eventId` would run again: those that completed
 * after it, and those that never completed (one that may have started). A pending call at the reset point is
 * dispatched again by the server, so "scheduled before" does not save it.
 */
export function destructiveCallsAfter(run: RunHistory, eventId: number): RecordedToolCall[] {
  return run.toolCalls.filter(
    (t) => t.request.spec.sideEffects === 'destructive' && (t.completedEventId === null || t.completedEventId > eventId),
  );
}
