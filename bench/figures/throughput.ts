/** Figure 5: throughput, steps per second at 1, 10 and 100 runs at once, on one and two worker processes. */
import { join } from 'node:path';
import { langGraphSystem, runBaseline, runTemporal, type RunReport } from '../systems';
import { stepGaps } from '../event-gaps';

import {
  CONCURRENCY,
  QUICK,
  TWO_WORKER_RUNS,
  app,
  input,
  log,
  model,
  round,
  secondWorker,
  server,
  stats,
  work,
  worker,
} from '../harness';

export async function throughput() {
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
