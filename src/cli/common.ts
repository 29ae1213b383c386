/**
 * What every `agent-team` command shares: lazy loaders for the heavy modules, output helpers, common options,
 * the error-to-exit-code wrapper, and the progress and report printers of runs.
 */
import { flushTracing } from '../temporal/tracing';
import { InvalidArgumentError, Option } from 'commander';
import { loadConfig, type AgentTeamConfig } from '../config';
import { RUN_STATUSES, WORKFLOW_TYPE, type RunStatus } from '../shared/constants';
import { AgentTeamError, DetachedError, InterruptedError, UsageError, errorMessage } from '../shared/errors';
import { carryConfigOption, command } from '../shared/invocation';
import type * as AppModule from '../client/app';
import type * as EnvironmentModule from '../config/environment';
import type * as OutcomeModule from '../client/outcome';
import type * as ArchiveModule from '../checkpoints/archive';
import type * as PruneModule from '../checkpoints/prune';
import type * as ReplayModule from '../history/replay';
import type * as DevServerModule from '../temporal/dev-server';
import type * as ConnectionModule from '../temporal/connection';
import type * as OfflineLlmModule from '../llm/offline-server';
import {
  answerCommands,
  answerText,
  checkpointTable,
  outcomeLine,
  requestLines,
  requestTitle,
  resumeLines,
  stepLine,
  toolScheduledLine,
} from '../render/text';
import type { LiveText } from '../../activities';
import type { HumanRequest } from '../../workflows/types';
import { promptAnswer } from './prompt';
import { wrap } from '../shared/util';
import { isOwnTaskQueue } from '../temporal/names';

export { RUN_STATUSES, type RunStatus } from '../shared/constants';

// The Temporal SDK and the openai client take ~1 s to load: commands require them when they run, so that
// --help and usage errors answer at once. Plain require (not import()) behaves the same under tsx, jest and
// the compiled dist/.
/* eslint-disable @typescript-eslint/no-require-imports */
export const loadApp = async (): Promise<typeof AppModule> => require('../client/app');
export const loadEnvironment = async (): Promise<typeof EnvironmentModule> => require('../config/environment');
export const loadArchive = async (): Promise<typeof ArchiveModule> => require('../checkpoints/archive');
export const loadPrune = async (): Promise<typeof PruneModule> => require('../checkpoints/prune');
export const loadReplay = async (): Promise<typeof ReplayModule> => require('../history/replay');
export const loadDevServer = async (): Promise<typeof DevServerModule> => require('../temporal/dev-server');
export const loadConnection = async (): Promise<typeof ConnectionModule> => require('../temporal/connection');
export const loadOfflineLlm = async (): Promise<typeof OfflineLlmModule> => require('../llm/offline-server');
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * A line on stderr (progress, notes, errors). With AGENT_TEAM_LOG_FORMAT=json every stderr line is one JSON
 * object instead, like the SDK's logs, so a log shipper reads a worker's output whole.
 */
export const err = (line: string, level: 'INFO' | 'ERROR' = 'INFO'): void => {
  if (process.env.AGENT_TEAM_LOG_FORMAT === 'json') {
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, message: line.trim() }) + '\n');
  } else process.stderr.write(line + '\n');
};
export const out = (text: string): void => void process.stdout.write(text + '\n');
/**
 * One JSON value on stdout. Amounts in USD (keys ending in `Usd`) are rounded to 1e-9 (a thousandth of a
 * microdollar, finer than any token's price): sums of float prices print as `0.0002076`, not `0.00020759999999999998`.
 */
export const json = (value: unknown): void =>
  out(
    JSON.stringify(
      value,
      (key, v: unknown) => (typeof v === 'number' && /Usd$/.test(key) ? Math.round(v * 1e9) / 1e9 : v),
      2,
    ),
  );

export interface CommonOptions {
  config?: string;
  json?: boolean;
}

export interface RunOptions extends CommonOptions {
  offline?: boolean;
  worker: boolean;
}

export const configOption = (): Option =>
  new Option('-c, --config <path>', 'configuration file (default: $AGENT_TEAM_CONFIG, else ./config/workflow.yaml)');
export const jsonOption = (): Option => new Option('--json', 'print one JSON object on stdout (for scripts)');
export const offlineOption = (): Option =>
  new Option(
    '--offline',
    'use the built-in offline model (the default when OPENAI_API_KEY and OPENAI_BASE_URL are unset)',
  );
