/** Figure 9: the embedded server beside the PostgreSQL cluster. */
import { FLOOR_STEPS, floorRuns } from './floor';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentTeamClient } from '../../src/client';
import { parseConfig } from '../../src/config';
import { cacheDir } from '../../src/shared/package';
import { runBaseline, runTemporal } from '../systems';

import {
  CONCURRENCY,
  QUICK,
  REPS,
  ROOT,
  TWO_WORKER_RUNS,
  app,
  faultAt,
  input,
  log,
  model,
  round,
  secondWorker,
  server,
  stats,
  worker,
} from '../harness';

/**
 * The same measurements on the embedded dev server (one process, SQLite) and on the multi-service cluster on
 * PostgreSQL (tools/cluster/cluster.ts: four service processes, 4 history shards), one after the other in this
 * run: the team's per-step overhead (model latency 0 and 1,000 ms), the floor with the TypeScript SDK and with
 * the Go SDK (bench/floor-go), throughput (1/10/100 runs on one worker process, and on two), and resume
 * latency (reset to the last checkpoint until the next step is answered). `--no-cluster` leaves it out.
 */
export async function servers() {
  const { Cluster } = await import('../../tools/cluster/cluster');
  const cluster = new Cluster({ log });
  const wasUp = Object.values(cluster.status().services).every((x) => x.running);
  const start = await cluster.start();
  const clusterApp = await AgentTeamClient.open(parseConfig({ temporal: { task_queue: 'bench' } }), {
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
export function buildGoFloor(): string | null {
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

export function floorGo(binary: string, address: string) {
  const out = execFileSync(binary, ['-address', address, '-steps', String(FLOOR_STEPS), '-reps', String(REPS)], {
    encoding: 'utf8',
  });
  return stats((JSON.parse(out) as { msPerStep: number[] }).msPerStep);
}
