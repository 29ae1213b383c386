/**
 * Workflows of `n` no-op steps in sequence: the floor (bench/floor/run.ts, the bench's floor figure) and the other
 * ways a durable step can be executed (the bench's levers figure, bench/figures/levers.ts).
 */
import {
  condition,
  defineSignal,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';

interface Noop {
  noop(i: number): Promise<number>;
  /** Signals its own run (`done`, with `i`) before it returns. */
  noopSignal(i: number): Promise<number>;
}
const { noop } = proxyActivities<Noop>({ startToCloseTimeout: '1 minute' });
const queued = proxyActivities<Noop>({ startToCloseTimeout: '1 minute', allowEagerDispatch: false });
const local = proxyLocalActivities<Noop>({ startToCloseTimeout: '1 minute' });

/**
 * The floor: an activity and a workflow task per step, as the team's steps run. The SDK asks for eager dispatch
 * (the server hands the activity back in its reply to the workflow task) and the dev server grants it.
 */
export async function trivial(n: number): Promise<number> {
  let x = 0;
  for (let i = 0; i < n; i++) x += await noop(i);
  return x;
}

/** The same without eager dispatch: every activity through the task queue (a server that does not allow it). */
export async function trivialQueued(n: number): Promise<number> {
  let x = 0;
  for (let i = 0; i < n; i++) x += await queued.noop(i);
  return x;
}

/**
 * A local activity per step, then a 1 ms timer: the workflow task completes (the step's result in history, a
 * checkpoint) and the timer's firing starts the next one.
 */
export async function trivialLocal(n: number): Promise<number> {
  let x = 0;
  for (let i = 0; i < n; i++) {
    x += await local.noop(i);
    await sleep(1);
  }
  return x;
}

export const doneSignal = defineSignal<[number]>('done');

/**
 * A local activity per step that signals its own run, which waits for that signal: the workflow task completes
 * (a checkpoint per step) and, a signal having come in meanwhile, the server hands the next workflow task back in
 * its reply, without a task queue.
 */
export async function trivialSignal(n: number): Promise<number> {
  const got = new Set<number>();
  setHandler(doneSignal, (i) => void got.add(i));
  let x = 0;
  for (let i = 0; i < n; i++) {
    x += await local.noopSignal(i);
    await condition(() => got.has(i));
  }
  return x;
}

/**
 * Local activities back to back: the SDK keeps the workflow task open until they are all done, so the results
 * reach history together at the end. The lower bound, with no checkpoint per step: not a way to run the team.
 */
export async function trivialLocalBatch(n: number): Promise<number> {
  let x = 0;
  for (let i = 0; i < n; i++) x += await local.noop(i);
  return x;
}
