/**
 * `npm run bench [-- --quick]`: the benchmarks side by side, in one process, on this machine. See
 * docs/benchmarks.md for what each figure means. Writes bench/results/<date>.json and prints the tables.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { AgentTeamApp } from '../src/client/app';
import type { HostedWorker } from '../src/client/hosted-worker';
import { installRuntime } from '../src/temporal/runtime';
import { DEFAULT_PRICING, parseConfig, teamInputFor } from '../src/config';
import { costOf } from '../workflows/pricing';
import {
  parseFaults,
  readOfflineLlmLog,
  startOfflineLlm,
  type OfflineLlmLogEntry,
  type OfflineLlmServer,
} from '../src/llm/offline-server';
import { cliVersion, findTemporalCli } from '../src/temporal/cli-binary';
import { PACKAGE_VERSION, cacheDir } from '../src/shared/package';
import { ensureDevServer, freePort, type DevServer } from '../src/temporal/dev-server';
import { agentTeamWorkflow } from '../workflows';
import type { ModelPrice, TeamInput } from '../workflows/types';
import {
  langGraphSystem,
  openaiFor,
  runBaseline,
  runTemporal,
  SYSTEMS,
  type RunReport,
  type SystemName,
} from './systems';
import { stepGaps } from './event-gaps';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, 'no-cluster': { type: 'boolean', default: false } },
});
const QUICK = args.quick ?? false;
const REPS = QUICK ? 5 : 10;
const LATENCIES = [0, 200];
const CONCURRENCY = [1, 10, 100];
/** Executions in the namespace (threads in LangGraph's database) for the listing figure. */
const LISTING_RUNS = QUICK ? 100 : 1000;
/** Runs at once for the two-worker-process throughput figure. */
const TWO_WORKER_RUNS = QUICK ? 10 : 100; // compared with the same load on one worker (concurrent<N>)
const TASK = 'Compare quicksort and mergesort';
const ROOT = join(__dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'agent-team-bench-'));
const log = (line: string): void => void process.stderr.write(line + '\n');

// ---------------------------------------------------------------- statistics and the offline model's log

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};
const stats = (xs: number[]) => ({
  median: round(quantile(xs, 0.5)),
  p95: round(quantile(xs, 0.95)),
  min: round(Math.min(...xs)),
  max: round(Math.max(...xs)),
  n: xs.length,
});
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

interface Model {
  server: OfflineLlmServer;
  logPath: string;
  entries(): OfflineLlmLogEntry[];
}
let models = 0;
async function model(latencyMs: number, faults: string = ''): Promise<Model> {
  const logPath = join(work, `llm-${models++}.jsonl`);
  const server = await startOfflineLlm({ latencyMs, logPath, faults: parseFaults(faults), turns: 0 });
  return {
    server,
    logPath,
    entries: () => readOfflineLlmLog(logPath),
  };
}

// ---------------------------------------------------------------- the embedded Temporal server and workers

let server: DevServer;
let app: AgentTeamApp;
const hosted: { worker: HostedWorker; done: Promise<unknown>; queue: string }[] = [];

async function startTemporal(): Promise<void> {
  server = await ensureDevServer({
    storage: 'file',
    dir: join(work, 'temporal'),
    port: await freePort(),
    uiPort: 0,
    headless: true,
    namespace: 'default',
    detached: false,
  });
  app = await AgentTeamApp.open(parseConfig({ temporal: { task_queue: 'bench' } }), {
    temporal: { kind: 'cluster', address: server.address },
  });
  installRuntime(() => {});
}

/** A worker in this process on its own task queue, talking to `baseURL` (on `on`'s server, default the embedded one). */
async function worker(baseURL: string, on: AgentTeamApp = app): Promise<string> {
  const queue = `bench-${hosted.length}`;
  const w = await on.createWorker({ openai: openaiFor(baseURL), taskQueue: queue });
  hosted.push({ worker: w, done: w.run(), queue });
  return queue;
}

