/**
 * A seed too large for a workflow input (see `RestoreSeed.pieces`), read by the run's first activities: one piece
 * (under 1 MB of steps) each, in order, so that every step is recorded in this run's own history. From then on
 * the run needs nothing of its source: a reset, a replay or a fork of it reads its own history.
 */
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { StepResult, TeamInput } from './types';

type Activities = ReturnType<typeof createActivities>;

/** The seed's steps, read from the source run in pieces (recorded as `loadSeedPiece` activities). */
export async function loadSeedPieces(input: TeamInput): Promise<StepResult[]> {
  const ref = input.restore?.pieces;
  if (!ref) return [];
  const { loadSeedPiece } = proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    retry: { maximumAttempts: 5, initialInterval: '1 second' },
  });
  const loaded: StepResult[] = [];
  while (loaded.length < ref.count) {
    const from = loaded.length;
    const piece = await loadSeedPiece.executeWithOptions(
      { summary: `seed: steps from ${from + 1} of ${ref.count}, read from ${ref.workflowId}` },
      [{ workflowId: ref.workflowId, runId: ref.runId, count: ref.count, from }],
    );
    if (!Array.isArray(piece) || piece.length === 0) {
      throw ApplicationFailure.nonRetryable(
        `the seed of ${ref.count} steps from ${ref.workflowId} ended at step ${from}`,
        'InvalidTeamInput',
      );
    }
    loaded.push(...piece);
  }
  return loaded;
}
