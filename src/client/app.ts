/**
 * The client module: one object that knows the configuration and the Temporal connection, and does what the
 * CLI's commands and the library ask: start, follow and resume runs, host workers, list and load
 * checkpoints, export, import, prune, audit and replay. Commands are thin wrappers over it.
 */
import { randomBytes } from 'node:crypto';
import { cliCommand } from '../shared/invocation';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { agentTeamWorkflow } from '../../workflows';
import type { TeamInput } from '../../workflows/types';
import { exportWorkflow, restoreInput, type ExportFile, type LoadedExport } from '../checkpoints/archive';
import { resetCommand } from '../checkpoints/ids';
import type { Checkpoint, LoadedCheckpoint } from '../checkpoints/derive';
import { diffCheckpoints, type CheckpointDiff } from '../checkpoints/diff';
import { prune, type PruneOptions, type PruneReport } from '../checkpoints/prune';
import { CheckpointStore, type RunCheckpoints } from '../checkpoints/store';
import { teamInputFor, validateTask, type AgentTeamConfig } from '../config';
import { auditWorkflow, type AuditTrail } from '../history/audit';
import { followRun, readRun, type RecordedStep, type RunStatus } from '../history/reader';
import { fetchRunHistory, keptByReset, replayHistory, type ReplayReport } from '../history/replay';
import {
  DetachedError,
  IncompatibleCodeError,
  InterruptedError,
  NotFoundError,
  RunClosedError,
  UsageError,
} from '../shared/errors';
import { toDate } from '../shared/util';
import { requester } from '../shared/user';
import { isNotFound } from '../shared/grpc';
import { dataConverterFromEnv } from '../temporal/codec';
import { connectClient, resolveTemporal, type TemporalChoice, type TemporalTarget } from '../temporal/connection';
import type { DevServer } from '../temporal/dev-server';
import { applyRetention } from '../temporal/retention';
import { installRuntime } from '../temporal/runtime';
import { hostWorker, type HostedWorker, type HostedWorkerOptions } from './hosted-worker';
import { reuseOf, summarize, type RestoreOutcome, type ResumeOutcome, type RunOutcome } from './outcome';

export interface ExecuteOptions {
  /**
   * Host a worker in this process. A new run (`runTask`, `restore`) then gets a task queue of its own, so this
   * worker serves that run only, with this process's LLM endpoint and key; `false` starts it on the shared queue
   * (`temporal.task_queue`) that `agent-team worker` deployments serve. For a run that exists already (`resume`,
   * `attach`): its own queue is served; a shared one only when no worker has polled it lately. @default true
   */
  worker?: boolean;
  /** Use the offline model (also the default when no OpenAI variables are set). */
  offline?: boolean;
  /** Use this `openai` client instead (build it with `maxRetries: 0`). */
  openai?: HostedWorkerOptions['openai'];
  /** Called once the run is started (and its worker is up), with the task queue that serves it. */
  onStarted?: (workflowId: string, runId: string, taskQueue: string) => void;
  /** Called when this process hosts a worker for the run (on `taskQueue`). */
  onHosting?: (taskQueue: string, why: string) => void;
  /**
   * Aborting it detaches: following stops, the hosted worker stops taking steps (the one in flight may finish,
   * within worker.shutdown_grace_ms), and the call rejects with a {@link DetachedError}. The run goes on in Temporal.
   */
  signal?: AbortSignal;
  /** Called for each completed step as it happens; `reused` marks steps kept from a checkpoint. */
  onStep?: (step: RecordedStep, reused: boolean) => void;
  /** Called when the run schedules an automatic resume of a failed step. */
  onAutoResume?: (note: string) => void;
}

export interface ResumeOptions extends ExecuteOptions {
  onReset?: (checkpoint: LoadedCheckpoint, resetCommand: string) => void;
  /** Skip the replay check (reset even onto code that cannot replay the kept history). */
  force?: boolean;
  /** Check against this workflows module instead of the project's (the code your workers run). */
  workflowsPath?: string;
  onReplayCheck?: (report: ReplayReport) => void;
}

export interface AppOptions {
  /** Progress lines (the CLI prints them on stderr). */
  log?: (line: string) => void;
  /** Start the embedded server when needed. @default true */
  startServer?: boolean;
  /** Where Temporal is. @default { kind: 'auto' }: a configured cluster, else the embedded server */
  temporal?: TemporalChoice;
}

