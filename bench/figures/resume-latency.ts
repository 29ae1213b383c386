/**
 * Figure 4: resume latency as a user sees it (with its replay check, and with --force), and beside it a fork's:
 * from the fork call (which reads the source's history once) to its first new step answered.
 */
import { runTemporal } from '../systems';

import { QUICK, app, faultAt, input, model, stats, worker } from '../harness';

/** Resume latency as a user sees it: `resume` with its replay check, and with --force. */
export async function resumeLatency() {
  const m = await model(0, faultAt(8));
  const queue = await worker(m.server.baseURL);
  const measure = async (how: 'resume' | 'force' | 'fork') => {
    const samples: number[] = [];
    for (let i = 0; i < (QUICK ? 3 : 5); i++) {
      // The first run fails at its last step; later ones complete (the fault is used up): either way the
      // measurement is the same, a reset to the run's last checkpoint until the next step is answered.
      const failed = await runTemporal(app, input(), queue);
      const last = (await app.checkpoints.list({ workflowId: failed.id })).find((c) => c.step === 8)!;
      const before = m.entries().length;
      const t0 = Date.now();
      if (how === 'fork') {
        const { input: forked } = await app.branches.plan(last.checkpointId);
        await app.runs.start(forked, { workflowId: `${failed.id}-fork`, taskQueue: queue });
      } else {
        if (how === 'resume') await app.history.replayUpTo(last);
        await app.checkpoints.reset(last.checkpointId);
      }
      for (let j = 0; j < 200 && m.entries().length === before; j++) await new Promise((r) => setTimeout(r, 5));
      const first = m.entries()[before];
      if (first) samples.push(Date.parse(first.time) - t0);
    }
    return stats(samples);
  };
  const result = {
    withReplayCheckMs: await measure('resume'),
    forceMs: await measure('force'),
    forkMs: await measure('fork'),
  };
  await m.server.close();
  return result;
}
