/**
 * A seed too large for a workflow input, read in pieces (`loadSeedPiece`, workflows/seed.ts): each piece under the
 * byte bound and at least one step, the source read once for all of them, a gone source a failure that says so.
 */
import { ApplicationFailure } from '@temporalio/common';
import { SeedGone, createSeedLoader } from '../../activities/seed';
import { seedSteps } from '../../workflows/state';
import { SEED_PIECE_BYTES, type StepResult } from '../../workflows/types';

const step = (i: number, chars: number): StepResult =>
  ({
    stepIndex: i,
    agent: 'researcher',
    round: 1,
    kind: 'agent',
    content: 'x'.repeat(chars),
    usage: { promptTokens: 1, completionTokens: 1 },
  }) as unknown as StepResult;

describe('loadSeedPiece', () => {
  const steps = Array.from({ length: 9 }, (_, i) => step(i, 400_000));
  const request = { workflowId: 'src', runId: 'r1', count: 9 };

  it('returns pieces under the bound, in order, reading the source once', async () => {
    let reads = 0;
    const { loadSeedPiece } = createSeedLoader(async () => {
      reads++;
      return steps;
    });
    const pieces: StepResult[][] = [];
    for (let from = 0; from < 9; from += pieces.at(-1)!.length) pieces.push(await loadSeedPiece({ ...request, from }));
    expect(pieces.map((p) => p.length)).toEqual([2, 2, 2, 2, 1]);
    for (const p of pieces) expect(Buffer.byteLength(JSON.stringify(p))).toBeLessThanOrEqual(SEED_PIECE_BYTES);
    expect(pieces.flat().map((s) => s.stepIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(reads).toBe(1);
  });

  it('a step larger than the bound is a piece of its own', async () => {
    const { loadSeedPiece } = createSeedLoader(async () => [step(0, 1_200_000), step(1, 10)]);
    expect((await loadSeedPiece({ ...request, count: 2, from: 0 })).map((s) => s.stepIndex)).toEqual([0]);
  });

  it('a source that is gone, or shorter than the seed, fails for good, saying so', async () => {
    const gone = createSeedLoader(async () => {
      throw new SeedGone('the run this one starts from, src (run r1), is gone');
    });
    const failure = await gone.loadSeedPiece({ ...request, from: 0 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ nonRetryable: true, message: expect.stringContaining('is gone') });
    const short = createSeedLoader(async () => steps.slice(0, 3));
    await expect(short.loadSeedPiece({ ...request, from: 0 })).rejects.toMatchObject({
      nonRetryable: true,
      message: expect.stringContaining('has 3 steps, not the 9'),
    });
  });

  it('a source the worker cannot reach for now is tried again (retryable)', async () => {
    const down = createSeedLoader(async () => {
      throw new Error('connection refused');
    });
    await expect(down.loadSeedPiece({ ...request, from: 0 })).rejects.toMatchObject({ nonRetryable: false });
  });
});

describe('seedSteps', () => {
  it('puts a fork’s edited steps in place of the loaded ones; inline steps are used as they are', () => {
    const loaded = [step(0, 1), step(1, 1), step(2, 1)];
    const seed = {
      checkpointId: 'cp',
      workflowId: 'src',
      runId: 'r1',
      steps: [],
      pieces: { workflowId: 'src', runId: 'r1', count: 3, replace: [{ index: 1, result: step(1, 5) }] },
    };
    expect(seedSteps(seed, loaded).map((s) => s.content.length)).toEqual([1, 5, 1]);
    expect(seedSteps({ ...seed, pieces: undefined as never, steps: loaded }, [])).toBe(loaded);
  });
});