function input(extra: Partial<TeamInput> = {}): TeamInput {
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

// ---------------------------------------------------------------- 1, 2: per-step overhead and share of wall time

async function overhead() {
  const out: Record<string, unknown> = {};
  for (const latency of LATENCIES) {
    const m = await model(latency);
    const queue = await worker(m.server.baseURL);
    const lgSqlite = langGraphSystem('langgraph-sqlite', m.server.baseURL, join(work, `lg-${latency}.sqlite`));
    const lgMemory = langGraphSystem('langgraph-memory', m.server.baseURL, '');
    const runs: Record<SystemName, RunReport[]> = {
      baseline: [],
      temporal: [],
      'langgraph-sqlite': [],
      'langgraph-memory': [],
    };
    const exec: Record<SystemName, () => Promise<RunReport>> = {
      baseline: () => runBaseline(m.server.baseURL, input()),
      temporal: () => runTemporal(app, input(), queue),
      'langgraph-sqlite': () => lgSqlite.run(input()),
      'langgraph-memory': () => lgMemory.run(input()),
    };
    // Warm-up (JIT, workflow bundle, connections), not counted; once is enough for the whole process.
    if (latency === LATENCIES[0]) for (const s of SYSTEMS) await exec[s]();
    // Quick mode leaves LangGraph's MemorySaver out at 200 ms (its SqliteSaver stays) to finish under 2 minutes.
    const systems = SYSTEMS.filter((s) => !(QUICK && latency > 0 && s === 'langgraph-memory'));
    for (let rep = 0; rep < REPS; rep++) {
      for (const s of systems) {
        const r = await exec[s]();
        if (!r.ok) throw new Error(`${s} failed: ${r.error}`);
        runs[s].push(r);
      }
    }
    const entries = m.entries();
    const perSystem: Record<string, unknown> = {};
    const baseStepMs = runs.baseline.map((r) => r.wallMs / r.steps);
    for (const s of systems) {
      const gaps = stepGaps(entries, new Set(runs[s].map((r) => r.id)));
      const stepMs = runs[s].map((r) => r.wallMs / r.steps);
      const overheadMs = stepMs.map((x, i) => x - baseStepMs[i]!);
      perSystem[s] = {
        runMs: stats(runs[s].map((r) => r.wallMs)),
        steps: runs[s][0]!.steps,
        stepGapMs: stats(gaps),
        overheadPerStepMs: stats(overheadMs),
        overheadShareOfWall: round(
          quantile(
            runs[s].map((r, i) => (r.wallMs - runs.baseline[i]!.wallMs) / r.wallMs),
            0.5,
          ),
          4,
        ),
      };
    }
    const o = (s: SystemName): number =>
      (perSystem[s] as { overheadPerStepMs: { median: number } }).overheadPerStepMs.median;
    out[`latency${latency}ms`] = {
      latencyMs: latency,
      systems: perSystem,
      ratioTemporalToLangGraphSqlite: round(o('temporal') / o('langgraph-sqlite')),
      ratioTemporalToLangGraphMemory: perSystem['langgraph-memory']
        ? round(o('temporal') / o('langgraph-memory'))
        : null,
    };
    await m.server.close();
  }
  return out;
}

// ---------------------------------------------------------------- the platform's floor

/**
 * The same server and SDK with nothing to do: a workflow of 9 no-op activities in sequence (bench/floor/), one
 * activity and one workflow task per step like the team. Its time per step is what any Temporal step costs on
 * this machine, the reference for the team's overhead.
 */
async function floor() {
  const runMs = await floorRuns(app, server.address);
  return {
    what: `a workflow of ${FLOOR_STEPS} no-op activities on the same server and SDK`,
    steps: FLOOR_STEPS,
    runMs: stats(runMs),
    perStepMs: stats(runMs.map((x) => x / FLOOR_STEPS)),
  };
}

const FLOOR_STEPS = 9;

/** Run times (ms) of the floor workflow on a server, TypeScript SDK worker, after one warm-up run. */
async function floorRuns(on: AgentTeamApp, address: string): Promise<number[]> {
  const { NativeConnection } = await import('@temporalio/worker');
  const { createFloorWorker } = await import('./floor/worker');
  const connection = await NativeConnection.connect({ address });
  const taskQueue = `bench-floor-${Date.now()}`;
  const w = await createFloorWorker(connection, taskQueue);
  const done = w.run();
  try {
    const runMs: number[] = [];
    for (let rep = 0; rep <= REPS; rep++) {
      const t0 = performance.now();
      await on.client.workflow.execute('trivial', {
        taskQueue,
        workflowId: `${taskQueue}-${rep}`,
        args: [FLOOR_STEPS],
      });
      if (rep > 0) runMs.push(performance.now() - t0); // the first run warms up
    }
    return runMs;
  } finally {
    w.shutdown();
    await done;
    await connection.close();
  }
}

// ---------------------------------------------------------------- 3, 4: retry cost and resume latency

/** Which agent call is step k in the offline model's script (plan, ledger, member, ledger, …, final). */
function faultAt(k: number): string {
  const orchestratorCalls = [0, 1, 3, 5, 7, 8];
  const members: Record<number, string> = { 2: 'researcher:1', 4: 'coder:1', 6: 'analyst:1' };
  if (members[k]) return `${members[k]}:fatal`;
  return `orchestrator:${orchestratorCalls.indexOf(k) + 1}:fatal`;
}

/** The shipped price table (a snapshot of OpenAI's list prices), as a run records it. */
const PRICES: Record<string, ModelPrice> = Object.fromEntries(
  Object.entries(DEFAULT_PRICING).map(([m, p]) => [
    m,
    { input: p.input, cachedInput: p.cached_input, output: p.output },
  ]),
);

/** What recovering cost: calls sent, tokens and USD paid (answered calls, at the shipped prices of their model). */
const spent = (entries: OfflineLlmLogEntry[]) => {
  const paid = entries.filter((e) => e.status === 200);
  return {
    calls: entries.length,
    tokens: paid.reduce((t, e) => t + e.promptTokens + e.completionTokens, 0),
    usd: round(
      paid.reduce((t, e) => t + costOf(e, e.model, PRICES), 0),
      6,
    ),
  };
};

async function retryCost() {
  const n = 9;
  const out: Record<string, unknown> = {};
  for (const k of [Math.floor(n / 2), n - 1]) {
    const row: Record<string, unknown> = {};
    // baseline: nothing to resume from; the only recovery is a new run from scratch
    {
      const m = await model(0, faultAt(k));
      const failed = await runBaseline(m.server.baseURL, input());
      const before = m.entries().length;
      const again = await runBaseline(m.server.baseURL, input());
      const recovery = spent(m.entries().slice(before));
      row.baseline = {
        failedAtStep: failed.steps,
        restartFromScratch: recovery,
        resumeFromCheckpoint: null,
        recovered: again.ok,
      };
      await m.server.close();
    }
    // temporal: restart from scratch = a new run; resume = reset to the last checkpoint
    {
      const m = await model(0, faultAt(k));
      const queue = await worker(m.server.baseURL);
      const failed = await runTemporal(app, input(), queue);
      const before = m.entries().length;
      const last = (await app.checkpoints.list({ workflowId: failed.id }))[0]!;
      const t0 = performance.now();
      const resumeStarted = Date.now();
      const { runId } = await app.checkpoints.reset(last.checkpointId);
      const resetMs = performance.now() - t0;
      await app.client.workflow.getHandle(failed.id, runId).result();
      const resumed = m.entries().slice(before);
      const firstStepMs = resumed[0] ? Date.parse(resumed[0].time) - resumeStarted : NaN;
      const before2 = m.entries().length;
      const scratch = await runTemporal(app, input(), queue);
      row.temporal = {
        failedAtStep: last.step,
        resumeFromCheckpoint: spent(resumed),
        restartFromScratch: spent(m.entries().slice(before2)),
        recovered: scratch.ok,
        resumeLatencyMs: { resetCall: round(resetMs), toFirstNewStepAnswered: firstStepMs },
      };
      await m.server.close();
    }
    for (const name of ['langgraph-sqlite', 'langgraph-memory'] as const) {
      const m = await model(0, faultAt(k));
      const lg = langGraphSystem(name, m.server.baseURL, join(work, `lg-retry-${k}.sqlite`));
      const failed = await lg.run(input());
      if (failed.ok) throw new Error(`${name} did not fail at step ${k}`);
      const before = m.entries().length;
      const resumeStarted = Date.now();
      const resumed = await lg.resume(failed.id);
      const resumedEntries = m.entries().slice(before);
      const before2 = m.entries().length;
      await lg.run(input());
      row[name] = {
        failedAtStep: k,
        resumeFromCheckpoint: spent(resumedEntries),
        restartFromScratch: spent(m.entries().slice(before2)),
        recovered: resumed.ok,
        resumeLatencyMs: {
          toFirstNewStepAnswered: resumedEntries[0] ? Date.parse(resumedEntries[0].time) - resumeStarted : NaN,
        },
      };
      await m.server.close();
    }
    for (const v of Object.values(row) as {
      restartFromScratch: { calls: number; tokens: number; usd: number };
      resumeFromCheckpoint: { calls: number; tokens: number; usd: number } | null;
      savingPercent?: unknown;
    }[]) {
      if (v.resumeFromCheckpoint) {
        v.savingPercent = {
          calls: round(100 * (1 - v.resumeFromCheckpoint.calls / v.restartFromScratch.calls), 1),
          tokens: round(100 * (1 - v.resumeFromCheckpoint.tokens / v.restartFromScratch.tokens), 1),
          usd: round(100 * (1 - v.resumeFromCheckpoint.usd / v.restartFromScratch.usd), 1),
        };
      }
    }
    out[`failAtStep${k}of${n}`] = row;
  }
  return out;
}

/** Resume latency as a user sees it: `resume` with its replay check, and with --force. */
async function resumeLatency() {
  const m = await model(0, faultAt(8));
  const queue = await worker(m.server.baseURL);
  const measure = async (force: boolean) => {
    const samples: number[] = [];
    for (let i = 0; i < (QUICK ? 3 : 5); i++) {
      // The first run fails at its last step; later ones complete (the fault is used up): either way the
      // measurement is the same, a reset to the run's last checkpoint until the next step is answered.
      const failed = await runTemporal(app, input(), queue);
      const last = (await app.checkpoints.list({ workflowId: failed.id })).find((c) => c.step === 8)!;
      const before = m.entries().length;
      const t0 = Date.now();
      if (!force) await app.replayCheck(last);
      await app.checkpoints.reset(last.checkpointId);
      for (let j = 0; j < 200 && m.entries().length === before; j++) await new Promise((r) => setTimeout(r, 5));
      const first = m.entries()[before];
      if (first) samples.push(Date.parse(first.time) - t0);
    }
    return stats(samples);
  };
  const result = { withReplayCheckMs: await measure(false), forceMs: await measure(true) };
  await m.server.close();
  return result;
}

// ---------------------------------------------------------------- 5: throughput

async function throughput() {
  const out: Record<string, unknown> = {};
  const m = await model(0);
  const queue = await worker(m.server.baseURL);
  const lg = langGraphSystem('langgraph-sqlite', m.server.baseURL, join(work, 'lg-throughput.sqlite'));
  const lgm = langGraphSystem('langgraph-memory', m.server.baseURL, '');
  const measure = async (runOne: () => Promise<RunReport>, c: number) => {
    const t0 = performance.now();
    const reports = await Promise.all(Array.from({ length: c }, runOne));
    const wall = performance.now() - t0;
    const steps = reports.reduce((t, r) => t + r.steps, 0);
    const gaps = stepGaps(m.entries(), new Set(reports.map((r) => r.id)));
    return {
      runs: c,
      ok: reports.filter((r) => r.ok).length,
      wallMs: round(wall),
      stepsPerSecond: round(steps / (wall / 1000), 1),
      stepLatencyMs: stats(gaps),
    };
  };
  for (const c of CONCURRENCY) {
    log(`  throughput: ${c} concurrent runs`);
    out[`concurrent${c}`] = {
      baseline: await measure(() => runBaseline(m.server.baseURL, input()), c),
      temporal: await measure(() => runTemporal(app, input(), queue), c),
      'langgraph-sqlite': await measure(() => lg.run(input()), c),
      // (quick: MemorySaver at the highest load is left out to stay under 2 minutes)
      ...(QUICK && c === CONCURRENCY[CONCURRENCY.length - 1]
        ? {}
        : { 'langgraph-memory': await measure(() => lgm.run(input()), c) }),
    };
  }
  // A second worker process on the same task queue (compare with concurrent<N> above: one worker process).
  const second = await secondWorker(queue, server.address, m.server.baseURL);
  const c = TWO_WORKER_RUNS;
  out[`concurrent${c}TwoWorkerProcesses`] = { temporal: await measure(() => runTemporal(app, input(), queue), c) };
  second.kill('SIGTERM');
  await new Promise((r) => second.once('exit', r));
  await m.server.close();
  return out;
}

// ---------------------------------------------------------------- 6: history bytes per step

async function historySize() {
  const out: Record<string, unknown> = {};
  // The model keeps the task open (turns), so each run goes to max_rounds: 2 steps per round. Bytes do not
  // depend on timing, so the systems and sizes run at the same time.
  const turnsModel = await startOfflineLlm({ turns: 100_000 });
  const queue = await worker(turnsModel.baseURL);
  const db = join(work, 'lg-history.sqlite');
  const lg = langGraphSystem('langgraph-sqlite', turnsModel.baseURL, db);
  await Promise.all(
    [10, 150].map(async (rounds) => {
      const run = input({ maxRounds: rounds, maxStalls: 1000 });
      const [t, l] = await Promise.all([runTemporal(app, run, queue), lg.run(run)]);
      const info = await app.client.workflow.getHandle(t.id).describe();
      const bytes = Number(info.raw.workflowExecutionInfo?.historySizeBytes ?? 0);
      const sqlite = new Database(db, { readonly: true });
      const row = sqlite
        .prepare(
          `SELECT (SELECT COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) FROM checkpoints WHERE thread_id = ?) +
                  (SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes WHERE thread_id = ?) AS bytes`,
        )
        .get(l.id, l.id) as { bytes: number };
      sqlite.close();
      out[`rounds${rounds}`] = {
        temporal: { steps: t.steps, historyBytes: bytes, bytesPerStep: Math.round(bytes / t.steps) },
        'langgraph-sqlite': {
          steps: l.steps,
          checkpointBytes: row.bytes,
          bytesPerStep: Math.round(row.bytes / l.steps),
        },
      };
    }),
  );
  await turnsModel.close();
  return { rounds10: out.rounds10, rounds150: out.rounds150 };
}

// ---------------------------------------------------------------- 7: listing with 1,000 executions

async function listing() {
  const m = await model(0);
  // Executions without a worker: they stay open with a short history, as many as asked.
  const queue = `bench-idle-${Date.now()}`;
  const ids: string[] = [];
  const db = join(work, 'lg-listing.sqlite');
  const lg = langGraphSystem('langgraph-sqlite', m.server.baseURL, db);
  // Seeding is not measured: both stores fill at the same time.
  const seedTemporal = async (): Promise<void> => {
    for (let i = 0; i < LISTING_RUNS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, LISTING_RUNS - i) }, async (_, j) => {
          const id = `bench-list-${i + j}-${Date.now().toString(36)}`;
          await app.client.workflow.start(agentTeamWorkflow, { taskQueue: queue, workflowId: id, args: [input()] });
          ids.push(id);
        }),
      );
    }
  };
  const seedLangGraph = async (): Promise<void> => {
    for (let i = 0; i < LISTING_RUNS; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, LISTING_RUNS - i) }, () => lg.run(input())));
    }
  };
  await Promise.all([seedTemporal(), seedLangGraph()]);
  // Visibility catches up with the starts.
  for (let i = 0; i < 100; i++) {
    const { count } = await app.client.workflow.count(`TaskQueue = "${queue}"`);
    if (count >= LISTING_RUNS) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const time = async (f: () => Promise<unknown>) => {
    const samples: number[] = [];
    for (let i = 0; i < (QUICK ? 3 : 5); i++) {
      const t0 = performance.now();
      await f();
      samples.push(performance.now() - t0);
    }
    return stats(samples);
  };
  const temporal = {
    executions: LISTING_RUNS,
    recent20RunsMs: await time(() => app.checkpoints.list({ limit: 20 })),
    oneWorkflowMs: await time(() => app.checkpoints.list({ workflowId: ids[0]! })),
  };
  // LangGraph: the same number of threads, each with a completed run's checkpoints.
  const threads: string[] = [];
  const sqlite = new Database(db, { readonly: true });
  for (const r of sqlite.prepare('SELECT DISTINCT thread_id FROM checkpoints LIMIT 1').all() as { thread_id: string }[])
    threads.push(r.thread_id);
  sqlite.close();
  const all = async (it: AsyncIterable<unknown>, limit?: number) => {
    let n = 0;
    for await (const _ of it) if (++n === limit) break;
    return n;
  };
  const langgraph = {
    threads: LISTING_RUNS,
    recent20CheckpointsMs: await time(() => all(lg.checkpointer.list({}, { limit: 20 }))),
    oneThreadMs: await time(() => all(lg.checkpointer.list({ configurable: { thread_id: threads[0]! } }))),
  };
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(
      ids.slice(i, i + 50).map((id) =>
        app.client.workflow
          .getHandle(id)
          .terminate('bench done')
          .catch(() => {}),
      ),
    );
  }
  await m.server.close();
  return { temporal, 'langgraph-sqlite': langgraph };
}

