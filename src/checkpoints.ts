/**
 * Checkpoints, in Temporal terms. A checkpoint is the durable point right after an agent step completed:
 * the WorkflowTaskCompleted event that follows the step's ActivityTaskCompleted, a valid reset point. The
 * first WorkflowTaskCompleted (before any agent ran) is the entry checkpoint. History is the store:
 * - list  = read runs' histories and name their checkpoints;
 * - load  = fold the step results up to a checkpoint with the workflow's own reducer;
 * - resume = ResetWorkflowExecution to the checkpoint: the new run keeps every step up to it and redoes
 *   only what came after. Resets form a chain that history records (WorkflowTaskFailed, cause RESET_WORKFLOW,
 *   with the base run id), whether they were made here or with `temporal workflow reset`.
 */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Client } from '@temporalio/client';
import Long from 'long';
import { initialState, reduce, type TeamState } from '../workflows/state';
import type { StepKind, StepResult, TokenUsage } from '../workflows/types';
import { DecryptionError } from './codec';
import { UsageError } from './errors';
import { readRun, type RunHistory, type RunStatus } from './history';

/** What a checkpoint id stands for. */
export interface CheckpointRef {
  namespace: string;
  workflowId: string;
  runId: string;
  eventId: number;
}

/** Where a run came from, when it was made by a reset. */
export interface ResetOrigin {
  runId: string;
  eventId: number;
  checkpointId: string;
  reason: string;
}

/** One checkpoint, as `listCheckpoints` and `checkpoints list --json` return it. */
export interface Checkpoint {
  checkpointId: string;
  workflowId: string;
  runId: string;
  /** The WorkflowTaskCompleted event: `temporal workflow reset -e <eventId>`. */
  eventId: number;
  /** Steps completed at this point (0 = the entry checkpoint, before any agent ran). */
  step: number;
  /** The agent whose step just completed (null at the entry checkpoint). */
  agent: string | null;
  kind: StepKind | null;
  round: number;
  createdAt: string | null;
  runStatus: RunStatus;
  /** Usage of all steps up to this point: what resuming from here does not pay again. */
  usage: TokenUsage & { totalTokens: number; llmCalls: number };
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

/** A malformed, unknown or foreign checkpoint id. Thrown before anything changes. */
export class InvalidCheckpointError extends UsageError {
  override name = 'InvalidCheckpointError';
  constructor(
    readonly checkpointId: string,
    why: string,
  ) {
    super(`checkpoint "${checkpointId}": ${why}`);
  }
}

/** Resuming was refused because the workflow is running. */
export class RunStillRunningError extends UsageError {
  override name = 'RunStillRunningError';
}

const PREFIX = 'cp1_';

/** The user asking for a reset, for the audit trail. */
function requester(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The opaque, copy-pasteable id of a checkpoint (URL-safe base64 of namespace, workflow, run and event). */
export function encodeCheckpointId(ref: CheckpointRef): string {
  const raw = [ref.namespace, ref.workflowId, ref.runId, String(ref.eventId)].join('\n');
  return PREFIX + Buffer.from(raw, 'utf8').toString('base64url');
}

/** Decodes a checkpoint id; throws {@link InvalidCheckpointError} saying what is wrong with it. */
export function decodeCheckpointId(id: string): CheckpointRef {
  const trimmed = id.trim();
  if (!trimmed.startsWith(PREFIX)) {
    throw new InvalidCheckpointError(id, `not a checkpoint id (they start with "${PREFIX}"; see \`checkpoints list\`)`);
  }
  const body = trimmed.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body))
    throw new InvalidCheckpointError(id, 'garbled: it has characters a checkpoint id never has');
  const parts = Buffer.from(body, 'base64url').toString('utf8').split('\n');
  const [namespace, workflowId, runId, event] = parts;
  const eventId = Number(event);
  if (parts.length !== 4 || !namespace || !workflowId || !runId || !Number.isInteger(eventId) || eventId < 1) {
    throw new InvalidCheckpointError(
      id,
      'garbled: it does not decode to a workflow, run and event (was it cut short?)',
    );
  }
  return { namespace, workflowId, runId, eventId };
}

/** The Temporal CLI command that performs the same reset. */
export function resetCommand(ref: CheckpointRef, reason = 'resume from checkpoint'): string {
  const q = (s: string): string => (/^[\w.:@/-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return (
    `temporal workflow reset --namespace ${q(ref.namespace)} -w ${q(ref.workflowId)} -r ${q(ref.runId)} ` +
    `-e ${ref.eventId} --reason ${q(reason)}`
  );
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
        checkpointId: encodeCheckpointId({ namespace, workflowId: run.workflowId, runId: failed.baseRunId, eventId }),
        reason: failed.failure?.message ?? '',
      };
    }
  }
  return undefined;
}