/**
 * The task queue of a run that this process hosts: `<temporal.task_queue>/<workflowId>`, polled by this process
 * alone, so two `run`s at once never execute each other's steps. Resets keep a run's task queue.
 */
export const ownTaskQueue = (base: string, workflowId: string): string => `${base}/${workflowId}`;

/** A fresh workflow id, short enough to type: `team-<yymmdd>-<hhmmss UTC>-<6 hex>`, sortable by time. */
export function newWorkflowId(now = new Date()): string {
  const [date, time] = now.toISOString().slice(2, 19).replace(/[-:]/g, '').split('T');
  return `team-${date}-${time}-${randomBytes(3).toString('hex')}`;
}

export class AgentTeamApp {
  /** Checkpoints of the runs in this namespace. */
  readonly checkpoints: CheckpointStore;

  private constructor(
    readonly config: AgentTeamConfig,
    readonly target: TemporalTarget,
    readonly client: Client,
    private readonly log: (line: string) => void,
    private readonly ownedServer: DevServer | null = null,
  ) {
    this.checkpoints = new CheckpointStore(client, target.namespace);
  }

  /** Resolves Temporal (starting the embedded server if needed) and connects a client. */
  static async open(config: AgentTeamConfig, options: AppOptions = {}): Promise<AgentTeamApp> {
    const log = options.log ?? (() => {});
    // Encryption at rest (AGENT_TEAM_ENCRYPTION_KEY…): the same codec for this client and its workers. Read
    // first, so a bad key stops before any server starts.
    const dataConverter = dataConverterFromEnv();
    const { server, ...target } = await resolveTemporal(config, {
      start: options.startServer ?? true,
      log,
      ...(options.temporal ? { choice: options.temporal } : {}),
    });
    try {
      const client = await connectClient(target, dataConverter);
      if (options.startServer !== false) {
        // Retention is housekeeping: a failure to read or set it must not stop the command.
        await applyRetention(
          client,
          target.namespace,
          config.workflow.checkpointing.cleanup_after_days,
          target.mode,
          log,
        ).catch((e: Error) => log(`warning: could not check the namespace retention: ${e.message}`));
      }
      return new AgentTeamApp(config, target, client, log, server);
    } catch (err) {
      await server?.stop();
      throw err;
    }
  }

  get taskQueue(): string {
    return this.config.temporal.task_queue;
  }

  /** The Web UI page of a run, when the UI is known. */
  webUiUrl(workflowId: string, runId?: string): string | null {
    if (!this.target.uiUrl) return null;
    const ns = encodeURIComponent(this.target.namespace);
    return `${this.target.uiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`;
  }

  /** Creates a worker in this process (with the offline model when asked or when no LLM is configured). */
  async createWorker(options: Partial<HostedWorkerOptions> = {}): Promise<HostedWorker> {
    return hostWorker(
      { config: this.config, target: this.target, client: this.client, log: this.log },
      { ...options, taskQueue: options.taskQueue ?? this.taskQueue },
    );
  }

  /** The workflow input for `task` under this configuration (throws {@link UsageError} for a bad task). */
  inputFor(task: string, overrides: Partial<TeamInput> = {}): TeamInput {
    return { ...teamInputFor(validateTask(task), this.config), ...overrides };
  }

