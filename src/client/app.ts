/**
 * The client module: one object that knows the configuration and the Temporal connection, and does what the
 * CLI's commands and the library ask: start, follow and resume runs, host workers, list and load
 * checkpoints, export, import, prune, audit and replay. Commands are thin wrappers over it.
 */
import { randomBytes } from 'node:crypto';
import { command as cliHint } from '../shared/invocation';
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { agentTeamWorkflow } from '../../workflows';
import {
  WAITING_ATTRIBUTE,
  WORKFLOW_TYPE,
  type HumanAnswer,
  type HumanRequest,
  type TeamInput,
  type ToolRequest,
} from '../../workflows/types';
import { answerUpdate, type AnswerAck, type StopRecord } from '../../workflows/agent-team';
import type { KeyObject } from 'node:crypto';
import { flushTracing } from '../temporal/tracing';
import { exportWorkflow, restoreInput, type ExportFile, type LoadedExport } from '../checkpoints/archive';
import { resetCommand } from '../checkpoints/ids';
import { destructiveCallsAfter, type Checkpoint, type LoadedCheckpoint } from '../checkpoints/derive';
import { diffCheckpoints, type CheckpointDiff } from '../checkpoints/diff';
import { prune, type PruneOptions, type PruneReport } from '../checkpoints/prune';
import { CheckpointStore, type RunCheckpoints } from '../checkpoints/store';
import { teamInputFor, validateTask, type AgentTeamConfig } from '../config';
import { auditWorkflow, type AuditTrail } from '../history/audit';
import { followRun, readRun, type RecordedStep, type RunStatus } from '../history/reader';
import type { LiveText } from '../../activities';
import { fetchRunHistory, keptByReset, replayHistory, type ReplayReport } from '../history/replay';
import {
  AnswerRefusedError,
  DetachedError,
  IncompatibleCodeError,
  InterruptedError,
  NotFoundError,
  RunClosedError,
  SideEffectsError,
  UsageError,
  errorMessage,
  rootCause,
} from '../shared/errors';
import { oneLine, queryString } from '../shared/util';
import { requester } from '../shared/user';
import { GrpcStatus, grpcStatusOf, isNotFound } from '../shared/grpc';
import { dataConverterFromEnv } from '../temporal/codec';
import { connectClient, resolveTemporal, type TemporalChoice, type TemporalTarget } from '../temporal/connection';
import type { DevServer } from '../temporal/dev-server';
import { requestCancel, statusName } from '../temporal/cancel';
import { applyRetention } from '../temporal/retention';
import { derivedWorkflowId, isOwnTaskQueue, ownTaskQueue } from '../temporal/names';
import { installRuntime } from '../temporal/runtime';
import { pollersOf, watchRun } from './watch';
import { hostDecider, hostWorker, type HostedWorker, type HostedWorkerOptions } from './hosted-worker';
import {
  rejectionMessage,
  reuseOf,
  summarize,
  type RestoreOutcome,
  type ResumeOutcome,
  type RunOutcome,
} from './outcome';

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
  /**
   * Live output: told the text of the step in progress as the model writes it (read from the step's heartbeats,
   * so it works whichever worker runs the step). Polls the run every 400 ms while it is followed.
   */
  onLive?: (live: LiveText) => void;
  /** Told of each tool call as it is scheduled (its end is a step, told by `onStep`). */
  onToolStarted?: (request: ToolRequest) => void;
  /**
   * Told, within seconds, when no worker polls the run's task queue while this process follows it without
   * serving it (`worker: false`): nothing runs its steps until a worker does. Told again if it happens again.
   */
  onUnserved?: (taskQueue: string) => void;
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
  /**
   * Called when the run starts waiting on a person (a gate). Return (or resolve to) an answer to give it (the
   * library's `onRequest`, the CLI's prompt on a terminal), or nothing to leave the question to someone else:
   * `agent-team approve …` from any shell, `respond()` from any process, or `temporal workflow update`.
   */
  onRequest?: (
    request: HumanRequest,
    workflowId: string,
    /** Aborted once the request is answered elsewhere (or the run closes): a prompt should close. */
    signal: AbortSignal,
  ) => Promise<AnswerInput | void | undefined> | AnswerInput | void | undefined;
  /** Told when an answer `onRequest` gave was refused (someone else answered first, say). */
  onAnswerError?: (err: Error) => void;
  /** Told of the answer a question told to `onRequest` got (here, elsewhere, or by its timeout). */
  onAnswered?: (answer: HumanAnswer) => void;
}

