/**
 * Runs: start one (on a task, or on any input: a restore, a fork), follow one, resume one from a checkpoint,
 * cancel or terminate one. Each follows the run to its end, telling what happens as {@link RunEvent}s, and hosts
 * the worker that runs its steps when it should (see the workers sub-client).
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { agentTeamWorkflow } from '../../workflows';
import type { ForkOrigin, TeamInput } from '../../workflows/types';
import { destructiveCallsAfter, type Checkpoint, type LoadedCheckpoint } from '../checkpoints/derive';
import { resetCommand } from '../checkpoints/ids';
import { teamInputFor, validateTask } from '../config';
import { readRun } from '../history/reader';
import {
  IncompatibleCodeError,
  InterruptedError,
  RunClosedError,
  SideEffectsError,
  UsageError,
  errorMessage,
  rootCause,
} from '../shared/errors';
import { GrpcStatus, grpcStatusOf } from '../shared/grpc';
import { requester } from '../shared/user';
import { oneLine } from '../shared/util';
import { isOwnTaskQueue, ownTaskQueue } from '../temporal/names';
import type { CheckpointsClient } from './checkpoints';
import { newWorkflowId, type ClientContext } from './context';
import type { ExecuteOptions, RunEvent } from './events';
import { followToEnd, type FollowOptions } from './follow';
import type { HistoryClient } from './history';
import { reuseOf, type ResumeOutcome, type RunOutcome } from './outcome';
import type { PeopleClient } from './people';
import type { WorkersClient } from './workers';

export interface ResumeOptions extends ExecuteOptions {
  /** Skip the replay check (reset even onto code that cannot replay the kept history). */
  force?: boolean;
  /** Check against this workflows module instead of the project's (the code your workers run). */
  workflowsPath?: string;
  /** Resume even when that runs destructive tool calls again (they are listed, and refused without this). */
  repeatSideEffects?: boolean;
}

/** What a fork's memo says of its origin (the checkpoint, the edits; the note is in its input). */
export const forkMemo = (
  fork: ForkOrigin,
): { workflowId: string; runId: string; step: number; checkpointId: string; edits: string[] } => ({
  workflowId: fork.workflowId,
  runId: fork.runId,
  step: fork.step,
  checkpointId: fork.checkpointId,
  edits: fork.edits,
});

/** Whether a run of this input may wait on a person (a gate or a budget is set). */
const hasGates = (input: TeamInput): boolean =>
  Boolean(
    input.gates?.planReview ||
    input.gates?.approveFinalAnswer ||
    input.gates?.approveSteps?.length ||
    input.budget?.maxUsd != null ||
    input.budget?.maxTokens != null,
  );

export class RunsClient {
  constructor(
    private readonly ctx: ClientContext,
    private readonly workers: WorkersClient,
    private readonly people: PeopleClient,
    private readonly checkpoints: CheckpointsClient,
    private readonly history: HistoryClient,
  ) {}

  /** The workflow input for `task` under this configuration (throws {@link UsageError} for a bad task). */
  inputFor(task: string, overrides: Partial<TeamInput> = {}): TeamInput {
    return { ...teamInputFor(validateTask(task), this.ctx.config), ...overrides };
  }

