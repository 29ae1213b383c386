/**
 * The application's client module: one object that knows the configuration, the Temporal connection and
 * how to start, follow and summarise runs, and how to host a worker. The CLI's commands are thin wrappers
 * over it; the library API (src/index.ts) builds on it too.
 */
import { randomBytes } from 'node:crypto';
import { ApplicationFailure, type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type OpenAI from 'openai';
import { DefaultLogger, Runtime, makeTelemetryFilterString, type Worker, type WorkerOptions } from '@temporalio/worker';
import type { TeamInput, TeamResult, TokenUsage } from '../workflows/types';
import { teamInputFor, validateTask, type AgentTeamConfig } from './config';
import { UsageError } from './errors';
import { CheckpointStore, checkpointsOf, resetCommand, type Checkpoint, type LoadedCheckpoint } from './checkpoints';
import { restoreInput, type LoadedExport } from './archive';
import { dataConverterFromEnv } from './codec';
import { fetchRunHistory, keptByReset, replayHistory, type ReplayReport } from './replay';
import { followRun, type HistoryReader, type RecordedStep, type RunStatus } from './history';
import { openLlm, type LlmConnection } from './llm';
import {
  connectClient,
  connectWorker,
  resolveTemporal,
  type TemporalChoice,
  type TemporalTarget,
} from './temporal/connection';
import type { DevServer } from './temporal/dev-server';
import { applyRetention } from './temporal/retention';
import { createAgentTeamWorker } from './worker';

/** The workflow type name, as `temporal workflow start --type` takes it. */
export const WORKFLOW_TYPE = 'agentTeamWorkflow';

/** One step of a run, as `run --json` reports it. */
export interface StepSummary {
  index: number;
  kind: RecordedStep['result']['kind'];
  agent: string;
  round: number;
  usage: TokenUsage;
  attempt: number;
  latencyMs: number;
}

/** Why a run failed, unwrapped from Temporal's failure chain. */
export interface RunError {
  message: string;
  type: string | null;
  agent?: string;
  round?: number;
  httpStatus?: number;
}

/** The outcome of a run: what `run --json` prints. */
export interface RunOutcome {
  workflowId: string;
  runId: string;
  status: RunStatus;
  result: TeamResult | null;
  error?: RunError;
  steps: StepSummary[];
  usage: TokenUsage & { totalTokens: number; llmCalls: number };
  /** Every checkpoint of this run, oldest first (step 0 is the entry checkpoint). */
  checkpoints: Checkpoint[];
  /** Automatic resumes of failed steps (auto_resume_on_failure), as their timers describe them. */
  autoResumes: string[];
}

/** The outcome of a resume: the new run, and what it reused from the checkpoint. */
export interface ResumeOutcome extends RunOutcome {
  resumedFrom: Checkpoint;
  /** The equivalent Temporal CLI command. */
  resetCommand: string;
  /** Steps kept from before the checkpoint (not sent to the LLM again). */
  reusedSteps: number;
  /** Steps this run executed. */
  executedSteps: number;
  /** What the reused steps cost the first time: not paid again. */
  savedUsage: { totalTokens: number; llmCalls: number };
}

/** The outcome of `checkpoints import --restore`: the new run, and what it carried over from the export. */
export interface RestoreOutcome extends RunOutcome {
  restoredFrom: Checkpoint;
  /** Steps carried over from the export (not sent to the LLM again). */
  reusedSteps: number;
  executedSteps: number;
  savedUsage: { totalTokens: number; llmCalls: number };
}

export interface ResumeOptions extends ExecuteOptions {
  onReset?: (checkpoint: LoadedCheckpoint, resetCommand: string) => void;
  /** Skip the replay check (reset even onto code that cannot replay the kept history). */
  force?: boolean;
  /** Check against this workflows module instead of the project's (the code your workers run). */
  workflowsPath?: string;
  onReplayCheck?: (report: ReplayReport) => void;
}

/** `resume` refused: the workflow code cannot replay the history the reset would keep. Nothing was changed. */
export class IncompatibleCodeError extends Error {
  override name = 'IncompatibleCodeError';
}

let runtimeInstalled = false;
/**
 * Installed only where native code runs (workers, replay): with log forwarding on, a Runtime that no
 * native object ever registers with would keep the process alive.
 *
 * The SDK logs at INFO with whole objects by default; a CLI wants warnings, one readable line each
 * (e.g. a failed attempt that Temporal will retry). AGENT_TEAM_LOG_LEVEL=DEBUG|INFO shows more.
 */
export function installRuntime(log: (line: string) => void): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env.AGENT_TEAM_LOG_LEVEL?.toUpperCase() ?? 'WARN') as 'WARN';
  const json = process.env.AGENT_TEAM_LOG_FORMAT === 'json';
  const metrics = process.env.AGENT_TEAM_METRICS_ADDRESS;
  try {
    Runtime.install({
      logger: new DefaultLogger(level, ({ level: lvl, message, meta, timestampNanos }) => {
        const error = meta?.error as Error | undefined;
        if (json) {
          // One object per line: the SDK's context (workflowId, runId, activityType, attempt, …) and ours
          // (agent, round, kind, tokens) as fields, for a log shipper.
          const fields = Object.fromEntries(
            Object.entries(meta ?? {}).filter(
              ([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v),
            ),
          );
          process.stderr.write(
            JSON.stringify({
              time: new Date(Number(timestampNanos / 1_000_000n)).toISOString(),
              level: lvl,
              message,
              ...fields,
              ...(error ? { error: error.message } : {}),
            }) + '\n',
          );
          return;
        }
        const attempt = typeof meta?.attempt === 'number' ? ` (attempt ${meta.attempt})` : '';
        const mark = message === 'Activity failed' ? '↻' : lvl.toLowerCase() + ':';
        log(`  ${mark} ${message}${attempt}${error ? `: ${error.message}` : ''}`);
      }),
      // The Rust core logs on its own to stdout unless forwarded: route it through the logger above, so
      // stdout only ever carries results (`--json` stays parseable).
      telemetryOptions: {
        logging: { filter: makeTelemetryFilterString({ core: level, other: 'ERROR' }), forward: {} },
        // AGENT_TEAM_METRICS_ADDRESS=127.0.0.1:9464: the SDK's metrics (task latencies, slots, polls, activity
        // outcomes) for Prometheus at http://<address>/metrics.
        ...(metrics ? { metrics: { prometheus: { bindAddress: metrics } } } : {}),
      },
    });
  } catch {
    // already installed by the host application: keep its settings
  }
}