// ---------------------------------------------------------------- 9: the embedded server beside a cluster

/**
 * The same measurements on the embedded dev server (one process, SQLite) and on the multi-service cluster on
 * PostgreSQL (test/cluster/cluster.ts: four service processes, 4 history shards), one after the other in this
 * run: the team's per-step overhead (model latency 0 and 1,000 ms), the floor with the TypeScript SDK and with
 * the Go SDK (bench/floor-go), throughput (1/10/100 runs on one worker process, and on two), and resume
 * latency (reset to the last checkpoint until the next step is answered). `--no-cluster` leaves it out.
 */
async function servers() {
  const { Cluster } = await import('../test/cluster/cluster');
  const cluster = new Cluster({ log });
  const wasUp = Object.values(cluster.status().services).every((x) => x.running);
  const start = await cluster.start();
  const clusterApp = await AgentTeamApp.open(parseConfig({ temporal: { task_queue: 'bench' } }), {
    temporal: { kind: 'cluster', address: cluster.address },
  });
  const goFloor = buildGoFloor();
  const out: Record<string, unknown> = {
    clusterInfo: {
      version: cluster.version,
      shards: 4,
      services: 'history, matching, frontend, worker: one process each',
      startMs: wasUp ? null : start.ms,
      serverBuiltNow: start.coldBuild,
    },
  };
  try {
    for (const [name, on, address] of [
      ['embedded', app, server.address],
      ['cluster', clusterApp, cluster.address],
    ] as const) {
      log(`  ${name} (${address})`);
      const row: Record<string, unknown> = {};
      for (const latency of [0, 1000]) {
        const m = await model(latency);
        const queue = await worker(m.server.baseURL, on);
        const reps = latency === 0 ? REPS : QUICK ? 2 : 3;
        await runTemporal(on, input(), queue); // warm-up
        const overheads: number[] = [];
        for (let rep = 0; rep < reps; rep++) {
          const base = await runBaseline(m.server.baseURL, input());
          const team = await runTemporal(on, input(), queue);
          if (!team.ok) throw new Error(`${name}: ${team.error}`);
          overheads.push(team.wallMs / team.steps - base.wallMs / base.steps);
        }
        row[`overheadPerStepMs_latency${latency}`] = stats(overheads);
        await m.server.close();
      }
      row.floorTypeScriptPerStepMs = stats((await floorRuns(on, address)).map((x) => x / FLOOR_STEPS));
      row.floorGoPerStepMs = goFloor ? floorGo(goFloor, address) : null;
      const m = await model(0, faultAt(8));
      const queue = await worker(m.server.baseURL, on);
      const measure = async (c: number) => {
        const t0 = performance.now();
        const reports = await Promise.all(Array.from({ length: c }, () => runTemporal(on, input(), queue)));
        const wall = performance.now() - t0;
        return {
          runs: c,
          ok: reports.filter((r) => r.ok).length,
          stepsPerSecond: round(reports.reduce((t, r) => t + r.steps, 0) / (wall / 1000), 1),
        };
      };
      // The first run fails at its last step (the fault): it is the one resume measures.
      const failed = await runTemporal(on, input(), queue);
      const last = (await on.checkpoints.list({ workflowId: failed.id })).find((c) => c.step === 8)!;
      const before = m.entries().length;
      const t0 = Date.now();
      await on.checkpoints.reset(last.checkpointId);
      for (let j = 0; j < 400 && m.entries().length === before; j++) await new Promise((r) => setTimeout(r, 5));
      row.resumeToFirstNewStepMs = m.entries()[before] ? Date.parse(m.entries()[before]!.time) - t0 : null;
      for (const c of CONCURRENCY.filter((c) => !QUICK || c <= 10)) row[`throughput${c}`] = await measure(c);
      const second = await secondWorker(queue, address, m.server.baseURL);
      row[`throughput${TWO_WORKER_RUNS}TwoWorkerProcesses`] = await measure(TWO_WORKER_RUNS);
      second.kill('SIGTERM');
      await new Promise((r) => second.once('exit', r));
      await m.server.close();
      out[name] = row;
    }
  } finally {
    await clusterApp.close();
    if (!wasUp) await cluster.stop();
  }
  return out;
}

