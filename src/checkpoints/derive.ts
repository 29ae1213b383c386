/**
 * Checkpoints, in Temporal terms. A checkpoint is the durable point right after an agent step completed:
 * the WorkflowTaskCompleted event that follows the step's ActivityTaskCompleted, a valid reset point. The
 * first WorkflowTaskCompleted (before any agent ran) is the entry checkpoint. This module names them in a
 * run's history; ./store.ts lists, loads and resumes them through a client.
 */
import type { TeamState } from '../../workflows/state';
import type { StepKind, StepResult } from '../../workflows/types';
import type { RunHistory, RunStatus } from '../history/reader';
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
}

/** Where a restored run came from: the exported checkpoint whose steps seeded it. */
export interface RestoreOrigin {
  checkpointId: string;
  workflowId: string;
  runId: string;
  /** Steps carried over (they were not executed by this run). */
  steps: number;
}

/** The steps a run was seeded with (0 unless it was restored from an export). */
export function seededSteps(run: RunHistory): StepResult[] {
  return run.input?.restore?.steps ?? [];
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
  const restoredFrom: RestoreOrigin | undefined = restore
    ? { checkpointId: restore.checkpointId, workflowId: restore.workflowId, runId: restore.runId, steps: seed.length }
    : undefined;
  const base = {
    workflowId: run.workflowId,
    runId: run.runId,
    runStatus: run.status,
    ...(resetFrom ? { resetFrom } : {}),
    ...(restoredFrom ? { restoredFrom } : {}),
  };
  const usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, llmCalls: 0 };
  const count = (r: StepResult): void => {
    usage.promptTokens += r.usage.promptTokens;
    usage.completionTokens += r.usage.completionTokens;
    usage.totalTokens = usage.promptTokens + usage.completionTokens;
    usage.llmCalls += 1;
  };
  seed.forEach(count);
  const last = seed[seed.length - 1];
  const list: Checkpoint[] = [];
  const at = (
    eventId: number,
    step: number,
    when: Date | null,
  ): Pick<Checkpoint, 'checkpointId' | 'shortId' | 'eventId' | 'step' | 'createdAt'> => ({
    checkpointId: encodeCheckpointId({ namespace, workflowId: run.workflowId, runId: run.runId, eventId }),
    shortId: shortCheckpointId(
      { workflowId: run.workflowId, runId: run.runId, step },
      options.latest ?? false,
      options.siblings,
    ),
    eventId,
    step,
    createdAt: when?.toISOString() ?? null,
  });
  const after = (r: StepResult | undefined): Pick<Checkpoint, 'agent' | 'kind' | 'round' | 'replan'> => ({
    agent: r?.agent ?? null,
    kind: r?.kind ?? null,
    round: r?.round ?? 0,
    ...(r?.replan ? { replan: true } : {}),
  });
  if (run.entryEventId !== null) {
    list.push({ ...base, ...at(run.entryEventId, seed.length, run.startedAt), ...after(last), usage: { ...usage } });
  }
  run.steps.forEach((s, i) => {
    count(s.result);
    if (s.checkpointEventId === null) return; // the run closed (or is still deciding) right after this step
    list.push({
      ...base,
      ...at(s.checkpointEventId, seed.length + i + 1, s.completedAt),
      ...after(s.result),
      usage: { ...usage },
    });
  });
  return list;
}

