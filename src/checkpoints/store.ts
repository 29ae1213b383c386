/**
 * The checkpoint store: history is the store. list = read runs' histories and name their checkpoints; load =
 * fold the step results up to a checkpoint with the workflow's own reducer; reset = ResetWorkflowExecution to
 * the checkpoint: the new run keeps every step up to it and redoes only what came after. Resets form a chain
 * that history records (WorkflowTaskFailed, cause RESET_WORKFLOW, with the base run id), whether they were
 * made here or with `temporal workflow reset`.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import Long from 'long';
import { temporal } from '@temporalio/proto';
import { VISIBILITY_STATUS, WORKFLOW_TYPE } from '../shared/constants';
import { DecryptionError, InvalidCheckpointError, RunStillRunningError, errorMessage } from '../shared/errors';
import { mapLimit, queryString } from '../shared/util';
import { requester } from '../shared/user';
import { previousTurnRun } from '../conversation/turns';
import { readRun, readRuns, runsOf, type RunHistory, type RunStatus } from '../history/reader';
import { checkpointsOf, stateAt, whyNoCheckpoint, type Checkpoint, type LoadedCheckpoint } from './derive';
import { parseCheckpointId, type CheckpointRef, type ShortCheckpointRef } from './ids';

export interface ListOptions {
  workflowId?: string;
  status?: RunStatus[];
  /** At most this many runs. @default 20 */
  limit?: number;
  /** Called for each run skipped because it is encrypted with a key this client lacks. */
  onUndecryptable?: (workflowId: string, runId: string, err: DecryptionError) => void;
}

/** One run and its checkpoints (oldest first). */
export interface RunCheckpoints {
  workflowId: string;
  runId: string;
  status: RunStatus;
  task: string;
  /** When this run was created: its start, or for a run made by a reset, the reset. */
  createdAt: string | null;
  /** It is its workflow's latest run (a resume would reset from it). */
  latest: boolean;
  checkpoints: Checkpoint[];
}

/**
 * How many runs a listing reads from the server at once: the default 20 all together (20 histories took 24 ms
 * at once, 32 ms eight at a time, 40 four at a time on the embedded server), a longer listing in bounded waves.
 */
const READS_AT_ONCE = 32;

/** Keeps a run read (not null) in one of `options.status`, or any run when no status is asked for. */
const inStatus =
  (options: ListOptions) =>
  (run: RunHistory | null): run is RunHistory =>
    run !== null && (!options.status || options.status.includes(run.status));

