/**
 * What every `agent-team` command shares: lazy loaders for the heavy modules, output helpers, common options,
 * the error-to-exit-code wrapper, and opening a client. How a followed run is shown is ./session.ts.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { flushTracing } from '../temporal/tracing';
import { loadConfig, type AgentTeamConfig } from '../config';
import { RUN_STATUSES, type RunStatus } from '../shared/constants';
import { AgentTeamError, DetachedError, InterruptedError, UsageError, errorMessage } from '../shared/errors';
import type * as ClientModule from '../client';
import type * as EnvironmentModule from '../config/environment';
import type * as ArchiveModule from '../checkpoints/archive';
import type * as PruneModule from '../checkpoints/prune';
import type * as ReplayModule from '../history/replay';
import type * as DevServerModule from '../temporal/dev-server';
import type * as ConnectionModule from '../temporal/connection';
import type * as OfflineLlmModule from '../llm/offline-server';
import { Hints } from './hints';

export { RUN_STATUSES, type RunStatus } from '../shared/constants';

// The Temporal SDK and the openai client take ~1 s to load: commands require them when they run, so that
// --help and usage errors answer at once. Plain require (not import()) behaves the same under tsx, jest and
// the compiled dist/.
/* eslint-disable @typescript-eslint/no-require-imports */
export const loadClient = async (): Promise<typeof ClientModule> => require('../client');
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
/** A line of the command's result, on stdout. */
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

/** The options of the commands that execute a run's steps (`run`, `resume`, `follow`, …). */
export interface ExecuteFlags extends CommonOptions {
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
/** `--detach` of `run`, `follow` and `resume`: leave the run once it waits on a person. */
export const detachOption = (): Option =>
  new Option(
    '--detach',
    'when the run waits on a person (gates, budget), print the question and the commands that answer it, and exit 0',
  );

export function load(options: CommonOptions): AgentTeamConfig {
  return loadConfig(options.config);
}

/** The commands this invocation suggests: they carry its `-c`, so they reach the same server and namespace. */
export const hintsFor = (options: { config?: string | undefined }): Hints => new Hints({ config: options.config });

/**
 * Runs a command body, mapping errors to messages and exit codes (2: usage, nothing changed; 1: failed; 130:
 * interrupted by Ctrl-C, which detaches from a run and says how to continue it). An error's next steps are printed
 * as commands to paste. The body gets the commander arguments and options, then the invocation's {@link Hints}.
 */
export function action<A extends unknown[]>(
  body: (...args: A) => Promise<number | void>,
): (...args: unknown[]) => Promise<void> {
  return async (...given: unknown[]) => {
    // Commander passes the arguments, the options, then the command itself: the body gets the hints instead.
    const args = given.at(-1) instanceof Command ? given.slice(0, -1) : given;
    const options = args.at(-1);
    const hints = hintsFor(options !== null && typeof options === 'object' ? (options as { config?: string }) : {});
    try {
      // A body that wants the hints takes them as its last parameter, after the options.
      const code = await (body as (...all: unknown[]) => Promise<number | void>)(...args, hints);
      process.exitCode = code ?? 0;
    } catch (e) {
      if (e instanceof DetachedError) {
        // A session that followed the run said how to continue it; a bare detach says it here.
        err(`⏸ Detached from ${e.workflowId}: it goes on in Temporal.`);
        for (const line of hints.lines([{ purpose: 'continue it', args: ['follow', e.workflowId] }])) err(line);
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
      if (e instanceof AgentTeamError) for (const line of hints.lines(e.next)) err(line, 'ERROR');
      if (process.env.AGENT_TEAM_DEBUG && e instanceof Error && e.stack) err(e.stack);
      process.exitCode = e instanceof AgentTeamError ? e.exitCode : 1;
    } finally {
      // Spans still buffered (traces on): sent before the process exits, waiting at most 5 s for the collector.
      await flushTracing();
    }
  };
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
 * Opens the client (the embedded server starts if needed), runs `body`, and closes it. A command that read the
 * configuration already passes it, so it is read once.
 */
export async function withClient<T>(
  options: CommonOptions | AgentTeamConfig,
  body: (client: ClientModule.AgentTeamClient) => Promise<T>,
  /** `checkRetention: false` for commands that only answer or list (no note on the namespace's retention). */
  clientOptions: Pick<ClientModule.ClientOptions, 'checkRetention'> = {},
): Promise<T> {
  const config = 'storageDir' in options ? options : load(options);
  const { AgentTeamClient } = await loadClient();
  const client = await AgentTeamClient.open(config, { log: err, ...clientOptions });
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

export const executeOptions = (options: ExecuteFlags): ClientModule.ExecuteOptions => ({
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