export interface ResumeOptions extends ExecuteOptions {
  onReset?: (checkpoint: LoadedCheckpoint, resetCommand: string) => void;
  /** Skip the replay check (reset even onto code that cannot replay the kept history). */
  force?: boolean;
  /** Check against this workflows module instead of the project's (the code your workers run). */
  workflowsPath?: string;
  onReplayCheck?: (report: ReplayReport) => void;
  /** Resume even when that runs destructive tool calls again (they are listed, and refused without this). */
  repeatSideEffects?: boolean;
}

export interface AppOptions {
  /** Progress lines (the CLI prints them on stderr). */
  log?: (line: string) => void;
  /** Start the embedded server when needed. @default true */
  startServer?: boolean;
  /** Where Temporal is. @default { kind: 'auto' }: a configured cluster, else the embedded server */
  temporal?: TemporalChoice;
  /** Apply (embedded) or check (cluster) the namespace's retention. @default true */
  checkRetention?: boolean;
}

export { ownTaskQueue } from '../temporal/names';

/** An answer as a caller gives it: the request id is filled in, and `answeredBy` defaults to the OS user. */
export type AnswerInput = Omit<HumanAnswer, 'requestId' | 'timedOut'>;

/** What {@link AgentTeamApp.respond} reports: the answer taken, and whether a worker serves the run. */
export interface AnswerReceipt extends AnswerAck {
  workflowId: string;
  runId: string;
  /** False when no worker served the run: it waits for one (`agent-team follow`) to run its next step. */
  served: boolean;
}

/** A run that waits on a person, and what it asks. */
export interface PendingRun {
  workflowId: string;
  runId: string;
  request: HumanRequest;
  /** When it started waiting. */
  since: string | null;
}