  /** Starts a run and returns at once; throws {@link UsageError} for a workflow id that is running or refused. */
  async start(
    input: TeamInput,
    options: { workflowId?: string; taskQueue?: string } = {},
  ): Promise<{ workflowId: string; runId: string }> {
    const workflowId = options.workflowId ?? newWorkflowId();
    if (input.waitingAttribute === undefined && hasGates(input) && (await this.ctx.hasWaitingAttribute())) {
      input = { ...input, waitingAttribute: true };
    }
    try {
      const handle = await this.ctx.temporal.workflow.start(agentTeamWorkflow, {
        taskQueue: options.taskQueue ?? this.ctx.taskQueue,
        workflowId,
        args: [input],
        staticSummary: input.followUp
          ? `Agent team, follow-up: ${input.followUp.task.replace(/\s+/g, ' ').slice(0, 110)}`
          : `Agent team: ${input.task.replace(/\s+/g, ' ').slice(0, 120)}`,
        // A fork says where it came from where the Web UI and `temporal workflow describe` show it.
        ...(input.fork ? { memo: { forkOf: forkMemo(input.fork) } } : {}),
      });
      return { workflowId, runId: handle.firstExecutionRunId };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new UsageError(
          `a run with workflow id "${workflowId}" is already running: pick another id, or wait for it`,
          {
            cause: err,
          },
        );
      }
      if (grpcStatusOf(err) === GrpcStatus.INVALID_ARGUMENT) {
        // Temporal's own reason (an id too long, say): nothing was started.
        const reason = errorMessage(rootCause(err) ?? err).replace(/^\d+ INVALID_ARGUMENT: /, '');
        throw new UsageError(
          `Temporal refused to start workflow id "${oneLine(workflowId, 60)}" (${Buffer.byteLength(workflowId)} bytes): ${reason}`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** Starts a run of the team on `task` and follows it to its end. */
  run(
    task: string,
    options: ExecuteOptions & { workflowId?: string; input?: Partial<TeamInput> } = {},
  ): Promise<RunOutcome> {
    return this.execute(this.inputFor(task, options.input), options);
  }

  /**
   * Starts a run of `input` (a task's, a restore's, a fork's) and follows it: on a task queue of its own, served by
   * a worker of this process, unless `worker: false` (then on the shared queue that `agent-team worker` serves).
   */
  async execute(input: TeamInput, options: ExecuteOptions & { workflowId?: string } = {}): Promise<RunOutcome> {
    const workflowId = options.workflowId ?? newWorkflowId();
    const taskQueue = options.worker === false ? this.ctx.taskQueue : ownTaskQueue(this.ctx.taskQueue, workflowId);
    const serve = options.worker === false ? null : { taskQueue, reason: 'own-queue' as const };
    return this.finish(
      options,
      await this.workers.hosting(options, serve, async () => {
        if (options.signal?.aborted) throw new InterruptedError();
        const { runId } = await this.start(input, { workflowId, taskQueue });
        return this.follow(workflowId, runId, taskQueue, serve !== null, options);
      }),
    );
  }

  /**
   * Attaches to a workflow's latest run: its steps so far and as they complete, hosting a worker for it when it
   * needs one (see {@link ExecuteOptions.worker}). A closed run is summarised at once.
   */
  async attach(workflowId: string, options: ExecuteOptions = {}): Promise<RunOutcome> {
    const { runId, taskQueue, status } = await this.ctx.describe(workflowId);
    const serve = status === 'RUNNING' ? await this.workers.queueToServe(taskQueue, workflowId, options) : null;
    return this.finish(
      options,
      await this.workers.hosting(options, serve, () =>
        this.follow(workflowId, runId, taskQueue, serve !== null, options),
      ),
    );
  }

  /**
   * Asks a running run to stop (Temporal's cancel): its step in flight is cancelled, it records where it
   * stopped and ends CANCELED; its last checkpoint stays resumable. Refuses a closed run
   * ({@link RunClosedError}). With `wait`, follows it to its end (hosting a worker when it needs one).
   */
  async cancel(workflowId: string, options: ExecuteOptions & { wait?: boolean } = {}): Promise<RunOutcome | null> {
    const { runId, taskQueue, status } = await this.ctx.describe(workflowId);
    if (status !== 'RUNNING')
      throw new RunClosedError(`run ${runId} of "${workflowId}" is ${status}: there is nothing to cancel`);
    await this.ctx.temporal.workflow.getHandle(workflowId, runId).cancel();
    if (!options.wait) return null;
    const serve = await this.workers.queueToServe(taskQueue, workflowId, options);
    return this.finish(
      options,
      await this.workers.hosting(options, serve, () =>
        this.follow(workflowId, runId, taskQueue, serve !== null, options),
      ),
    );
  }

  /**
   * Ends a running run at once (Temporal's terminate), recording who asked and why. Refuses a closed run. Returns
   * the run and its last checkpoint, from which it resumes.
   */
  async terminate(workflowId: string, reason: string): Promise<{ runId: string; lastCheckpoint: Checkpoint | null }> {
    const { runId, status } = await this.ctx.describe(workflowId);
    if (status !== 'RUNNING')
      throw new RunClosedError(`run ${runId} of "${workflowId}" is ${status}: there is nothing to terminate`);
    await this.ctx.temporal.workflow.getHandle(workflowId, runId).terminate(`${requester()}: ${reason}`);
    const [run] = await this.checkpoints.listRuns({ workflowId, limit: 1 });
    const last = run?.runId === runId ? run.checkpoints.at(-1) : undefined;
    return { runId, lastCheckpoint: last ?? null };
  }

  /**
   * Resumes from a checkpoint: resets the workflow there (refusing, before anything changes, a running workflow, an
   * invalid id, destructive tool calls that would run again, code that cannot replay the kept history, and a run no
   * worker would serve) and follows the new run. Steps up to the checkpoint are reused, not re-sent.
   */
  async resume(checkpointId: string, options: ResumeOptions = {}): Promise<ResumeOutcome> {
    const emit = (event: RunEvent): void => options.onEvent?.(event);
    const loaded = await this.checkpoints.load(checkpointId);
    await this.checkpoints.assertNotRunning(loaded.workflowId);
    // A reset keeps the task queue of the run it resets. A run's own queue (runs `run` started have one) is served
    // by the process that follows it: without a worker here, only a worker already on that queue would serve it.
    const { taskQueue } = await this.ctx.describe(loaded.workflowId, loaded.runId);
    if (
      options.worker === false &&
      isOwnTaskQueue(taskQueue, loaded.workflowId) &&
      (await this.workers.pollersOf(taskQueue)) === 0
    ) {
      throw new UsageError(
        `the steps of ${loaded.workflowId} go to its own task queue "${taskQueue}" (a run \`run\` started has one), ` +
          'and no worker polls it: without a worker here, nothing would run them. Nothing was changed. Serve the ' +
          'queue first, or resume with a worker here (leave out --no-worker)',
        { next: [{ purpose: 'serve the queue, in another shell', args: ['worker', '--task-queue', taskQueue] }] },
      );
    }
    if (!options.repeatSideEffects) await this.refuseRepeatedSideEffects(loaded);
    if (!options.force) {
      const report = await this.history.replayUpTo(loaded, options.workflowsPath);
      emit({ type: 'replay-checked', report });
      if (!report.compatible) {
        throw new IncompatibleCodeError(
          `the workflow code does not replay the history this resume would keep (step ${loaded.step} of ${loaded.workflowId}` +
            `${report.divergingEventId ? `: it diverges at event ${report.divergingEventId}, ${report.divergingEventType}` : ''}); ` +
            'the new run would fail on its first workflow task. Nothing was changed. Run code compatible with this run ' +
            '(versioning with patched() in docs/design-decisions.md), or pass --force to reset anyway',
          {
            next: [{ purpose: 'see where it diverges', args: ['replay', loaded.workflowId, '--run-id', loaded.runId] }],
          },
        );
      }
    }
    const command = resetCommand({ namespace: this.ctx.namespace, ...loaded });
    const serve = await this.workers.queueToServe(taskQueue, loaded.workflowId, options);
    const outcome = await this.workers.hosting(options, serve, async () => {
      if (options.signal?.aborted) throw new InterruptedError();
      const { checkpoint, runId } = await this.checkpoints.reset(loaded);
      emit({ type: 'reset', checkpoint, resetCommand: command });
      const followed = await this.follow(checkpoint.workflowId, runId, taskQueue, serve !== null, {
        ...options,
        reused: (step) => step.completedEventId < checkpoint.eventId,
      });
      const { state: _state, ...resumedFrom } = checkpoint;
      return {
        ...followed,
        resumedFrom,
        resetCommand: command,
        ...reuseOf(checkpoint, followed.steps.filter((s) => s.step > checkpoint.step).length),
      };
    });
    return this.finish(options, outcome);
  }

  /** Refuses ({@link SideEffectsError}) a resume that would run destructive tool calls again. */
  private async refuseRepeatedSideEffects(loaded: LoadedCheckpoint): Promise<void> {
    const { run } = await readRun(this.ctx.temporal, loaded.workflowId, loaded.runId);
    const again = destructiveCallsAfter(run, loaded.eventId);
    if (again.length === 0) return;
    const calls = again.map((t) => ({
      tool: t.request.call.name,
      step: t.request.stepIndex + 1,
      agent: t.request.agent,
      arguments: t.request.call.arguments,
      idempotencyKey: t.request.idempotencyKey,
      completed: t.completedEventId !== null,
    }));
    const after = run.toolCalls
      .filter((t) => again.includes(t) && t.completedEventId !== null)
      .map((t) => t.request.stepIndex + 1);
    throw new SideEffectsError(
      `resuming ${loaded.workflowId} from step ${loaded.step} would run again ${calls.length} destructive tool ` +
        `call${calls.length === 1 ? '' : 's'} this run made after that checkpoint:\n` +
        calls
          .map(
            (c) =>
              `  step ${c.step} · ${c.agent} · ${c.tool} ${oneLine(c.arguments).slice(0, 60)} ` +
              `(${c.completed ? 'done' : 'may have started'}; key ${c.idempotencyKey})`,
          )
          .join('\n') +
        `\nNothing was changed. Check what they did, then pass --repeat-side-effects to resume anyway` +
        (after.length ? `, or resume from a checkpoint after step ${Math.max(...after)}` : ''),
      calls,
    );
  }

  /** Follows a run to its end (see {@link followToEnd}), having said that it is followed. */
  private follow(
    workflowId: string,
    runId: string,
    taskQueue: string,
    hostsWorker: boolean,
    options: FollowOptions,
  ): Promise<RunOutcome> {
    options.onEvent?.({ type: 'started', workflowId, runId, taskQueue });
    return followToEnd(this.ctx, (wf, answer, how) => this.people.respond(wf, answer, how), workflowId, runId, {
      ...options,
      taskQueue,
      hostsWorker,
    });
  }

  private finish<T extends RunOutcome>(options: ExecuteOptions, outcome: T): T {
    options.onEvent?.({ type: 'finished', outcome });
    return outcome;
  }
}