/** Builds bench/floor-go once (cached by its source), or null when Go is missing. */
function buildGoFloor(): string | null {
  if (spawnSync('go', ['version']).status !== 0) return null;
  const src = join(ROOT, 'bench', 'floor-go');
  const digest = createHash('sha256')
    .update(readFileSync(join(src, 'main.go')))
    .update(readFileSync(join(src, 'go.sum')))
    .digest('hex')
    .slice(0, 12);
  const binary = join(cacheDir(), `floor-go-${digest}`);
  if (!existsSync(binary)) {
    log('  building bench/floor-go (the Go SDK floor worker) …');
    execFileSync('go', ['build', '-o', binary, '.'], {
      cwd: src,
      stdio: 'inherit',
      env: { ...process.env, GOTOOLCHAIN: 'auto' },
    });
  }
  return binary;
}

function floorGo(binary: string, address: string) {
  const out = execFileSync(binary, ['-address', address, '-steps', String(FLOOR_STEPS), '-reps', String(REPS)], {
    encoding: 'utf8',
  });
  return stats((JSON.parse(out) as { msPerStep: number[] }).msPerStep);
}

/** A second worker process (`agent-team worker`) on `queue`, polling before this returns. */
async function secondWorker(queue: string, address: string, baseURL: string): Promise<ChildProcess> {
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

// ---------------------------------------------------------------- main

/** A package's version, from its package.json (found the way Node resolves it from here). */
function versionOf(pkg: string): string {
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

// ---------------------------------------------------------------- 8: a tool step beside a model step

/**
 * The team with tools (the researcher lists and reads two workspace files, the coder runs a snippet), model
 * latency 0. For each kind of step, its span in history (scheduled → completed) and what of it is the work
 * itself (the model's answer time; the tool's own duration): the rest is the step's overhead.
 */
async function toolSteps() {
  const m = await model(0);
  const queue = await worker(m.server.baseURL);
  const workspace = join(work, 'workspace');
  mkdirSync(workspace, { recursive: true });
  for (const f of ['notes.md', 'timings.csv'])
    writeFileSync(join(workspace, f), readFileSync(join(ROOT, 'examples/tools/workspace', f)));
  const config = parseConfig({
    tools: { workspace },
    agents: {
      orchestrator: {},
      researcher: { tools: ['list_files', 'read_file'] },
      coder: { tools: ['run_code'] },
      analyst: {},
    },
  });
  const { team, tools } = teamInputFor(TASK, config);
  const samples: Record<'model' | 'file tool' | 'run_code', { span: number[]; work: number[] }> = {
    model: { span: [], work: [] },
    'file tool': { span: [], work: [] },
    run_code: { span: [], work: [] },
  };
  const perRun: number[] = [];
  for (let rep = 0; rep <= REPS; rep++) {
    const r = await runTemporal(app, input({ team, tools }), queue);
    if (!r.ok) throw new Error(`the run with tools failed: ${r.error}`);
    if (rep === 0) continue; // warm-up
    perRun.push(r.wallMs / r.steps);
    for (const s of (await app.audit(r.id)).runs[0]!.steps) {
      if (s.durationMs === null) continue;
      const kind = s.tool ? (s.tool.call.name === 'run_code' ? 'run_code' : 'file tool') : 'model';
      samples[kind].span.push(s.durationMs);
      samples[kind].work.push(s.tool ? s.tool.durationMs : s.latencyMs);
    }
  }
  await m.server.close();
  return {
    what: 'the team with tools: list_files, 2 read_file at once, run_code (JavaScript); model latency 0',
    steps: 16,
    wallPerStepMs: stats(perRun),
    kinds: Object.fromEntries(
      Object.entries(samples).map(([kind, x]) => [
        kind,
        { spanMs: stats(x.span), workMs: stats(x.work), overheadMs: stats(x.span.map((v, i) => v - x.work[i]!)) },
      ]),
    ),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  log(`bench: ${QUICK ? 'quick' : 'full'} (${REPS} repetitions), work dir ${work}`);
  await startTemporal();
  const temporalCli = await findTemporalCli({ install: false })
    .then((c) => cliVersion(c.path))
    .catch(() => null);
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    mode: QUICK ? 'quick' : 'full',
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      memoryGiB: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: process.platform,
    },
    versions: {
      project: PACKAGE_VERSION,
      temporalCli,
      temporalSdk: versionOf('@temporalio/worker'),
      langgraph: versionOf('@langchain/langgraph'),
    },
    repetitions: REPS,
    task: TASK,
  };
  const sections: Record<string, number> = {};
  const section = async <T>(n: number, name: string, label: string, body: () => Promise<T>): Promise<T> => {
    log(`${n}/9 ${label} …`);
    const t0 = Date.now();
    const value = await body();
    sections[name] = Math.round((Date.now() - t0) / 100) / 10;
    return value;
  };
  try {
    results.overhead = await section(1, 'overhead', 'per-step overhead (model latency 0 and 200 ms)', overhead);
    results.floor = await section(2, 'floor', "the platform's floor (no-op activities)", floor);
    results.retryCost = await section(3, 'retryCost', 'retry cost', retryCost);
    results.resumeLatency = await section(4, 'resumeLatency', 'resume latency', resumeLatency);
    results.throughput = await section(5, 'throughput', 'throughput', throughput);
    results.historySize = await section(6, 'historySize', 'history size', historySize);
    results.listing = await section(7, 'listing', `listing with ${LISTING_RUNS} executions`, listing);
    results.toolSteps = await section(8, 'toolSteps', 'a tool step beside a model step', toolSteps);
    if (!args['no-cluster'])
      results.servers = await section(9, 'servers', 'the embedded server beside a PostgreSQL cluster', servers);
    results.sectionSeconds = sections;
  } finally {
    for (const h of hosted) h.worker.worker.shutdown();
    await Promise.allSettled(hosted.map((h) => h.done));
    await app?.close();
    await server?.stop();
  }
  results.durationSeconds = Math.round((Date.now() - started) / 1000);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(
    dir,
    `${new Date().toISOString().replace(/[:]/g, '-').replace(/\..*/, '')}${QUICK ? '-quick' : ''}.json`,
  );
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  const { printTables } = await import('./report');
  process.stdout.write(printTables(results) + '\n');
  log(`wrote ${file} (${results.durationSeconds} s)`);
  rmSync(work, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  log(`bench failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