/** Whether a run of this input may wait on a person (a gate or a budget is set). */
const hasGates = (input: TeamInput): boolean =>
  Boolean(
    input.gates?.planReview ||
    input.gates?.approveFinalAnswer ||
    input.gates?.approveSteps?.length ||
    input.budget?.maxUsd != null ||
    input.budget?.maxTokens != null,
  );

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
      if (options.startServer !== false && options.checkRetention !== false) {
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

  private waitingAttribute?: Promise<boolean>;

  /**
   * Whether the namespace has the {@link WAITING_ATTRIBUTE} search attribute, which a run waiting on a person
   * keeps current. The embedded server gets it registered (at start, or here for a server started before);
   * a cluster's operator registers it (`temporal operator search-attribute create`); without it, `pending`
   * asks each running run instead.
   */
  hasWaitingAttribute(): Promise<boolean> {
    this.waitingAttribute ??= (async () => {
      const { namespace } = this.target;
      const ops = this.client.connection.operatorService;
      const { customAttributes } = await ops.listSearchAttributes({ namespace });
      if (customAttributes?.[WAITING_ATTRIBUTE] !== undefined) return true;
      if (this.target.mode !== 'embedded') return false;
      await ops.addSearchAttributes({
        namespace,
        searchAttributes: { [WAITING_ATTRIBUTE]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
      });
      return true;
    })().catch(() => false);
    return this.waitingAttribute;
  }

  /** Starts a run; throws {@link UsageError} for a workflow id that is already running. */
  async start(
    input: TeamInput,
    options: { workflowId?: string; taskQueue?: string } = {},
  ): Promise<{ workflowId: string; runId: string }> {
    const workflowId = options.workflowId ?? newWorkflowId();
    if (input.waitingAttribute === undefined && hasGates(input) && (await this.hasWaitingAttribute())) {
      input = { ...input, waitingAttribute: true };
    }
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

  /** Follows a run to its end, reporting each step, and summarises it. Rejects with {@link DetachedError} on abort. */
  async follow(
    workflowId: string,
    runId: string,
    options: Pick<
      ExecuteOptions,
      | 'onStep'
      | 'onAutoResume'
      | 'onRequest'
      | 'onAnswerError'
      | 'onAnswered'
      | 'signal'
      | 'onLive'
      | 'onToolStarted'
      | 'onUnserved'
    > & {
      taskQueue?: string;
      /** This process hosts a worker of the run (an answer given in-process needs no other). */
      hostsWorker?: boolean;
    } = {},
  ): Promise<RunOutcome> {
    const onStep = options.onStep ?? (() => {});
    let seen = 0;
    // The requests handed to onRequest, each with a signal aborted once it is answered (here or elsewhere).
    const asked = new Map<string, AbortController>();
    const watch = watchRun(
      this.client,
      this.target.namespace,
      { workflowId, runId },
      {
        ...(options.onLive ? { onLive: options.onLive } : {}),
        // A worker of this process serves it: no need to ask whether one does.
        ...(options.onUnserved && !options.hostsWorker && options.taskQueue
          ? { onUnserved: options.onUnserved, taskQueue: options.taskQueue }
          : {}),
      },
    );
    try {
      const { onRequest } = options;
      const reader = await followRun(this.client, workflowId, runId, {
        ...(options.onToolStarted ? { onToolScheduled: options.onToolStarted } : {}),
        onStep: (step) => {
          seen++;
          onStep(step, false);
        },
        ...(options.onAutoResume ? { onAutoResume: options.onAutoResume } : {}),
        ...(onRequest
          ? {
              onRequest: (request: HumanRequest) => {
                const closed = new AbortController();
                asked.set(request.id, closed);
                void Promise.resolve(onRequest(request, workflowId, closed.signal))
                  .then(async (answer) => {
                    if (answer && !closed.signal.aborted) {
                      await this.respond(
                        workflowId,
                        { ...answer, requestId: request.id },
                        { hostWorker: !options.hostsWorker },
                      );
                    }
                  })
                  .catch((err: unknown) =>
                    options.onAnswerError?.(err instanceof Error ? err : new Error(String(err))),
                  );
              },
              onRequestClosed: (id: string, answer: HumanAnswer | null) => {
                asked.get(id)?.abort();
                asked.delete(id);
                if (answer) options.onAnswered?.(answer);
              },
            }
          : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return summarize(reader, this.target.namespace);
    } catch (err) {
      if (options.signal?.aborted) {
        throw new DetachedError(workflowId, runId, options.taskQueue ?? null, seen, { cause: err });
      }
      throw err;
    } finally {
      watch.stop();
      for (const open of asked.values()) open.abort();
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
      if (err instanceof DetachedError) await this.releaseSticky(err.workflowId, err.runId);
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
  private async hostFor(taskQueue: string, workflowId: string, options: ExecuteOptions): Promise<string | null> {
    if (options.worker === false) return null;
    // `<base>/<workflowId>`, whatever base the run was started with (its config may not be this one).
    if (taskQueue.startsWith(`${this.taskQueue}/`) || isOwnTaskQueue(taskQueue, workflowId)) {
      options.onHosting?.(taskQueue, 'the run has a task queue of its own');
      return taskQueue;
    }
    if ((await this.pollersOf(taskQueue)) > 0) return null;
    options.onHosting?.(taskQueue, 'no worker polls it: this process serves it until the run ends');
    return taskQueue;
  }

  /** The workers that poll `taskQueue` now (see {@link pollersOf}). */
  async pollersOf(taskQueue: string): Promise<number> {
    return pollersOf(this.client, this.target.namespace, taskQueue);
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
    const host = options.worker === false ? null : taskQueue;
    return this.hosting(options, host, async () => {
      if (options.signal?.aborted) throw new InterruptedError();
      const { runId } = await this.start(input, { workflowId, taskQueue });
      options.onStarted?.(workflowId, runId, taskQueue);
      return this.follow(workflowId, runId, { ...options, taskQueue, hostsWorker: host !== null });
    });
  }

  /**
   * Attaches to a workflow's latest run: shows its steps so far and as they complete, hosting a worker for it
   * when it needs one (see {@link ExecuteOptions.worker}). A closed run is summarised at once.
   */
  async attach(workflowId: string, options: ExecuteOptions = {}): Promise<RunOutcome> {
    const { runId, taskQueue, status } = await this.describe(workflowId);
    const host = status === 'RUNNING' ? await this.hostFor(taskQueue, workflowId, options) : null;
    return this.hosting(options, host, async () => {
      options.onStarted?.(workflowId, runId, taskQueue);
      return this.follow(workflowId, runId, { ...options, taskQueue, hostsWorker: host !== null });
    });
  }

  /** A workflow's latest run (or `runId`): its id, task queue and status ({@link NotFoundError} when not here). */
  async describe(workflowId: string, runId?: string): Promise<{ runId: string; taskQueue: string; status: RunStatus }> {
    const d = await this.lookup(workflowId, runId, () => this.client.workflow.getHandle(workflowId, runId).describe());
    const status = statusName(d.status.name) as RunStatus;
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
    const host = await this.hostFor(taskQueue, workflowId, options);
    return this.hosting(options, host, () =>
      this.follow(workflowId, runId, { ...options, taskQueue, hostsWorker: host !== null }),
    );
  }

  /**
   * Answers what a run waits on (plan review, step approval, final review, budget). Without `requestId`, the
   * request the run waits on now (its memo says which) is answered. Refused, changing nothing, when the run
   * waits on nothing, the answer is stale or malformed, or another answer was taken first
   * ({@link AnswerRefusedError}, exit 2). The answer needs a worker to take it: when none serves the run, this
   * process takes it with one that starts no step (a rejection, with a full one until the run has ended).
   */
  async respond(
    workflowId: string,
    input: AnswerInput & { requestId?: string },
    options: {
      onNote?: (note: string) => void;
      /** Take the answer with a worker of this process (default true; false when this process serves the run). */
      hostWorker?: boolean;
    } = {},
  ): Promise<AnswerReceipt> {
    const d = await this.lookup(workflowId, undefined, () => this.client.workflow.getHandle(workflowId).describe());
    const handle = this.client.workflow.getHandle(workflowId, d.runId);
    if (d.status.name !== 'RUNNING') {
      throw new AnswerRefusedError(
        workflowId,
        `its latest run ${d.runId} is ${statusName(d.status.name)}: it waits on no answer`,
      );
    }
    const waiting = (d.memo?.pending ?? null) as HumanRequest | null;
    const requestId = input.requestId ?? waiting?.id;
    if (!requestId) {
      const stopped = d.memo?.stoppedAt as StopRecord | undefined;
      throw new AnswerRefusedError(
        workflowId,
        stopped?.reason === 'rejected'
          ? `it was rejected already${stopped.rejected ? ` by ${stopped.rejected.by}` : ''} and ends once a worker serves it (\`${cliHint('follow', workflowId)}\`)`
          : 'it waits on no answer now',
      );
    }
    const answer: HumanAnswer = { answeredBy: requester(), ...input, requestId };
    const served = (await this.pollersOf(d.taskQueue)) > 0;
    const send = async (): Promise<AnswerAck> => {
      const slow = setTimeout(
        () => options.onNote?.(`waiting for a worker of task queue "${d.taskQueue}" to take the answer…`),
        5_000,
      );
      try {
        return await handle.executeUpdate(answerUpdate, { args: [answer] });
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) {
          const cause = rootCause(err);
          throw new AnswerRefusedError(workflowId, cause instanceof Error ? cause.message : err.message, {
            cause: err,
          });
        }
        if (isNotFound(err)) {
          // The run ended before this answer was taken (another answer rejected it, say).
          const now = await handle.describe().catch(() => null);
          if (now && now.status.name !== 'RUNNING') {
            const stopped = now.memo?.stoppedAt as StopRecord | undefined;
            const why = stopped?.rejected
              ? `: it was rejected by ${stopped.rejected.by ?? 'unknown'}${stopped.rejected.reason ? ` (${stopped.rejected.reason})` : ''}`
              : '';
            throw new AnswerRefusedError(
              workflowId,
              `its run ended ${statusName(now.status.name)} before this answer was taken${why}: nothing changed`,
              { cause: err },
            );
          }
          throw new NotFoundError(workflowId, this.target.namespace, undefined, { cause: err });
        }
        throw err;
      } finally {
        clearTimeout(slow);
      }
    };
    if (options.hostWorker === false) return { workflowId, runId: d.runId, ...(await send()), served };
    // A worker's recent poll does not prove it is still up (a detached `run` polled a moment ago), so this
    // process always takes the answer itself, with a worker that starts no step (for a rejection, until the
    // cancel this process requests has ended the run). The run's sticky queue is let go first, so the answer's task does not wait 10 s for a worker that has left, and again after, so its next
    // task goes to the workers that remain.
    await this.releaseSticky(workflowId, d.runId);
    let ack: AnswerAck;
    try {
      const decider = await hostDecider({ target: this.target, client: this.client, log: this.log }, d.taskQueue);
      ack = await decider.run(
        (async () => {
          const taken = await send();
          if (answer.decision === 'reject') {
            // The run ends CANCELED by a cancel request: the workflow asks for it through its cancelRun
            // activity, which needs a worker; this process asks at once, so none is needed.
            const kind = (waiting?.id === requestId ? waiting.kind : requestId.split('@')[0]) ?? 'a gate';
            await requestCancel(
              this.client,
              this.target.namespace,
              { workflowId, runId: d.runId },
              rejectionMessage({ kind, reason: answer.reason ?? '', by: answer.answeredBy ?? null }),
              requester(),
            );
            await handle.result().catch(() => {});
          }
          return taken;
        })(),
      );
    } finally {
      await this.releaseSticky(workflowId, d.runId);
    }
    return { workflowId, runId: d.runId, ...ack, served };
  }

  /**
   * Lets go of a run's sticky task queue (the cache of the worker that served it last), so its next workflow
   * task goes to its normal queue at once instead of waiting out the sticky timeout (10 s) for a worker of this
   * process that has stopped. Harmless when the run has closed or has no sticky queue.
   */
  private async releaseSticky(workflowId: string, runId: string): Promise<void> {
    await this.client.workflowService
      .resetStickyTaskQueue({ namespace: this.target.namespace, execution: { workflowId, runId } })
      .catch(() => {});
  }

  /**
   * The runs waiting on a person, longest waiting first, with what each asks (of one workflow, with
   * `workflowId`). Read from visibility and each run's memo, so no worker needs to be up, and runs started
   * without the {@link WAITING_ATTRIBUTE} search attribute (by hand, on a namespace without it) are listed too.
   */
  async pending(workflowId?: string): Promise<PendingRun[]> {
    const waiting = (wf: { workflowId: string; runId: string; memo?: Record<string, unknown> }): PendingRun[] => {
      const request = (wf.memo?.pending ?? null) as HumanRequest | null;
      return request ? [{ workflowId: wf.workflowId, runId: wf.runId, request, since: request.askedAt ?? null }] : [];
    };
    if (workflowId) {
      // One workflow: its latest run, from the server itself (visibility may lag, or not match an odd id).
      const d = await this.client.workflow
        .getHandle(workflowId)
        .describe()
        .catch((err: unknown) => {
          if (isNotFound(err)) return null; // not started (yet): it waits on no one
          throw err;
        });
      return d?.status.name === 'RUNNING' ? waiting(d) : [];
    }
    const query = `WorkflowType = ${queryString(WORKFLOW_TYPE)} AND ExecutionStatus = "Running"`;
    const out: PendingRun[] = [];
    for await (const wf of this.client.workflow.list({ query })) out.push(...waiting(wf));
    return out.sort((a, b) => (a.since ?? '').localeCompare(b.since ?? ''));
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
    // A reset keeps the task queue of the run it resets. A run's own queue (runs `run` started have one) is served
    // by the process that follows it: without a worker here, only a worker already on that queue would serve it.
    const { taskQueue } = await this.describe(loaded.workflowId, loaded.runId);
    if (
      options.worker === false &&
      isOwnTaskQueue(taskQueue, loaded.workflowId) &&
      (await this.pollersOf(taskQueue)) === 0
    ) {
      throw new UsageError(
        `the steps of ${loaded.workflowId} go to its own task queue "${taskQueue}" (a run \`run\` started has one), ` +
          'and no worker polls it: without a worker here, nothing would run them. Nothing was changed. Serve the ' +
          `queue first (\`${cliHint('worker', '--task-queue', taskQueue)}\`), or resume with a worker here (leave out --no-worker)`,
      );
    }
    if (!options.repeatSideEffects) {
      const { run } = await readRun(this.client, loaded.workflowId, loaded.runId);
      const again = destructiveCallsAfter(run, loaded.eventId);
      if (again.length > 0) {
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
    }
    if (!options.force) {
      const report = await this.replayCheck(loaded, options.workflowsPath);
      options.onReplayCheck?.(report);
      if (!report.compatible) {
        throw new IncompatibleCodeError(
          `the workflow code does not replay the history this resume would keep (step ${loaded.step} of ${loaded.workflowId}` +
            `${report.divergingEventId ? `: it diverges at event ${report.divergingEventId}, ${report.divergingEventType}` : ''}); ` +
            'the new run would fail on its first workflow task. Nothing was changed. Run code compatible with this run ' +
            `(see \`${cliHint('replay')}\`, and versioning with patched() in docs/design-decisions.md), or pass --force to reset anyway`,
        );
      }
    }
    const command = resetCommand({ namespace: this.target.namespace, ...loaded });
    const host = await this.hostFor(taskQueue, loaded.workflowId, options);
    return this.hosting(options, host, async () => {
      if (options.signal?.aborted) throw new InterruptedError();
      const { checkpoint, runId } = await this.checkpoints.reset(loaded);
      options.onReset?.(checkpoint, command);
      options.onStarted?.(checkpoint.workflowId, runId, taskQueue);
      const outcome = await this.follow(checkpoint.workflowId, runId, {
        ...options,
        taskQueue,
        hostsWorker: host !== null,
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
    const workflowId =
      options.workflowId ?? derivedWorkflowId(checkpoint.workflowId, `-restored-${randomBytes(3).toString('hex')}`);
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
  async exportWorkflow(
    workflowId: string,
    options: { runId?: string; allRuns?: boolean; signingKey?: KeyObject } = {},
  ): Promise<ExportFile> {
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
    await flushTracing(); // never throws, waits at most 5 s
    await this.client.connection.close();
    await this.ownedServer?.stop();
  }
}
