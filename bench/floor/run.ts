/**
 * The floor of one activity per step on this machine: a workflow of 20 no-op activities in sequence, with a few
 * worker option variants, printing ms per step and (DETAIL=1) the mean time between history event types.
 * The server gets the project's dynamic config (src/temporal/dev-server.ts) unless STOCK=1.
 * SERVER_ARGS adds dev server flags, e.g. "--dynamic-config-value matching.numTaskqueueReadPartitions=1".
 * `tsx bench/floor/run.ts`. See docs/benchmarks.md, "Making it fast".
 */
import { spawn } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type WorkerOptions } from '@temporalio/worker';
import { createFloorWorker } from './worker';
import { eventGaps, formatGaps } from '../event-gaps';
import { findTemporalCli } from '../../src/temporal/cli-binary';
import { devServerDynamicConfigArgs, freePort, temporalHealthy } from '../../src/temporal/dev-server';
async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const cli = await findTemporalCli({ install: false });
  const port = await freePort();
  const server = spawn(
    cli.path,
    [
      'server',
      'start-dev',
      '--port',
      String(port),
      '--headless',
      '--log-level',
      'error',
      ...(process.env.STOCK ? [] : devServerDynamicConfigArgs()),
      ...(process.env.SERVER_ARGS ? process.env.SERVER_ARGS.split(' ') : []),
    ],
    { stdio: 'ignore' },
  );
  while (!(await temporalHealthy(`127.0.0.1:${port}`, 1000))) await new Promise((r) => setTimeout(r, 200));
  const client = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${port}` }) });
  const variants: Record<string, Partial<WorkerOptions>> = {
    default: {},
    stickyRatio: { nonStickyToStickyPollRatio: 0.01 },
    autoscale: { workflowTaskPollerBehavior: { type: 'autoscaling', minimum: 2, maximum: 20, initial: 4 } },
    noCache: { maxCachedWorkflows: 0 },
    wfPolls1: { maxConcurrentWorkflowTaskPolls: 1 },
  };

  for (const [name, opts] of Object.entries(variants)) {
    const connection = await NativeConnection.connect({ address: `127.0.0.1:${port}` });
    const tq = `t-${name}`;
    const worker = await createFloorWorker(connection, tq, opts);
    const done = worker.run();
    const res: number[] = [];
    for (let k = 0; k < 4; k++) {
      const t0 = performance.now();
      const wid = `t-${name}-${Date.now()}-${k}`;
      await client.workflow.execute('trivial', { taskQueue: tq, workflowId: wid, args: [20] });
      res.push((performance.now() - t0) / 20);
      const h = await client.workflow.getHandle(wid).fetchHistory();
      if (process.env.DETAIL)
        console.log(name, k, ((performance.now() - t0) / 20).toFixed(1), formatGaps(eventGaps([h])));
    }
    res.sort((a, b) => a - b);
    console.log(`${name.padEnd(12)} ${res.map((x) => x.toFixed(1)).join(' ')} ms/step`);
    worker.shutdown();
    await done;
    await connection.close();
  }
  server.kill();
}
void main();
