/**
 * `npm run bench [-- --quick] [-- --no-cluster] [-- --only 4,6]`: the benchmarks side by side, in one process, on this machine: the
 * harness (./harness.ts) and one file per figure (./figures/). See docs/benchmarks.md for what each figure means.
 * Writes bench/results/<date>.json and prints the tables.
 */
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { PACKAGE_VERSION } from '../src/shared/package';
import { cliVersion, findTemporalCli } from '../src/temporal/cli-binary';
import {
  LISTING_RUNS,
  QUICK,
  REPS,
  ROOT,
  TASK,
  args,
  hosted,
  log,
  round,
  startTemporal,
  versionOf,
  work,
} from './harness';
import * as H from './harness';
import { floor } from './figures/floor';
import { historySize } from './figures/history-size';
import { levers } from './figures/levers';
import { listing } from './figures/listing';
import { overhead } from './figures/overhead';
import { resumeLatency } from './figures/resume-latency';
import { retryCost } from './figures/retry-cost';
import { servers } from './figures/servers';
import { throughput } from './figures/throughput';
import { toolSteps } from './figures/tool-steps';

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
  const section = async <T>(n: number, name: string, label: string, body: () => Promise<T>): Promise<T | undefined> => {
    if (!H.runs(n)) return undefined;
    log(`${n}/10 ${label} …`);
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
    results.listing = await section(7, 'listing', `listing with up to ${LISTING_RUNS} executions`, listing);
    results.toolSteps = await section(8, 'toolSteps', 'a tool step beside a model step', toolSteps);
    results.levers = await section(10, 'levers', 'ways to execute a durable step (levers)', levers);
    if (!args['no-cluster'])
      results.servers = await section(9, 'servers', 'the embedded server beside a PostgreSQL cluster', servers);
    results.sectionSeconds = sections;
  } finally {
    for (const h of hosted) h.worker.worker.shutdown();
    await Promise.allSettled(hosted.map((h) => h.done));
    await H.app?.close();
    await H.server?.stop();
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

main()
  .catch((err: unknown) => {
    log(`bench failed: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  })
  // Everything is written and stopped; the SDK's runtime, when no worker ever ran (`--only 7`), would keep the
  // process alive.
  .finally(() => process.exit());