  /** Starts a run; throws {@link UsageError} for a workflow id that is already running. */
  async start(
    input: TeamInput,
    options: { workflowId?: string; taskQueue?: string } = {},
  ): Promise<{ workflowId: string; runId: string }> {
    const workflowId = options.workflowId ?? newWorkflowId();
    try {
      const handle = await this.client.workflow.start(agentTeamWorkflow, {
        taskQueue: options.taskQueue ?? this.taskQueue,
        workflowId,
        args: [input],
        staticSummary: `Agent team: ${input.task.replace(/\s+/g, ' ').slice(0, 120)}`,
      });
      return { workflowId, runId: handle.firstExecutionRunId };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new UsageError(
          `a run with workflow id "${workflowId}" is already running: pick another --workflow-id, or wait for it`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** Follows a run to its end, reporting each step, and summarises it. Rejects with {@link DetachedError} on abort. */
  async follow(
    workflowId: string,
    runId: string,
    options: Pick<ExecuteOptions, 'onStep' | 'onAutoResume' | 'signal'> & { taskQueue?: string } = {},
  ): Promise<RunOutcome> {
    const onStep = options.onStep ?? (() => {});
    let seen = 0;
    try {
      const reader = await followRun(
        this.client,
        workflowId,
        runId,
        (step) => {
          seen++;
          onStep(step, false);
        },
        options.onAutoResume,
        options.signal,
      );
      return summarize(reader, this.target.namespace);
    } catch (err) {
      if (options.signal?.aborted) {
        throw new DetachedError(workflowId, runId, options.taskQueue ?? null, seen, { cause: err });
      }
      throw err;
    }
  }

  /**
   * Does `work` (which starts or resets a run and follows it) with a worker hosted in this process on
   * `taskQueue`, or without one when `taskQueue` is null. The worker is created first, so an LLM or worker
   * configuration problem stops everything before a run exists; it polls while `work` runs and is shut down
   * (gracefully: a step in flight may finish) when it settles.
   */
  private async hosting<T>(options: ExecuteOptions, taskQueue: string | null, work: () => Promise<T>): Promise<T> {
    if (taskQueue === null) return work();
    const hosted = await this.createWorker({
      taskQueue,
      ...(options.offline !== undefined ? { offline: options.offline } : {}),
      ...(options.openai ? { openai: options.openai } : {}),
    });
    try {
      return (await hosted.run(work())) as T;
    } catch (err) {
      // Detached: the worker let the step in flight finish before it stopped; report the steps that completed.
      if (err instanceof DetachedError && options.onStep) {
        const run = await readRun(this.client, err.workflowId, err.runId).then(
          (r) => r.run,
          () => null,
        );
        for (const step of run?.steps.slice(err.stepsSeen) ?? []) options.onStep(step, false);
      }
      throw err;
    }
  }

  /**
   * The queue a worker of this process should serve for an existing run on `taskQueue`, or null: a run's own
   * queue, yes; another queue (the shared one) only when no worker has polled it in the last minute and a half,
   * since a worker there serves every run on it.
   */
  private async hostFor(taskQueue: string, options: ExecuteOptions): Promise<string | null> {
    if (options.worker === false) return null;
    if (taskQueue.startsWith(`${this.taskQueue}/`)) {
      options.onHosting?.(taskQueue, 'the run has a task queue of its own');
      return taskQueue;
    }
    if ((await this.pollersOf(taskQueue)) > 0) return null;
    options.onHosting?.(taskQueue, 'no worker polls it: this process serves it until the run ends');
    return taskQueue;
  }

  /** Workers that polled `taskQueue` for workflow tasks in the last 90 seconds. */
  async pollersOf(taskQueue: string): Promise<number> {
    const { pollers } = await this.client.workflowService.describeTaskQueue({
      namespace: this.target.namespace,
      taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const since = Date.now() - 90_000;
    return (pollers ?? []).filter((p) => (toDate(p.lastAccessTime)?.getTime() ?? 0) >= since).length;
  }

  /** Starts a run of the team on `task` and follows it to its end. */
  async runTask(
    task: string,
    options: ExecuteOptions & { workflowId?: string; input?: Partial<TeamInput> } = {},
  ): Promise<RunOutcome> {
    const input = this.inputFor(task, options.input);
    const workflowId = options.workflowId ?? newWorkflowId();
    return this.startAndFollow(input, workflowId, options);
  }

  /** Starts a run (on a queue of its own when this process hosts its worker) and follows it. */
  private async startAndFollow(input: TeamInput, workflowId: string, options: ExecuteOptions): Promise<RunOutcome> {
    const taskQueue = options.worker === false ? this.taskQueue : ownTaskQueue(this.taskQueue, workflowId);
    return this.hosting(options, options.worker === false ? null : taskQueue, async () => {
      if (options.signal?.aborted) throw new InterruptedError();
      const { runId } = await this.start(input, { workflowId, taskQueue });
      options.onStarted?.(workflowId, runId, taskQueue);
      return this.follow(workflowId, runId, { ...options, taskQueue });
    });
  }

  /**
   * Attaches to a workflow's latest run: shows its steps so far and as they complete, hosting a worker for it
   * when it needs one (see {@link ExecuteOptions.worker}). A closed run is summarised at once.
   */
  async attach(workflowId: string, options: ExecuteOptions = {}): Promise<RunOutcome> {
    const { runId, taskQueue, status } = await this.describe(workflowId);
    const host = status === 'RUNNING' ? await this.hostFor(taskQueue, options) : null;
    return this.hosting(options, host, async () => {
      options.onStarted?.(workflowId, runId, taskQueue);
      return this.follow(workflowId, runId, { ...options, taskQueue });
    });
  }

  /** A workflow's latest run (or `runId`): its id, task queue and status ({@link NotFoundError} when not here). */
  async describe(workflowId: string, runId?: string): Promise<{ runId: string; taskQueue: string; status: RunStatus }> {
    const d = await this.lookup(workflowId, runId, () => this.client.workflow.getHandle(workflowId, runId).describe());
    // The SDK spells it CANCELLED; history, visibility and this project say CANCELED.
    const status = (d.status.name === 'CANCELLED' ? 'CANCELED' : d.status.name) as RunStatus;
    return { runId: d.runId, taskQueue: d.taskQueue, status };
  }

  /**
   * Asks a running run to stop (Temporal's cancel): its step in flight is cancelled, it records where it
   * stopped and ends CANCELED; its last checkpoint stays resumable. Refuses a closed run
   * ({@link RunClosedError}). With `wait`, follows it to its end (hosting a worker when it needs one).
   */
  async cancel(workflowId: string, options: ExecuteOptions & { wait?: boolean } = {}): Promise<RunOutcome | null> {
    const { runId, taskQueue, status } = await this.describe(workflowId);
    if (status !== 'RUNNING')
      throw new RunClosedError(`run ${runId} of "${workflowId}" is ${status}: there is nothing to cancel`);
    await this.client.workflow.getHandle(workflowId, runId).cancel();
    if (!options.wait) return null;
    return this.hosting(options, await this.hostFor(taskQueue, options), () =>
      this.follow(workflowId, runId, { ...options, taskQueue }),
    );
  }

  /** Ends a running run at once (Temporal's terminate), recording who asked and why. Refuses a closed run. */
  async terminate(workflowId: string, reason: string): Promise<{ runId: string }> {
    const { runId, status } = await this.describe(workflowId);
    if (status !== 'RUNNING')
      throw new RunClosedError(`run ${runId} of "${workflowId}" is ${status}: there is nothing to terminate`);
    await this.client.workflow.getHandle(workflowId, runId).terminate(`${requester()}: ${reason}`);
    return { runId };
  }

  /**
   * Resumes from a checkpoint: resets the workflow there (refusing a running workflow or an invalid id
   * before anything changes) and follows the new run. Steps up to the checkpoint are reused, not re-sent.
   */
  async resume(checkpointId: string, options: ResumeOptions = {}): Promise<ResumeOutcome> {
    const loaded = await this.checkpoints.load(checkpointId);
    await this.checkpoints.assertNotRunning(loaded.workflowId);
    if (!options.force) {
      const report = await this.replayCheck(loaded, options.workflowsPath);
      options.onReplayCheck?.(report);
      if (!report.compatible) {
        throw new IncompatibleCodeError(
          `the workflow code does not replay the history this resume would keep (step ${loaded.step} of ${loaded.workflowId}` +
            `${report.divergingEventId ? `: it diverges at event ${report.divergingEventId}, ${report.divergingEventType}` : ''}); ` +
            'the new run would fail on its first workflow task. Nothing was changed. Run code compatible with this run ' +
            `(see \`${cliCommand()} replay\`, and versioning with patched() in docs/design-decisions.md), or pass --force to reset anyway`,
        );
      }
    }
    const command = resetCommand({ namespace: this.target.namespace, ...loaded });
    // A reset keeps the task queue of the run it resets: serve it as it is.
    const { taskQueue } = await this.describe(loaded.workflowId, loaded.runId);
    return this.hosting(options, await this.hostFor(taskQueue, options), async () => {
      if (options.signal?.aborted) throw new InterruptedError();
      const { checkpoint, runId } = await this.checkpoints.reset(loaded);
      options.onReset?.(checkpoint, command);
      options.onStarted?.(checkpoint.workflowId, runId, taskQueue);
      const outcome = await this.follow(checkpoint.workflowId, runId, {
        ...options,
        taskQueue,
        onStep: (step) => options.onStep?.(step, step.completedEventId < checkpoint.eventId),
      });
      const { state: _state, ...resumedFrom } = checkpoint;
      return {
        ...outcome,
        resumedFrom,
        resetCommand: command,
        ...reuseOf(checkpoint, outcome.steps.filter((s) => s.step > checkpoint.step).length),
      };
    });
  }

  /**
   * Starts a new run from a checkpoint of an export (`checkpoints import --restore`) and follows it: the
   * steps up to the checkpoint travel in the run's input and are folded, not executed again.
   */
  async restore(
    loaded: LoadedExport,
    checkpoint: Checkpoint,
    options: ExecuteOptions & { workflowId?: string } = {},
  ): Promise<RestoreOutcome> {
    const input = await restoreInput(this.client, loaded, checkpoint);
    const workflowId = options.workflowId ?? `${checkpoint.workflowId}-restored-${randomBytes(3).toString('hex')}`;
    const outcome = await this.startAndFollow(input, workflowId, options);
    return { ...outcome, restoredFrom: checkpoint, ...reuseOf(checkpoint, outcome.steps.length) };
  }

  /**
   * Replays the part of the checkpoint's history that a reset would keep against the workflow code (the
   * project's, or the module at `workflowsPath`): the check `resume` runs before it changes anything.
   */
  async replayCheck(checkpoint: Checkpoint, workflowsPath?: string): Promise<ReplayReport> {
    installRuntime(this.log);
    const history = await fetchRunHistory(this.client, checkpoint.workflowId, checkpoint.runId);
    return replayHistory(
      keptByReset(history, checkpoint.eventId),
      `${checkpoint.workflowId} up to step ${checkpoint.step}`,
      {
        ...(workflowsPath ? { workflowsPath } : {}),
      },
    );
  }

  /** Replays a run on the server (its latest run unless `runId`) against the workflow code. */
  async replayRun(workflowId: string, options: { runId?: string; workflowsPath?: string } = {}): Promise<ReplayReport> {
    const history = await this.lookup(workflowId, options.runId, () =>
      fetchRunHistory(this.client, workflowId, options.runId),
    );
    installRuntime(this.log);
    return replayHistory(history, `${workflowId}${options.runId ? ` run ${options.runId}` : ''}`, {
      ...(options.workflowsPath ? { workflowsPath: options.workflowsPath } : {}),
    });
  }

  /** The audit trail of every run of a workflow; {@link NotFoundError} when it has none here. */
  async audit(workflowId: string): Promise<AuditTrail> {
    const trail = await auditWorkflow(this.client, this.target.namespace, workflowId);
    if (trail.runs.length === 0) throw new NotFoundError(workflowId, this.target.namespace);
    return trail;
  }

  /** The export of a workflow's run (or of every run of its reset chain). */
  async exportWorkflow(workflowId: string, options: { runId?: string; allRuns?: boolean } = {}): Promise<ExportFile> {
    return this.lookup(workflowId, options.runId, () =>
      exportWorkflow(this.client, this.target.namespace, this.config, workflowId, options),
    );
  }

  /** Deletes (or lists, with `dryRun`) closed runs that closed before the cut. */
  async prune(options: PruneOptions): Promise<PruneReport> {
    return prune(this.client, this.target.namespace, options);
  }

  /** What changed between two checkpoints. */
  async diff(from: string, to: string): Promise<CheckpointDiff> {
    return diffCheckpoints(await this.checkpoints.load(from), await this.checkpoints.load(to));
  }

  /**
   * Runs worth resuming, for the picker: those that did not complete and are their workflow's latest run (a
   * failed run resumed since is done with), or, when there is none, the most recent runs; each with its task,
   * status and checkpoints, newest first.
   */
  async resumeCandidates(workflowId?: string): Promise<{ unfinishedOnly: boolean; runs: RunCheckpoints[] }> {
    const scope = workflowId ? { workflowId } : {};
    const unfinished: RunStatus[] = ['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELED'];
    const stopped = (await this.checkpoints.listRuns({ ...scope, status: unfinished, limit: 10 })).filter(
      (r) => r.latest,
    );
    const runs = stopped.length > 0 ? stopped : await this.checkpoints.listRuns({ ...scope, limit: 10 });
    return {
      unfinishedOnly: stopped.length > 0,
      runs: runs.map((r) => ({ ...r, checkpoints: [...r.checkpoints].reverse() })),
    };
  }

  /** Runs `read`, turning "no such workflow or run" into a {@link NotFoundError} (exit 2). */
  private async lookup<T>(workflowId: string, runId: string | undefined, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(workflowId, this.target.namespace, runId, { cause: err });
      throw err;
    }
  }

  /** Closes the connection, and stops the embedded server if this app started it in-process (memory storage). */
  async close(): Promise<void> {
    await this.client.connection.close();
    await this.ownedServer?.stop();
  }
}