/** A fresh workflow id: readable, sortable by time, unique. */
export function newWorkflowId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `agent-team-${stamp}-${randomBytes(3).toString('hex')}`;
}

function unwrapError(err: Error | undefined): RunError | undefined {
  if (!err) return undefined;
  let leaf: Error = err;
  while (leaf.cause instanceof Error) leaf = leaf.cause;
  const app = leaf instanceof ApplicationFailure ? leaf : undefined;
  const details = (app?.details?.[0] ?? {}) as { agent?: string; round?: number; status?: number };
  return {
    message: leaf.message,
    type: app?.type ?? leaf.name ?? null,
    ...(details.agent ? { agent: details.agent } : {}),
    ...(typeof details.round === 'number' ? { round: details.round } : {}),
    ...(typeof details.status === 'number' ? { httpStatus: details.status } : {}),
  };
}

/** Summarises a closed run from its history. */
export async function summarize(reader: HistoryReader, namespace: string): Promise<RunOutcome> {
  const { run } = reader;
  const steps: StepSummary[] = run.steps.map((s) => ({
    index: s.result.stepIndex,
    kind: s.result.kind,
    agent: s.result.agent,
    round: s.result.round,
    usage: s.result.usage,
    attempt: s.result.attempt,
    latencyMs: s.result.latencyMs,
  }));
  const promptTokens = steps.reduce((n, s) => n + s.usage.promptTokens, 0);
  const completionTokens = steps.reduce((n, s) => n + s.usage.completionTokens, 0);
  const result = await reader.result<TeamResult>();
  const error = unwrapError(await reader.failure());
  return {
    workflowId: run.workflowId,
    runId: run.runId,
    status: run.status,
    result,
    ...(error ? { error } : {}),
    steps,
    usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, llmCalls: steps.length },
    checkpoints: checkpointsOf(run, namespace),
    autoResumes: run.autoResumes,
  };
}