export const liveOption = (): Option =>
  new Option('--live', 'show the text of the step in progress as the model writes it (the default on a terminal)');
export const noWorkerOption = (): Option =>
  new Option('--no-worker', 'do not run a worker in this process (an `agent-team worker` elsewhere runs the steps)');

export function load(options: CommonOptions): AgentTeamConfig {
  const config = loadConfig(options.config);
  // The commands this invocation suggests name the same file, so that they reach the same server and namespace.
  carryConfigOption(options.config);
  return config;
}

/**
 * Runs a command body, mapping errors to messages and exit codes (2: usage, nothing changed; 1: failed; 130:
 * interrupted by Ctrl-C, which detaches from a run and says how to continue it).
 */
export function action<A extends unknown[]>(
  body: (...args: A) => Promise<number | void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await body(...args);
      process.exitCode = code ?? 0;
    } catch (e) {
      if (e instanceof DetachedError) {
        err(detachedMessage(e));
        process.exitCode = 130;
        return;
      }
      if (e instanceof InterruptedError) {
        err(`⏹ ${e.message}`);
        process.exitCode = 130;
        return;
      }
      // Ctrl-C at a prompt (the resume picker): leave quietly.
      if (e instanceof Error && e.name === 'ExitPromptError') {
        process.exitCode = 130;
        return;
      }
      err(`agent-team: ${e instanceof UsageError ? '' : 'error: '}${errorMessage(e)}`, 'ERROR');
      if (process.env.AGENT_TEAM_DEBUG && e instanceof Error && e.stack) err(e.stack);
      process.exitCode = e instanceof AgentTeamError ? e.exitCode : 1;
    } finally {
      // Spans still buffered (traces on): sent before the process exits, waiting at most 5 s for the collector.
      await flushTracing();
    }
  };
}

/** What Ctrl-C during `run`, `resume` or `follow` prints: the run goes on, and the command that continues it. */
export function detachedMessage(e: DetachedError): string {
  const ownQueue = e.taskQueue !== null && isOwnTaskQueue(e.taskQueue, e.workflowId);
  if (waitingOn?.workflowId === e.workflowId) {
    const { request } = waitingOn;
    return [
      `⏸ Detached from ${e.workflowId}: it waits durably for an answer (${requestTitle(request.kind)}).`,
      '  Answer from any shell:',
      ...answerCommands(request, e.workflowId).map((c) => `    ${c}`),
      `  then run its next steps: ${command('follow', e.workflowId)}`,
    ].join('\n');
  }
  return [
    `⏸ Detached from ${e.workflowId}.`,
    '  The run goes on durably in Temporal: no completed step is lost or paid again.',
    ...(ownQueue
      ? ['  No worker executes its steps now. Continue it (a worker, and its steps):']
      : [`  The workers of task queue "${e.taskQueue ?? '?'}" go on with it. Watch it:`]),
    `    ${command('follow', e.workflowId)}`,
    `  Or stop it: ${command('cancel', e.workflowId)}`,
  ].join('\n');
}

/** The run this process follows (for the second Ctrl-C's message). */
let following: string | null = null;
/** The question the followed run waits on, until its next step (for the detach message). */
let waitingOn: { request: HumanRequest; workflowId: string } | null = null;

/**
 * Runs `body` with a signal that the first Ctrl-C aborts: the command detaches from its run (a step in flight
 * finishes, within worker.shutdown_grace_ms) and exits 130; a second Ctrl-C leaves at once.
 */
export async function detachable<T>(body: (signal: AbortSignal, detach: () => void) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const now = (): void => {
    if (following) err(`⏸ Left at once. The run goes on in Temporal: ${command('follow', following)}`);
    process.exit(130);
  };
  const first = (): void => {
    err(
      waitingOn
        ? '\n⏸ Ctrl-C: leaving the run waiting for its answer'
        : '\n⏸ Ctrl-C: detaching; a step in flight here finishes first (Ctrl-C again: now)',
    );
    process.once('SIGINT', now);
    controller.abort();
  };
  process.once('SIGINT', first);
  try {
    return await body(controller.signal, () => controller.abort());
  } finally {
    process.removeListener('SIGINT', first);
    process.removeListener('SIGINT', now);
  }
}