/** The checkpoints of one run, oldest first. */
export function checkpointsOf(run: RunHistory, namespace: string): Checkpoint[] {
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
  const at = (eventId: number, when: Date | null): Pick<Checkpoint, 'checkpointId' | 'eventId' | 'createdAt'> => ({
    checkpointId: encodeCheckpointId({ namespace, workflowId: run.workflowId, runId: run.runId, eventId }),
    eventId,
    createdAt: when?.toISOString() ?? null,
  });
  if (run.entryEventId !== null) {
    list.push({
      ...base,
      ...at(run.entryEventId, run.startedAt),
      step: seed.length,
      agent: last?.agent ?? null,
      kind: last?.kind ?? null,
      round: last?.round ?? 0,
      usage: { ...usage },
    });
  }
  run.steps.forEach((s, i) => {
    count(s.result);
    if (s.checkpointEventId === null) return; // the run closed (or is still deciding) right after this step
    list.push({
      ...base,
      ...at(s.checkpointEventId, s.completedAt),
      step: seed.length + i + 1,
      agent: s.result.agent,
      kind: s.result.kind,
      round: s.result.round,
      usage: { ...usage },
    });
  });
  return list;
}

/** Reads, lists and resumes checkpoints through a Temporal client. */
export class CheckpointStore {
  constructor(
    private readonly client: Client,
    readonly namespace: string,
  ) {}

  private check(ref: CheckpointRef, id: string): void {
    if (ref.namespace !== this.namespace) {
      throw new InvalidCheckpointError(
        id,
        `belongs to namespace "${ref.namespace}", but this client is connected to "${this.namespace}" ` +
          '(set TEMPORAL_NAMESPACE, or export it and import it here)',
      );
    }
  }

  /** The runs of a workflow id (every run of its reset chain), newest first. */
  async runsOf(workflowId: string): Promise<string[]> {
    const runs: { runId: string; start: number }[] = [];
    const escaped = workflowId.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    for await (const wf of this.client.workflow.list({ query: `WorkflowId = "${escaped}"` })) {
      runs.push({ runId: wf.runId, start: wf.startTime.getTime() });
    }
    return runs.sort((a, b) => b.start - a.start).map((r) => r.runId);
  }

  /**
   * Checkpoints newest first: of every run of `workflowId`, or of the most recent runs of the team's
   * workflow type. `status` keeps runs in those states (e.g. ['FAILED']); `limit` bounds the number of runs.
   */
  async list(
    options: {
      workflowId?: string;
      status?: RunStatus[];
      limit?: number;
      /** Called for each run skipped because it is encrypted with a key this client lacks. */
      onUndecryptable?: (workflowId: string, runId: string, err: DecryptionError) => void;
    } = {},
  ): Promise<Checkpoint[]> {
    const limit = options.limit ?? 20;
    let runs: { workflowId: string; runId: string }[];
    if (options.workflowId) {
      runs = (await this.runsOf(options.workflowId)).map((runId) => ({ workflowId: options.workflowId!, runId }));
    } else {
      runs = [];
      for await (const wf of this.client.workflow.list({ query: `WorkflowType = "agentTeamWorkflow"` })) {
        runs.push({ workflowId: wf.workflowId, runId: wf.runId });
        if (runs.length >= limit * 5) break;
      }
    }
    const out: Checkpoint[] = [];
    let taken = 0;
    for (const { workflowId, runId } of runs) {
      if (taken >= limit) break;
      let run: RunHistory;
      try {
        ({ run } = await readRun(this.client, workflowId, runId));
      } catch (err) {
        // One encrypted run must not hide the others: skip it, and say so.
        if (!(err instanceof DecryptionError) || options.workflowId) throw err;
        options.onUndecryptable?.(workflowId, runId, err);
        continue;
      }
      if (options.status && !options.status.includes(run.status)) continue;
      taken += 1;
      out.push(...checkpointsOf(run, this.namespace).reverse());
    }
    return out.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.eventId - a.eventId);
  }

  /** A checkpoint and the full state at it; throws {@link InvalidCheckpointError} for an unknown id. */
  async load(checkpointId: string): Promise<LoadedCheckpoint> {
    const ref = decodeCheckpointId(checkpointId);
    this.check(ref, checkpointId);
    let run: RunHistory;
    try {
      ({ run } = await readRun(this.client, ref.workflowId, ref.runId));
    } catch (err) {
      if (err instanceof DecryptionError) throw err;
      throw new InvalidCheckpointError(
        checkpointId,
        `no run ${ref.runId} of workflow "${ref.workflowId}" here (${(err as Error).message})`,
      );
    }
    const all = checkpointsOf(run, this.namespace);
    const checkpoint = all.find((c) => c.eventId === ref.eventId);
    if (!checkpoint) {
      throw new InvalidCheckpointError(
        checkpointId,
        `event ${ref.eventId} of run ${ref.runId} is not a checkpoint (its checkpoints are events ${all.map((c) => c.eventId).join(', ')})`,
      );
    }
    if (!run.input) throw new InvalidCheckpointError(checkpointId, 'the run has no recorded input');
    const state = run.steps
      .slice(0, checkpoint.step - seededSteps(run).length)
      .reduce((s, step) => reduce(s, step.result), initialState(run.input));
    return { ...checkpoint, state };
  }

  /**
   * Resets the workflow to the checkpoint: a new run that keeps every step up to it. Refuses (before
   * changing anything) when the workflow is running, since a reset would terminate it. Takes an id, or a
   * checkpoint the caller already loaded (so its history is not read twice).
   */
  async reset(
    target: string | LoadedCheckpoint,
    reason?: string,
  ): Promise<{ checkpoint: LoadedCheckpoint; runId: string }> {
    const checkpoint = typeof target === 'string' ? await this.load(target) : target;
    const current = await this.client.workflow.getHandle(checkpoint.workflowId).describe();
    if (current.status.name === 'RUNNING') {
      throw new RunStillRunningError(
        `workflow "${checkpoint.workflowId}" is running (run ${current.runId}): wait for it to finish, or terminate it, ` +
          'before resuming from a checkpoint',
      );
    }
    const response = await this.client.workflowService.resetWorkflowExecution({
      namespace: this.namespace,
      workflowExecution: { workflowId: checkpoint.workflowId, runId: checkpoint.runId },
      workflowTaskFinishEventId: Long.fromNumber(checkpoint.eventId),
      // Who asked goes first, as `temporal workflow reset` writes it: history keeps the reason, not the caller.
      reason: `${requester()}: ${reason ?? `agent-team resume from checkpoint at step ${checkpoint.step}`}`,
      requestId: randomUUID(),
      identity: this.client.options.identity ?? requester(),
    });
    return { checkpoint, runId: response.runId ?? '' };
  }
}

