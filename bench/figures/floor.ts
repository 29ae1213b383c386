/** The platform's floor: a workflow of no-op activities on the same server and SDK (bench/floor/). */
import { type AgentTeamClient } from '../../src/client';

import { REPS, app, server, stats } from '../harness';

/**
 * The same server and SDK with nothing to do: a workflow of 9 no-op activities in sequence (bench/floor/), one
 * activity and one workflow task per step like the team. Its time per step is what any Temporal step costs on
 * this machine, the reference for the team's overhead.
 */
export async function floor() {
  const runMs = await floorRuns(app, server.address);
  return {
    what: `a workflow of ${FLOOR_STEPS} no-op activities on the same server and SDK`,
    steps: FLOOR_STEPS,
    runMs: stats(runMs),
    perStepMs: stats(runMs.map((x) => x / FLOOR_STEPS)),
  };
}

export const FLOOR_STEPS = 9;

/** Run times (ms) of the floor workflow on a server, TypeScript SDK worker, after one warm-up run. */
export async function floorRuns(on: AgentTeamClient, address: string): Promise<number[]> {
  const { NativeConnection } = await import('@temporalio/worker');
  const { createFloorWorker } = await import('../floor/worker');
  const connection = await NativeConnection.connect({ address });
  const taskQueue = `bench-floor-${Date.now()}`;
  const w = await createFloorWorker(connection, taskQueue);
  const done = w.run();
  try {
    const runMs: number[] = [];
    for (let rep = 0; rep <= REPS; rep++) {
      const t0 = performance.now();
      await on.context.temporal.workflow.execute('trivial', {
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
