/** Runs the real `agent-team` CLI (and the real `temporal` CLI) as child processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTemporalCli } from '../src/temporal/cli-binary';

const ROOT = join(__dirname, '..');

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment for a child: nothing inherited that would point it at a real LLM or another cluster. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // npm_*: the CLI words its hints after how it was started (npm start, npx); tests start it directly.
    if (!/^(OPENAI_|TEMPORAL_(?!CLI_PATH)|OFFLINE_LLM_|AGENT_TEAM_CONFIG|npm_)/.test(k)) env[k] = v;
  }
  // A config file the Temporal CLI might read must not leak in either.
  env.TEMPORAL_CONFIG_FILE = join(ROOT, 'test', 'fixtures', 'no-temporal-profile.toml');
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Starts `agent-team <args>` from the TypeScript source. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): ChildProcess {
  // tsx resolved here: a cwd outside the checkout (a test's project folder) has no node_modules of its own.
  return spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Waits for a child to exit, collecting its output. */
export function collect(child: ChildProcess): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

export const cli = (args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Result> =>
  collect(spawnCli(args, env, cwd));

/** Runs the CLI with `input` piped to its stdin (then closed), collecting its output. */
export function pipeCli(args: string[], env: NodeJS.ProcessEnv, input: string): Promise<Result> {
  const child = spawn(
    process.execPath,
    ['--require', require.resolve('tsx/cjs'), join(ROOT, 'src/cli/main.ts'), ...args],
    {
      cwd: ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  child.stdin!.end(input);
  return collect(child);
}

/** Runs the Temporal CLI binary the project uses. */
export async function temporal(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<Result> {
  const { path } = await findTemporalCli({ install: false });
  return collect(spawn(path, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** `temporal workflow start` of an agentTeamWorkflow run, as a user of plain Temporal starts one. */
export const startWithTemporal = (
  address: string,
  taskQueue: string,
  workflowId: string,
  input: unknown,
): Promise<Result> =>
  temporal([
    'workflow',
    'start',
    '--address',
    address,
    '--type',
    'agentTeamWorkflow',
    '--task-queue',
    taskQueue,
    '--workflow-id',
    workflowId,
    '--input',
    JSON.stringify(input),
  ]);

/**
 * `temporal workflow show|describe -o json` of a run (the latest one without `runId`), as the Temporal CLI
 * prints it: raw payloads, nothing decoded by this project.
 */
export async function temporalJson(
  command: 'show' | 'describe',
  address: string,
  workflowId: string,
  runId?: string,
): Promise<string> {
  const args = ['workflow', command, '--address', address, '-w', workflowId, ...(runId ? ['-r', runId] : [])];
  return (await temporal([...args, '-o', 'json'])).stdout;
}

/** Writes a config file into a fresh folder; returns its path. */
export function writeConfig(dir: string, yaml: string): string {
  const folder = mkdtempSync(join(dir, 'cfg-'));
  const path = join(folder, 'workflow.yaml');
  writeFileSync(path, yaml);
  return path;
}

/** Waits until `predicate` holds on the child's stderr (e.g. a worker says it is polling). */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; got:\n${seen}`)), timeoutMs);
    const check = (d: Buffer): void => {
      seen += d.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr?.on('data', check);
    child.stdout?.on('data', check);
  });
}