/** Reads, lists and resumes checkpoints through a Temporal client. */
export class CheckpointStore {
  constructor(
    protected readonly client: Client,
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

  /** Throws {@link RunStillRunningError} when the workflow's latest run is running (a reset would terminate it). */
  async assertNotRunning(workflowId: string): Promise<void> {
    const current = await this.client.workflow.getHandle(workflowId).describe();
    if (current.status.name === 'RUNNING') {
      throw new RunStillRunningError(
        `workflow "${workflowId}" is running (run ${current.runId}), and a resume would end it: see it through, ` +
          'or cancel it first',
        {
          next: [
            { purpose: 'see it through', args: ['follow', workflowId] },
            { purpose: 'or cancel it first', args: ['cancel', workflowId] },
          ],
        },
      );
    }
  }

  /** The runs of a workflow id (every run of its reset chain), newest first. */
  runsOf(workflowId: string): Promise<string[]> {
    return runsOf(this.client, workflowId);
  }

  /**
   * Runs with their checkpoints, newest first: every run of `workflowId`, or the most recent runs of the team's
   * workflow type. `status` keeps runs in those states (e.g. ['FAILED']); `limit` is the number of runs returned.
   */
  async listRuns(options: ListOptions = {}): Promise<RunCheckpoints[]> {
    const limit = options.limit ?? 20;
    const wanted = inStatus(options);
    let found: RunHistory[];
    let latest: Map<string, string>;
    if (options.workflowId) {
      // One workflow: every run of it, read where it is certain (the server and history, not visibility alone).
      found = (await readRuns(this.client, options.workflowId)).filter(wanted).reverse().slice(0, limit);
      latest = await this.latestRunIds([options.workflowId]);
    } else {
      ({ found, latest } = await this.recentRuns(options, limit));
    }
    // Short ids name the latest run of a workflow without a run prefix.
    return found
      .map((run) => ({
        workflowId: run.workflowId,
        runId: run.runId,
        status: run.status,
        // A follow-up's run is about its follow-up (the conversation's first task is in its earlier turns).
        task: run.input?.followUp?.task ?? run.input?.task ?? '',
        createdAt: run.createdAt?.toISOString() ?? null,
        latest: latest.get(run.workflowId) === run.runId,
        checkpoints: checkpointsOf(run, this.namespace, {
          latest: latest.get(run.workflowId) === run.runId,
          siblings: found.filter((r) => r.workflowId === run.workflowId).map((r) => r.runId),
        }),
      }))
      // Runs of one reset chain share their start time in visibility: order by when each run was created.
      .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  }

  /**
   * The most recent runs of the team's workflow type, from visibility, plus each listed workflow's latest run when
   * visibility has not caught up with it yet (a run a resume made a moment ago).
   */
  private async recentRuns(
    options: ListOptions,
    limit: number,
  ): Promise<{ found: RunHistory[]; latest: Map<string, string> }> {
    const query = [
      `WorkflowType = ${queryString(WORKFLOW_TYPE)}`,
      ...(options.status?.length
        ? [`ExecutionStatus IN (${options.status.map((s) => queryString(VISIBILITY_STATUS[s])).join(', ')})`]
        : []),
    ].join(' AND ');
    const wanted = inStatus(options);
    const read = async (workflowId: string, runId: string): Promise<RunHistory | null> => {
      try {
        return (await readRun(this.client, workflowId, runId)).run;
      } catch (err) {
        // One encrypted run must not hide the others: skip it, and say so.
        if (!(err instanceof DecryptionError)) throw err;
        options.onUndecryptable?.(workflowId, runId, err);
        return null;
      }
    };
    // Pages the size of what is asked: listing the newest runs costs the same among ten thousand as among ten.
    // Their histories are read at once (up to READS_AT_ONCE), in visibility's order (newest first).
    const listed = this.client.workflow.list({ query, pageSize: limit })[Symbol.asyncIterator]();
    const found: RunHistory[] = [];
    for (let more = true; more && found.length < limit; ) {
      const batch: { workflowId: string; runId: string }[] = [];
      while (batch.length < limit - found.length) {
        const next = await listed.next();
        if (next.done) {
          more = false;
          break;
        }
        batch.push(next.value);
      }
      // The visibility store can lag a moment behind a run that just closed: history has the last word.
      found.push(...(await mapLimit(batch, READS_AT_ONCE, (wf) => read(wf.workflowId, wf.runId))).filter(wanted));
    }
    // A running run is its workflow's latest (one run of an id is open at a time): the server is asked only
    // about the others, whose workflow may have a newer run than visibility shows yet.
    const running = new Map(found.filter((r) => r.status === 'RUNNING').map((r) => [r.workflowId, r.runId]));
    const latest = new Map([
      ...running,
      ...(await this.latestRunIds(found.map((r) => r.workflowId).filter((id) => !running.has(id)))),
    ]);
    const missing = [...latest].filter(([, runId]) => !found.some((r) => r.runId === runId));
    found.push(...(await mapLimit(missing, READS_AT_ONCE, ([id, runId]) => read(id, runId))).filter(wanted));
    return {
      found: found.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0)).slice(0, limit),
      latest,
    };
  }

  /** Checkpoints newest first, of the runs {@link listRuns} returns. */
  async list(options: ListOptions = {}): Promise<Checkpoint[]> {
    const runs = await this.listRuns(options);
    return runs
      .flatMap((r) => [...r.checkpoints].reverse())
      .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.eventId - a.eventId);
  }

  /**
   * A checkpoint and the full state at it, from a full id (`cp2_…`) or a short form (`<workflowId>@<step>`,
   * `<workflowId>@<step>~<run>`). Throws {@link InvalidCheckpointError} for a damaged, unknown or foreign id:
   * it never resolves an id to another checkpoint.
   */
  async load(checkpointId: string): Promise<LoadedCheckpoint> {
    return (await this.locate(checkpointId)).checkpoint;
  }

  /** {@link load}, with the run the checkpoint belongs to (its history read once, for a fork's seed). */
  async locate(checkpointId: string): Promise<{ checkpoint: LoadedCheckpoint; run: RunHistory }> {
    const parsed = parseCheckpointId(checkpointId);
    if (parsed.kind === 'short') return this.loadShort(checkpointId, parsed.ref);
    const ref = parsed.ref;
    this.check(ref, checkpointId);
    let run: RunHistory;
    try {
      ({ run } = await readRun(this.client, ref.workflowId, ref.runId));
    } catch (err) {
      if (err instanceof DecryptionError) throw err;
      throw new InvalidCheckpointError(
        checkpointId,
        `no run ${ref.runId} of workflow "${ref.workflowId}" in namespace "${this.namespace}" (${errorMessage(err)})`,
        { cause: err, next: [{ purpose: 'list the checkpoints here', args: ['checkpoints', 'list'] }] },
      );
    }
    const latest = (await this.latestRunIds([ref.workflowId])).get(ref.workflowId) === ref.runId;
    const all = checkpointsOf(run, this.namespace, { latest });
    const checkpoint = all.find((c) => c.eventId === ref.eventId);
    if (!checkpoint) {
      throw new InvalidCheckpointError(
        checkpointId,
        `event ${ref.eventId} of run ${ref.runId} is not a checkpoint (its checkpoints are events ${all.map((c) => c.eventId).join(', ')})`,
      );
    }
    return { checkpoint: this.withState(checkpointId, run, checkpoint), run };
  }

  private async loadShort(
    text: string,
    ref: ShortCheckpointRef,
  ): Promise<{ checkpoint: LoadedCheckpoint; run: RunHistory }> {
    const runs = await readRuns(this.client, ref.workflowId);
    const listThem = { next: [{ purpose: 'list its runs', args: ['checkpoints', 'list', '-w', ref.workflowId] }] };
    if (runs.length === 0) {
      throw new InvalidCheckpointError(text, `no workflow "${ref.workflowId}" in namespace "${this.namespace}"`, {
        next: [{ purpose: 'list the workflows here', args: ['checkpoints', 'list'] }],
      });
    }
    const latest = runs[runs.length - 1]!;
    let run = latest;
    if (ref.runPrefix) {
      const matching = runs.filter((r) => r.runId.toLowerCase().startsWith(ref.runPrefix!));
      if (matching.length === 0) {
        throw new InvalidCheckpointError(
          text,
          `no run of "${ref.workflowId}" starts with "${ref.runPrefix}" (its runs: ${runs.map((r) => r.runId).join(', ')})`,
          listThem,
        );
      }
      if (matching.length > 1) {
        throw new InvalidCheckpointError(
          text,
          `"${ref.runPrefix}" starts ${matching.length} runs of "${ref.workflowId}" (${matching.map((r) => r.runId).join(', ')}): give more of the run id`,
        );
      }
      run = matching[0]!;
    }
    // A step of an earlier turn of a conversation (`ask`) is a checkpoint of the turn's own run: without `~<run>`,
    // follow the latest run's turns back to the one that took that step.
    const siblings = runs.map((r) => r.runId);
    let all = checkpointsOf(run, this.namespace, { latest: run === latest, siblings });
    let checkpoint = all.find((c) => c.step === ref.step);
    for (let prev = previousTurnRun(run); !ref.runPrefix && !checkpoint && prev && ref.step <= prev.step; ) {
      const earlier = runs.find((r) => r.runId === prev!.runId);
      if (!earlier) break;
      run = earlier;
      all = checkpointsOf(run, this.namespace, { latest: false, siblings });
      checkpoint = all.find((c) => c.step === ref.step);
      prev = previousTurnRun(run);
    }
    if (!checkpoint) {
      const { why, next } = whyNoCheckpoint(run, ref.step, all);
      // A conversation: the steps before this turn are checkpoints of the earlier turns' runs.
      const earlier = previousTurnRun(run)?.step;
      throw new InvalidCheckpointError(text, earlier ? `${why}; its earlier turns have @0 to @${earlier}` : why, {
        next,
      });
    }
    return { checkpoint: this.withState(text, run, checkpoint), run };
  }

  private withState(text: string, run: RunHistory, checkpoint: Checkpoint): LoadedCheckpoint {
    // Every step and every answer (gates) recorded before the checkpoint's event, folded by the workflow's reducer.
    const state = stateAt(run, checkpoint.eventId);
    if (!state) throw new InvalidCheckpointError(text, 'the run has no recorded input');
    return { ...checkpoint, state };
  }

  /** The latest run of each workflow. */
  private async latestRunIds(workflowIds: string[]): Promise<Map<string, string>> {
    const ids = [...new Set(workflowIds)];
    const runIds = await mapLimit(ids, READS_AT_ONCE, (id) =>
      this.client.workflow
        .getHandle(id)
        .describe()
        .then((d) => d.runId)
        // gone (deleted or past retention): no run of it is the latest
        .catch(() => null),
    );
    return new Map(ids.flatMap((id, i) => (runIds[i] ? [[id, runIds[i]] as [string, string]] : [])));
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
    await this.assertNotRunning(checkpoint.workflowId);
    const response = await this.client.workflowService.resetWorkflowExecution({
      namespace: this.namespace,
      workflowExecution: { workflowId: checkpoint.workflowId, runId: checkpoint.runId },
      workflowTaskFinishEventId: Long.fromNumber(checkpoint.eventId),
      // Who asked goes first, as `temporal workflow reset` writes it: history keeps the reason, not the caller.
      reason: `${requester()}: ${reason ?? `agent-team resume from checkpoint at step ${checkpoint.step}`}`,
      requestId: randomUUID(),
      // Answers given after the checkpoint (Updates) are not re-applied: a resume from before a gate asks again.
      resetReapplyExcludeTypes: [temporal.api.enums.v1.ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE],
      identity: this.client.options.identity ?? requester(),
    });
    return { checkpoint, runId: response.runId ?? '' };
  }
}

