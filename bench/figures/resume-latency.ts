/**
 * Figure 4: resume latency as a user sees it (with its replay check, and with --force), and beside it a fork's:
 * from the fork call (which reads the source's history once) to its first new step answered; then the same for
 * forks of long runs: 150 rounds with 4 KB answers, and a state over Temporal's 2 MB payload limit (whose seed the
 * fork's first activities read in pieces); and a follow-up's (`ask`: the run read once, the next turn started on
 * the same workflow id, its first step answered).
 */
import { runTemporal } from '../systems';

import { QUICK, app, faultAt, input, model, stats, worker, type Model } from '../harness';

/**
 * Milliseconds from the call `prepare` returns to the model's first new request, `times` times (what `prepare`
 * does itself, making a run to resume, is not timed).
 */
async function firstNewAnswer(m: Model, times: number, prepare: (i: number) => Promise<() => Promise<unknown>>) {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const call = await prepare(i);
    const before = m.entries().length;
    const t0 = Date.now();
    await call();
    for (let j = 0; j < 2_000 && m.entries().length === before; j++) await new Promise((r) => setTimeout(r, 5));
    const first = m.entries()[before];
    if (!first) throw new Error(`no new request within 10 s (try ${i + 1})`);
    samples.push(Date.parse(first.time) - t0);
  }
  return stats(samples);
}

/** A fork of the last checkpoint before the final answer of a run shaped by `turns` and `answerChars`. */
async function forkOfLong(turns: number, answerChars: number) {
  const m = await model(0, '', { turns, answerChars });
  const queue = await worker(m.server.baseURL);
  const source = await runTemporal(app, input({ maxRounds: turns + 5 }), queue);
  const checkpoints = await app.checkpoints.list({ workflowId: source.id });
  const at = checkpoints.find((c) => c.step === Math.max(...checkpoints.map((x) => x.step)) - 1)!;
  const state = await app.checkpoints.load(at.checkpointId);
  const stateBytes = Buffer.byteLength(JSON.stringify(state));
  const latency = await firstNewAnswer(m, QUICK ? 3 : 5, async (i) => async () => {
    const { input: forked } = await app.branches.plan(at.checkpointId);
    await app.runs.start(forked, { workflowId: `${source.id}-fork-${i}`, taskQueue: queue });
  }).catch(async (err: unknown) => {
    // Say why: the fork's own failure, if it failed.
    const fork = app.context.temporal.workflow.getHandle(`${source.id}-fork-0`);
    const why = await fork.result().then(
      () => 'the fork completed',
      (e: unknown) => String(((e as Error).cause as Error | undefined)?.message ?? e),
    );
    throw new Error(`${(err as Error).message}: ${why}`);
  });
  await m.server.close();
  return { steps: at.step, stateBytes, ...latency };
}

/** Resume latency as a user sees it: `resume` with its replay check, and with --force; a fork's beside them. */
export async function resumeLatency() {
  const m = await model(0, faultAt(8));
  const queue = await worker(m.server.baseURL);
  const measure = async (how: 'resume' | 'force' | 'fork' | 'ask') =>
    firstNewAnswer(m, QUICK ? 3 : 5, async () => {
      // The first run fails at its last step; later ones complete (the fault is used up): either way the
      // measurement is the same, a reset to the run's last checkpoint until the next step is answered. The run
      // is made before the clock starts.
      const failed = await runTemporal(app, input(), queue);
      const last = (await app.checkpoints.list({ workflowId: failed.id })).find((c) => c.step === 8)!;
      if (how === 'ask') {
        // A follow-up needs a completed run: the failed one resumed to its end first (not timed).
        if (!failed.ok) {
          await app.checkpoints.reset(last.checkpointId);
          await app.context.temporal.workflow.getHandle(failed.id).result();
        }
        return async () => {
          const { input: next } = await app.conversation.plan(failed.id, 'Now benchmark them in Rust.');
          await app.runs.start(next, { workflowId: failed.id, taskQueue: queue });
        };
      }
      return async () => {
        if (how === 'fork') {
          const { input: forked } = await app.branches.plan(last.checkpointId);
          await app.runs.start(forked, { workflowId: `${failed.id}-fork`, taskQueue: queue });
        } else {
          if (how === 'resume') await app.history.replayUpTo(last);
          await app.checkpoints.reset(last.checkpointId);
        }
      };
    });
  const result = {
    withReplayCheckMs: await measure('resume'),
    forceMs: await measure('force'),
    forkMs: await measure('fork'),
    followUpMs: await measure('ask'),
  };
  await m.server.close();
  return {
    ...result,
    forkLong: {
      rounds150: await forkOfLong(150, 4_096),
      overPayloadLimit: await forkOfLong(12, 190_000),
    },
  };
}
