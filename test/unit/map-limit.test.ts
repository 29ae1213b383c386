import { mapLimit } from '../../src/shared/util';

describe('mapLimit', () => {
  it('keeps the order of its items and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const delays = [30, 5, 20, 1, 15, 2, 8, 25, 3, 12];
    const out = await mapLimit(delays, 3, async (ms) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return ms * 2;
    });
    expect(out).toEqual(delays.map((ms) => ms * 2));
    expect(most).toBe(3);
  });

  it('takes no items, and fails with the first failure', async () => {
    expect(await mapLimit([], 8, async () => 1)).toEqual([]);
    await expect(
      mapLimit([1, 2, 3], 2, async (i) => {
        if (i === 2) throw new Error('two');
        return i;
      }),
    ).rejects.toThrow('two');
  });
});