export function parseStatuses(value: string): RunStatus[] {
  return value.split(',').map((raw) => {
    const status = raw.trim().toUpperCase().replace(/-/g, '_');
    if (!(RUN_STATUSES as readonly string[]).includes(status)) {
      throw new InvalidArgumentError(`"${raw}" is not one of ${RUN_STATUSES.join(', ').toLowerCase()}`);
    }
    return status as RunStatus;
  });
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

/**
 * Opens the client module (the embedded server starts if needed), runs `body`, and closes it. A command that
 * read the configuration already passes it, so it is read once.
 */
export async function withApp<T>(
  options: CommonOptions | AgentTeamConfig,
  body: (app: AppModule.AgentTeamApp) => Promise<T>,
  /** `checkRetention: false` for commands that only answer or list (no note on the namespace's retention). */
  appOptions: Pick<AppModule.AppOptions, 'checkRetention'> = {},
): Promise<T> {
  const config = 'storageDir' in options ? options : load(options);
  const { AgentTeamApp } = await loadApp();
  const app = await AgentTeamApp.open(config, { log: err, ...appOptions });
  try {
    return await body(app);
  } finally {
    await app.close();
  }
}

/** What `run`, `resume` and `follow` show while a run executes, and how they put a waiting run's question. */
export function progress(
  app: AppModule.AgentTeamApp,
  options: {
    /** `run --detach`: called instead of asking, when the run starts waiting on a person. */
    onWaiting?: (request: HumanRequest, workflowId: string) => void;
    /** Show the text of the step in progress as the model writes it. */
    live?: boolean;
  } = {},
): Pick<
  AppModule.ExecuteOptions,
  | 'onStarted'
  | 'onStep'
  | 'onAutoResume'
  | 'onHosting'
  | 'onRequest'
  | 'onAnswerError'
  | 'onAnswered'
  | 'onLive'
  | 'onToolStarted'
  | 'onUnserved'
> {
  // The step whose text is being shown, and how much of it is out; a line left open ends before the next print.
  let open: { step: number; chars: number } | null = null;
  const endLive = (): void => {
    if (open) process.stderr.write('\n');
    open = null;
  };
  return {
    ...(options.live
      ? {
          onLive: (live: LiveText) => {
            if (open?.step !== live.step) {
              endLive();
              process.stderr.write(`  ✎ #${live.step} ${live.agent}: `);
              open = { step: live.step, chars: 0 };
            }
            // The heartbeat carries the end of the text: print what is new since the last one.
            const fresh = live.chars - open.chars;
            if (fresh > 0) process.stderr.write(live.text.slice(-fresh).replace(/\s+/g, ' '));
            open.chars = live.chars;
          },
        }
      : {}),
    onToolStarted: (req) => {
      endLive();
      err(toolScheduledLine(req));
    },
    onStarted: (workflowId, runId, taskQueue) => {
      following = workflowId;
      err(`▶ ${WORKFLOW_TYPE} ${workflowId} (run ${runId})`);
      err(`  on ${app.target.address}, namespace ${app.target.namespace}, task queue ${taskQueue}`);
      const ui = app.webUiUrl(workflowId, runId);
      if (ui) err(`  Web UI: ${ui}`);
    },
    onHosting: (taskQueue, why) => err(`  A worker here serves task queue "${taskQueue}": ${why}`),
    onStep: (step, reused) => {
      endLive();
      waitingOn = null;
      err(stepLine(step.result, step.costUsd) + (reused ? '  (reused from the checkpoint)' : ''));
    },
    onAutoResume: (note) => err(`  ↻ ${note}`),
    onUnserved: (taskQueue) => {
      endLive();
      err(
        `  ⚠ No worker polls task queue "${taskQueue}": nothing runs this run's steps until one does.\n` +
          `    Serve it from another shell: ${command('worker', '--task-queue', taskQueue)}`,
      );
    },
    onRequest: async (request, workflowId, signal) => {
      // On a terminal, ask; otherwise (piped, CI) keep following until someone answers from elsewhere.
      const ask = !options.onWaiting && process.stdin.isTTY && process.stderr.isTTY;
      for (const line of requestLines(request, workflowId, ask ? 'here' : 'elsewhere')) err(line);
      waitingOn = { request, workflowId };
      if (options.onWaiting) return options.onWaiting(request, workflowId);
      if (ask) return promptAnswer(request, signal);
      err('  No terminal here: following the run until it is answered (Ctrl-C leaves it).');
    },
    onAnswerError: (e) => err(`  ✖ ${errorMessage(e)}`, 'ERROR'),
    onAnswered: (a) => {
      for (const line of wrap(`✔ answered: ${answerText(a)}`, 76)) err(`  ${line}`);
    },
  };
}

/** `--detach` of `run`, `follow` and `resume`: leave the run once it waits on a person. */
export const detachOption = (): Option =>
  new Option(
    '--detach',
    'when the run waits on a person (gates, budget), print the question and the commands that answer it, and exit 0',
  );

/**
 * Follows a run (`execute` starts, attaches to or resumes it) with the progress view, Ctrl-C detaching, and with
 * `detach` leaving it (exit 0) as soon as it waits on a person. Returns the exit code.
 */
export async function followWithProgress(
  app: AppModule.AgentTeamApp,
  options: { detach?: boolean; json?: boolean; live?: boolean },
  execute: (view: ReturnType<typeof progress> & { signal: AbortSignal }) => Promise<OutcomeModule.RunOutcome>,
): Promise<number> {
  return detachable(async (signal, detach) => {
    let waiting: { request: HumanRequest; workflowId: string } | null = null;
    const onWaiting = (request: HumanRequest, workflowId: string) => {
      waiting = { request, workflowId };
      detach();
    };
    try {
      const live = options.live ?? (process.stderr.isTTY && !options.json);
      const outcome = await execute({
        ...progress(app, { ...(options.detach ? { onWaiting } : {}), live }),
        signal,
      });
      return report(outcome, options.json);
    } catch (e) {
      if (!(e instanceof DetachedError) || !waiting) throw e;
      const { request, workflowId } = waiting;
      err(
        `⏸ Left ${workflowId} waiting for you: it waits durably in Temporal, with no worker up.\n` +
          `  Answer with a command above, then run its next steps: ${command('follow', workflowId)}`,
      );
      if (options.json) json({ workflowId, runId: e.runId, status: 'RUNNING', waiting: request });
      return 0;
    }
  });
}

/** The closing report on stderr, and the answer (or JSON) on stdout. Returns the exit code. */
export function report(outcome: OutcomeModule.RunOutcome, asJson: boolean | undefined): number {
  if (outcome.checkpoints.length > 0)
    err(checkpointTable([...outcome.checkpoints].reverse(), { title: 'Checkpoints of this run' }));
  err(outcomeLine(outcome));
  for (const line of resumeLines(outcome)) err(line);
  if (asJson) json(outcome);
  else if (outcome.result) out(outcome.result.answer);
  return outcome.status === 'COMPLETED' ? 0 : 1;
}

export const executeOptions = (options: RunOptions): AppModule.ExecuteOptions => ({
  worker: options.worker,
  ...(options.offline ? { offline: true } : {}),
});

/**
 * Checks the configuration and the environment a run will use (OPENAI_*, OFFLINE_LLM_*, encryption keys, log
 * settings) before anything starts or connects: a bad value is a usage error (exit 2).
 */
export async function preflight(
  options: CommonOptions & { offline?: boolean; worker?: boolean },
): Promise<AgentTeamConfig> {
  const config = load(options);
  const { checkEnvironment } = await loadEnvironment();
  checkEnvironment(process.env, {
    offline: options.offline ?? false,
    ...(options.worker === false ? { llm: false } : {}),
  });
  return config;
}

/** `--port <port>`, validated as 0-65535. */
export const portOption = (fallback: number): Option =>
  new Option('--port <port>', 'port to listen on')
    .argParser((v) => {
      const port = Number(v);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new InvalidArgumentError('expected a port number 0-65535');
      return port;
    })
    .default(fallback);

/** Resolves on the first SIGINT or SIGTERM (servers that run until stopped). */
export const untilStopped = (): Promise<void> =>
  new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });

/** Writes `text` to `path` whole or not at all (a temporary file renamed into place). */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const { renameSync, writeFileSync, unlinkSync } = await import('node:fs');
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
    throw new UsageError(`cannot write ${path}: ${errorMessage(e)}`, { cause: e });
  }
}
