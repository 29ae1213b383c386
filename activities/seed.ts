/**
 * `loadSeedPiece`: one piece of a seed too large for a workflow input (see `RestoreSeed.pieces`). The worker reads
 * the source run's history once for all the pieces of a seed (kept a minute), and each piece returns the steps
 * from `from` on that fit in {@link SEED_PIECE_BYTES}, at least one.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { SEED_PIECE_BYTES, type SeedPieceRequest, type StepResult } from '../workflows/types';

/** Reads the first `count` steps of a run (its own seed, then the steps it ran), from its history. */
export type ReadSeed = (workflowId: string, runId: string, count: number) => Promise<StepResult[]>;

/** Thrown by a {@link ReadSeed} for a source that is not there: the fork cannot start. */
export class SeedGone extends Error {}

const KEEP_MS = 60_000;

export function createSeedLoader(readSeed: ReadSeed | undefined) {
  const read = new Map<string, { at: number; steps: Promise<StepResult[]> }>();

  function stepsOf(req: SeedPieceRequest): Promise<StepResult[]> {
    const now = Date.now();
    for (const [key, entry] of read) if (now - entry.at > KEEP_MS) read.delete(key);
    const key = `${req.workflowId}\n${req.runId}\n${req.count}`;
    let entry = read.get(key);
    if (!entry) {
      entry = { at: now, steps: readSeed!(req.workflowId, req.runId, req.count) };
      read.set(key, entry);
      entry.steps.catch(() => read.delete(key));
    }
    return entry.steps;
  }

  async function loadSeedPiece(req: SeedPieceRequest): Promise<StepResult[]> {
    if (!readSeed) {
      throw ApplicationFailure.nonRetryable(
        'this worker cannot read a seed: build the activities with `readSeed` (createAgentTeamWorker does)',
        'MisconfiguredWorker',
      );
    }
    let steps: StepResult[];
    try {
      steps = await stepsOf(req);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof SeedGone) throw ApplicationFailure.nonRetryable(message, 'SeedUnavailable');
      throw ApplicationFailure.retryable(
        `could not read the seed from ${req.workflowId}: ${message}`,
        'SeedUnavailable',
      );
    }
    if (steps.length < req.count) {
      throw ApplicationFailure.nonRetryable(
        `${req.workflowId} (run ${req.runId}) has ${steps.length} steps, not the ${req.count} this run starts from`,
        'SeedUnavailable',
      );
    }
    const piece: StepResult[] = [];
    let bytes = 0;
    for (let i = req.from; i < req.count; i++) {
      const size = Buffer.byteLength(JSON.stringify(steps[i]));
      if (piece.length > 0 && bytes + size > SEED_PIECE_BYTES) break;
      piece.push(steps[i]!);
      bytes += size;
    }
    return piece;
  }

  return { loadSeedPiece };
}
