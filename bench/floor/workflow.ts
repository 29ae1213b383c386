/** A workflow of `n` no-op activities in sequence (bench/floor/run.ts). */
import { proxyActivities } from '@temporalio/workflow';
const { noop } = proxyActivities<{ noop(i: number): Promise<number> }>({ startToCloseTimeout: '1 minute' });
export async function trivial(n: number): Promise<number> {
  let x = 0;
  for (let i = 0; i < n; i++) x += await noop(i);
  return x;
}
