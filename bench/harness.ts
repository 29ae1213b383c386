/**
 * What every benchmark figure shares (bench/figures/*): the run's settings (`--quick`, `--no-cluster`), statistics,
 * the offline model, the embedded Temporal server and the workers in this process, and a second worker process.
 * bench/run.ts runs the figures in order and writes the results.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { AgentTeamClient } from '../src/client';
import type { HostedWorker } from '../src/client/hosted-worker';
import { installRuntime } from '../src/temporal/runtime';
import { parseConfig } from '../src/config';
import {
  parseFaults,
  readOfflineLlmLog,
  startOfflineLlm,
  type OfflineLlmLogEntry,
  type OfflineLlmServer,
} from '../src/llm/offline-server';
import { ensureDevServer, freePort, type DevServer } from '../src/temporal/dev-server';
import type { TeamInput } from '../workflows/types';
import { openaiFor } from './systems';

export const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-cluster': { type: 'boolean', default: false },
    /** Only these sections (numbers, comma-separated), e.g. `--only 4` while working on one figure. */
    only: { type: 'string' },
  },
});
/** Whether section `n` runs (all do unless `--only` names others). */
export const runs = (n: number): boolean =>
  !args.only ||
  args.only
    .split(',')
    .map((x) => Number(x.trim()))
    .includes(n);
export const QUICK = args.quick ?? false;
export const REPS = QUICK ? 5 : 10;
export const LATENCIES = [0, 200];
export const CONCURRENCY = [1, 10, 100];
/** Executions in the namespace (threads in LangGraph's database) the listing figure grows through. */
export const LISTING_SIZES = QUICK ? [100, 1000] : [100, 1000, 10_000];
export const LISTING_RUNS = LISTING_SIZES[LISTING_SIZES.length - 1]!;
/** Runs at once for the two-worker-process throughput figure. */
export const TWO_WORKER_RUNS = QUICK ? 10 : 100; // compared with the same load on one worker (concurrent<N>)
export const TASK = 'Compare quicksort and mergesort';
export const ROOT = join(__dirname, '..');
export const work = mkdtempSync(join(tmpdir(), 'agent-team-bench-'));
export const log = (line: string): void => void process.stderr.write(line + '\n');

// ---------------------------------------------------------------- statistics and the offline model's log

export const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
export const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};
export const stats = (xs: number[]) => ({
  median: round(quantile(xs, 0.5)),
  p95: round(quantile(xs, 0.95)),
  min: round(Math.min(...xs)),
  max: round(Math.max(...xs)),
  n: xs.length,
});
export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

export interface Model {
  server: OfflineLlmServer;
  logPath: string;
  entries(): OfflineLlmLogEntry[];
}
export let models = 0;
export async function model(
  latencyMs: number,
  faults: string = '',
  shape: { turns?: number; answerChars?: number } = {},
): Promise<Model> {
  const logPath = join(work, `llm-${models++}.jsonl`);
  const server = await startOfflineLlm({ latencyMs, logPath, faults: parseFaults(faults), turns: 0, ...shape });
  return {
    server,
    logPath,
    entries: () => readOfflineLlmLog(logPath),
  };
}

// ---------------------------------------------------------------- the embedded Temporal server and workers

export let server: DevServer;
export let app: AgentTeamClient;
export const hosted: { worker: HostedWorker; done: Promise<unknown>; queue: string }[] = [];

export async function startTemporal(): Promise<void> {
  server = await ensureDevServer({
    storage: 'file',
    dir: join(work, 'temporal'),
    port: await freePort(),
    uiPort: 0,
    headless: true,
    namespace: 'default',
    detached: false,
  });
  app = await AgentTeamClient.open(parseConfig({ temporal: { task_queue: 'bench' } }), {
    temporal: { kind: 'cluster', address: server.address },
  });
  installRuntime(() => {});
}

/** A worker in this process on its own task queue, talking to `baseURL` (on `on`'s server, default the embedded one). */
export async function worker(baseURL: string, on: AgentTeamClient = app): Promise<string> {
  const queue = `bench-${hosted.length}`;
  const w = await on.workers.host({ openai: openaiFor(baseURL), taskQueue: queue });
  hosted.push({ worker: w, done: w.run(), queue });
  return queue;
}

export function input(extra: Partial<TeamInput> = {}): TeamInput {
  return {
    task: TASK,
    llm: {
      timeoutMs: 60_000,
      maxAttempts: 1,
      initialRetryMs: 100,
      maxRetryMs: 100,
      backoffCoefficient: 2,
      heartbeatMs: 10_000,
    },
    autoResume: { enabled: false },
    ...extra,
  };
}

/** Which agent call is step k in the offline model's script (plan, ledger, member, ledger, …, final). */
export function faultAt(k: number): string {
  const orchestratorCalls = [0, 1, 3, 5, 7, 8];
  const members: Record<number, string> = { 2: 'researcher:1', 4: 'coder:1', 6: 'analyst:1' };
  if (members[k]) return `${members[k]}:fatal`;
  return `orchestrator:${orchestratorCalls.indexOf(k) + 1}:fatal`;
}

/** A second worker process (`agent-team worker`) on `queue`, polling before this returns. */
export async function secondWorker(queue: string, address: string, baseURL: string): Promise<ChildProcess> {
  const config = join(work, `${queue}-worker2.yaml`);
  writeFileSync(config, `temporal:\n  task_queue: ${queue}\n`);
  const second: ChildProcess = spawn(
    process.execPath,
    ['--require', 'tsx/cjs', join(ROOT, 'src/cli/main.ts'), 'worker', '--config', config],
    {
      env: { ...process.env, TEMPORAL_ADDRESS: address, OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: 'offline' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    second.stderr?.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('Worker polling')) resolve();
    });
    second.once('exit', () => reject(new Error(`second worker exited: ${seen}`)));
  });
  second.removeAllListeners('exit');
  return second;
}

/** A package's version, from its package.json (found the way Node resolves it from here). */
export function versionOf(pkg: string): string {
  let dir = dirname(require.resolve(pkg));
  while (
    !existsSync(join(dir, 'package.json')) ||
    JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== pkg
  ) {
    const up = dirname(dir);
    if (up === dir) return '?';
    dir = up;
  }
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version as string;
}