/** What changed between two checkpoints' states (`checkpoints diff`). */
export interface CheckpointDiff {
  from: { checkpointId: string; step: number; runId: string };
  to: { checkpointId: string; step: number; runId: string };
  /** True when `to` continues `from` (the same conversation up to `from`). */
  sameLineage: boolean;
  /** Messages in `to` that are not in `from` (by position), and those of `from` that `to` does not share. */
  messagesAdded: TeamState['messages'];
  messagesDropped: TeamState['messages'];
  planChanged: boolean;
  plan: { from: string | null; to: string | null };
  phase: { from: string; to: string };
  round: { from: number; to: number };
  stallCount: { from: number; to: number };
  replans: { from: number; to: number };
  tokens: { from: number; to: number; delta: number };
  llmCalls: { from: number; to: number; delta: number };
}

/** Compares the states of two loaded checkpoints (of the same run, the same reset chain, or any two). */
export function diffCheckpoints(a: LoadedCheckpoint, b: LoadedCheckpoint): CheckpointDiff {
  const same = (x: TeamState['messages'][number], y: TeamState['messages'][number]): boolean =>
    x.kind === y.kind && x.agent === y.agent && x.round === y.round && x.content === y.content;
  let shared = 0;
  while (
    shared < a.state.messages.length &&
    shared < b.state.messages.length &&
    same(a.state.messages[shared]!, b.state.messages[shared]!)
  )
    shared++;
  const tokens = (s: TeamState): number => s.usage.promptTokens + s.usage.completionTokens;
  const ref = (c: LoadedCheckpoint) => ({ checkpointId: c.checkpointId, step: c.step, runId: c.runId });
  return {
    from: ref(a),
    to: ref(b),
    sameLineage: a.state.task === b.state.task && shared === a.state.messages.length,
    messagesAdded: b.state.messages.slice(shared),
    messagesDropped: a.state.messages.slice(shared),
    planChanged: a.state.plan !== b.state.plan,
    plan: { from: a.state.plan, to: b.state.plan },
    phase: { from: a.state.phase, to: b.state.phase },
    round: { from: a.state.round, to: b.state.round },
    stallCount: { from: a.state.stallCount, to: b.state.stallCount },
    replans: { from: a.state.replans, to: b.state.replans },
    tokens: { from: tokens(a.state), to: tokens(b.state), delta: tokens(b.state) - tokens(a.state) },
    llmCalls: {
      from: a.state.usage.llmCalls,
      to: b.state.usage.llmCalls,
      delta: b.state.usage.llmCalls - a.state.usage.llmCalls,
    },
  };
}