export interface ExecuteOptions {
  /** Host a worker in this process. @default true */
  worker?: boolean;
  /** Use the offline model (also the default when no OpenAI variables are set). */
  offline?: boolean;
  /** Use this `openai` client instead (build it with `maxRetries: 0`). */
  openai?: OpenAI;
  /** Called once the run is started (and its worker is up). */
  onStarted?: (workflowId: string, runId: string) => void;
  /** Called for each completed step as it happens; `reused` marks steps kept from a checkpoint. */
  onStep?: (step: RecordedStep, reused: boolean) => void;
  /** Called when the run schedules an automatic resume of a failed step. */
  onAutoResume?: (note: string) => void;
}

export interface HostedWorker {
  worker: Worker;
  llm: LlmConnection;
  /** Runs the worker until `until` settles (or forever), then shuts it down and closes the LLM connection. */
  run<T>(until?: Promise<T>): Promise<T | void>;
}

export interface AppOptions {
  /** Progress lines (the CLI prints them on stderr). */
  log?: (line: string) => void;
  /** Start the embedded server when needed. @default true */
  startServer?: boolean;
  /** Where Temporal is. @default { kind: 'auto' }: a configured cluster, else the embedded server */
  temporal?: TemporalChoice;
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
    const { server, ...target } = await resolveTemporal(config, {
      start: options.startServer ?? true,
      log,
      ...(options.temporal ? { choice: options.temporal } : {}),
    });
    try {
      // Encryption at rest (AGENT_TEAM_ENCRYPTION_KEY…): the same codec for this client and its workers.
      const dataConverter = dataConverterFromEnv();
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
  async createWorker(
    options: { offline?: boolean; openai?: OpenAI; taskQueue?: string; workerOptions?: Partial<WorkerOptions> } = {},
  ): Promise<HostedWorker> {
    installRuntime(this.log);
    const llm: LlmConnection = options.openai
      ? {
          openai: options.openai,
          offline: null,
          describe: `the given OpenAI client (${options.openai.baseURL})`,
          close: async () => {},
        }
      : await openLlm({ ...(options.offline !== undefined ? { offline: options.offline } : {}) });
    this.log(`LLM calls go to ${llm.describe}`);
    const connection = await connectWorker(this.target);
    let worker: Worker;
    try {
      worker = await createAgentTeamWorker({
        connection,
        client: this.client,
        namespace: this.target.namespace,
        taskQueue: options.taskQueue ?? this.taskQueue,
        agents: this.config.team,
        openai: llm.openai,
        ...(this.client.options.dataConverter.payloadCodecs?.length
          ? { dataConverter: { payloadCodecs: this.client.options.dataConverter.payloadCodecs } }
          : {}),
        temperature: this.config.llm.temperature,
        workerOptions: {
          maxConcurrentActivityTaskExecutions: this.config.worker.max_concurrent_steps,
          ...(this.config.worker.max_steps_per_second > 0
            ? { maxTaskQueueActivitiesPerSecond: this.config.worker.max_steps_per_second }
            : {}),
          shutdownGraceTime: this.config.worker.shutdown_grace_ms,
          ...options.workerOptions,
        },
      });
    } catch (err) {
      await Promise.all([llm.close(), connection.close()]);
      throw err;
    }
    return {
      worker,
      llm,
      run: async <T>(until?: Promise<T>) => {
        try {
          return until ? await worker.runUntil(until) : await worker.run();
        } finally {
          await Promise.all([llm.close(), connection.close()]);
        }
      },
    };
  }

  /** Starts a run; throws {@link UsageError} for an invalid task or a workflow id that is already running. */
  async start(
    task: string,
    options: { workflowId?: string; input?: Partial<TeamInput> } = {},
  ): Promise<{ workflowId: string; runId: string }> {
    const input: TeamInput = { ...teamInputFor(validateTask(task), this.config), ...options.input };
    const workflowId = options.workflowId ?? newWorkflowId();
    try {
      const handle = await this.client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: this.taskQueue,
        workflowId,
        args: [input],
        staticSummary: `Agent team: ${task.replace(/\s+/g, ' ').slice(0, 120)}`,
      });
      return { workflowId, runId: handle.firstExecutionRunId };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new UsageError(
          `a run with workflow id "${workflowId}" is already running: pick another --workflow-id, or wait for it`,
        );
      }
      throw err;
    }
  }

  /** Follows a run to its end, reporting each step, and summarises it. */
  async follow(
    workflowId: string,
    runId: string,
    onStep: (step: RecordedStep, reused: boolean) => void = () => {},
    onAutoResume?: (note: string) => void,
  ): Promise<RunOutcome> {
    const reader = await followRun(this.client, workflowId, runId, (step) => onStep(step, false), onAutoResume);
    return summarize(reader, this.target.namespace);
  }

  /**
   * Follows a started run to its end, hosting a worker in this process unless `worker: false` (the worker
   * is created after the start, so a refused start never leaves one holding the process open).
   */
  async execute(workflowId: string, runId: string, options: ExecuteOptions = {}): Promise<RunOutcome> {
    const hosted =
      options.worker === false
        ? null
        : await this.createWorker({
            ...(options.offline !== undefined ? { offline: options.offline } : {}),
            ...(options.openai ? { openai: options.openai } : {}),
          }).catch((e: Error) => {
            throw new Error(`${e.message} (run ${workflowId} is started: \`agent-team worker\` will execute it)`);
          });
    options.onStarted?.(workflowId, runId);
    const following = this.follow(workflowId, runId, options.onStep, options.onAutoResume);
    return hosted ? ((await hosted.run(following)) as RunOutcome) : following;
  }

  /** Starts a run of the team on `task` and follows it to its end. */
  async runTask(
    task: string,
    options: ExecuteOptions & { workflowId?: string; input?: Partial<TeamInput> } = {},
  ): Promise<RunOutcome> {
    const { workflowId, runId } = await this.start(task, {
      ...(options.workflowId ? { workflowId: options.workflowId } : {}),
      ...(options.input ? { input: options.input } : {}),
    });
    return this.execute(workflowId, runId, options);
  }

  /**
   * Resumes from a checkpoint: resets the workflow there (refusing a running workflow or an invalid id
   * before anything changes) and follows the new run. Steps up to the checkpoint are reused, not re-sent.
   */
  async resume(checkpointId: string, options: ResumeOptions = {}): Promise<ResumeOutcome> {
    const loaded = await this.checkpoints.load(checkpointId);
    if (!options.force) {
      const report = await this.replayCheck(loaded, options.workflowsPath);
      options.onReplayCheck?.(report);
      if (!report.compatible) {
        throw new IncompatibleCodeError(
          `the workflow code does not replay the history this resume would keep (step ${loaded.step} of ${loaded.workflowId}` +
            `${report.divergingEventId ? `: it diverges at event ${report.divergingEventId}, ${report.divergingEventType}` : ''}); ` +
            'the new run would fail on its first workflow task. Nothing was changed. Run code compatible with this run ' +
            '(see `agent-team replay`, and versioning with patched() in docs/design-decisions.md), or pass --force to reset anyway',
        );
      }
    }
    const { checkpoint, runId } = await this.checkpoints.reset(loaded);
    const command = resetCommand({ namespace: this.target.namespace, ...checkpoint });
    options.onReset?.(checkpoint, command);
    const outcome = await this.execute(checkpoint.workflowId, runId, {
      ...options,
      onStep: (step) => options.onStep?.(step, step.completedEventId < checkpoint.eventId),
    });
    const { state: _state, ...resumedFrom } = checkpoint;
    return {
      ...outcome,
      resumedFrom,
      resetCommand: command,
      reusedSteps: checkpoint.step,
      executedSteps: outcome.steps.filter((s) => s.index >= checkpoint.step).length,
      savedUsage: { totalTokens: checkpoint.usage.totalTokens, llmCalls: checkpoint.usage.llmCalls },
    };
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
    const { runId } = await this.start(input.task, { workflowId, input });
    const outcome = await this.execute(workflowId, runId, options);
    return {
      ...outcome,
      restoredFrom: checkpoint,
      reusedSteps: checkpoint.step,
      executedSteps: outcome.steps.length,
      savedUsage: { totalTokens: checkpoint.usage.totalTokens, llmCalls: checkpoint.usage.llmCalls },
    };
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

  /** Closes the connection, and stops the embedded server if this app started it in-process (memory storage). */
  async close(): Promise<void> {
    await this.client.connection.close();
    await this.ownedServer?.stop();
  }
}
