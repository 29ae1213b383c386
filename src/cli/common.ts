/**
 * What every `agent-team` command shares: lazy loaders for the heavy modules, output helpers, common options,
 * the error-to-exit-code wrapper, and the progress and report printers of runs.
 */
import { InvalidArgumentError, Option } from 'commander';
import { loadConfig, type AgentTeamConfig } from '../config';
import { UsageError } from '../errors';
import { checkpointTable, outcomeLine, stepLine } from './format';
import type * as AppModule from '../app';
import type * as CheckpointsModule from '../checkpoints';
import type * as ConnectionModule from '../temporal/connection';
import type * as ReplayModule from '../replay';
import type * as DevServerModule from '../temporal/dev-server';
import type * as OfflineLlmModule from '../offline-llm/server';

// The Temporal SDK and the openai client take ~1 s to load: commands require them when they run, so that
// --help and usage errors answer at once. Plain require (not import()) behaves the same under tsx, jest and
// the compiled dist/.
/* eslint-disable @typescript-eslint/no-require-imports */
export const loadApp = async (): Promise<typeof AppModule> => require('../app');
export const loadDevServer = async (): Promise<typeof DevServerModule> => require('../temporal/dev-server');
export const loadCheckpoints = async (): Promise<typeof CheckpointsModule> => require('../checkpoints');
export const loadReplay = async (): Promise<typeof ReplayModule> => require('../replay');
export const loadConnection = async (): Promise<typeof ConnectionModule> => require('../temporal/connection');
export const loadOfflineLlm = async (): Promise<typeof OfflineLlmModule> => require('../offline-llm/server');
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
export const json = (value: unknown): void => out(JSON.stringify(value, null, 2));

export interface CommonOptions {
  config?: string;
  json?: boolean;
}

export const configOption = (): Option =>
  new Option('-c, --config <path>', 'configuration file (default: $AGENT_TEAM_CONFIG, else ./config/workflow.yaml)');
export const jsonOption = (): Option => new Option('--json', 'print one JSON object on stdout (for scripts)');
export const offlineOption = (): Option =>
  new Option(
    '--offline',
    'use the built-in offline model (the default when OPENAI_API_KEY and OPENAI_BASE_URL are unset)',
  );
export const noWorkerOption = (): Option =>
  new Option('--no-worker', 'do not run a worker in this process (an `agent-team worker` elsewhere runs the steps)');

export function load(options: CommonOptions): AgentTeamConfig {
  return loadConfig(options.config);
}

/** Runs a command body, mapping errors to messages and exit codes. */
export function action<A extends unknown[]>(
  body: (...args: A) => Promise<number | void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await body(...args);
      process.exitCode = code ?? 0;
    } catch (e) {
      const error = e as Error;
      err(`agent-team: ${error instanceof UsageError ? '' : 'error: '}${error.message}`, 'ERROR');
      if (process.env.AGENT_TEAM_DEBUG && error.stack) err(error.stack);
      process.exitCode = error instanceof UsageError ? 2 : 1;
    }
  };
}

export interface RunOptions extends CommonOptions {
  offline?: boolean;
  worker: boolean;
}

export const RUN_STATUSES = [
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELED',
  'TERMINATED',
  'TIMED_OUT',
  'CONTINUED_AS_NEW',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

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

export async function openApp(options: CommonOptions): Promise<AppModule.AgentTeamApp> {
  const config = load(options);
  const { AgentTeamApp } = await loadApp();
  return AgentTeamApp.open(config, { log: err });
}

/** What `run` and `resume` show while a run executes. */
export function progress(
  app: AppModule.AgentTeamApp,
): Pick<AppModule.ExecuteOptions, 'onStarted' | 'onStep' | 'onAutoResume'> {
  return {
    onStarted: (workflowId, runId) => {
      err(
        `▶ agentTeamWorkflow ${workflowId} (run ${runId}) on ${app.target.address}, namespace ${app.target.namespace}`,
      );
      const ui = app.webUiUrl(workflowId, runId);
      if (ui) err(`  Web UI: ${ui}`);
    },
    onStep: (step, reused) => err(stepLine(step) + (reused ? '  (reused from the checkpoint)' : '')),
    onAutoResume: (note) => err(`  ↻ ${note}`),
  };
}

/** The closing report on stderr, and the answer (or JSON) on stdout. Returns the exit code. */
export function report(outcome: AppModule.RunOutcome, asJson: boolean | undefined): number {
  if (outcome.checkpoints.length > 0)
    err(checkpointTable([...outcome.checkpoints].reverse(), 'Checkpoints of this run'));
  err(outcomeLine(outcome));
  if (asJson) json(outcome);
  else if (outcome.result) out(outcome.result.answer);
  return outcome.status === 'COMPLETED' ? 0 : 1;
}

export const executeOptions = (options: RunOptions): AppModule.ExecuteOptions => ({
  worker: options.worker,
  ...(options.offline ? { offline: true } : {}),
});

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
