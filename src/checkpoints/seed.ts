/**
 * A new run that starts where a checkpoint left off: the original run's input plus the results of every step up
 * to the checkpoint (`TeamInput.restore`), folded by the workflow with the same reducer instead of being executed
 * (or paid) again. A restore from an export and a fork of a run here are each such an input.
 */
import { carriedOver } from '../../workflows/continue';
import type { RestoreSeed, StepResult, TeamInput } from '../../workflows/types';
import type { RunHistory } from '../history/reader';
import { UsageError } from '../shared/errors';
import { seededSteps, type Checkpoint } from './derive';

/** Temporal refuses payloads over 2 MB; a seed is kept well under it. */
export const MAX_SEED_BYTES = 1_500_000;

/** The first `count` steps of `run` (whose history was read in full): its own seed, then the steps it ran. */
export function stepsUpTo(run: RunHistory, count: number): StepResult[] {
  const earlier = seededSteps(run);
  return [...earlier.slice(0, count), ...run.steps.slice(0, Math.max(0, count - earlier.length)).map((s) => s.result)];
}

/** Where a seed ends: a checkpoint, or the end of a run (a follow-up carries every step of the turn it continues). */
export type SeedPoint = Pick<Checkpoint, 'checkpointId' | 'workflowId' | 'runId' | 'step' | 'eventId'>;

/** The input of a run that continues from `checkpoint` of `run` (whose history was read in full). */
export function seedInput(run: RunHistory, checkpoint: SeedPoint): TeamInput {
  if (!run.input) throw new UsageError(`run ${run.runId} of "${run.workflowId}" has no recorded input`);
  const earlier = seededSteps(run);
  const steps = stepsUpTo(run, checkpoint.step);
  // What people did before the checkpoint, each after the step count it followed.
  const afterSteps = (eventId: number): number =>
    earlier.length + run.steps.filter((s) => s.completedEventId < eventId).length;
  // Answers to gates: a restored run does not ask again what was answered.
  const answers = [
    ...(run.input.restore?.answers ?? []),
    ...run.answers
      .filter((a) => a.eventId < checkpoint.eventId)
      .map((a) => ({ afterSteps: afterSteps(a.eventId), answer: a.answer })),
  ];
  // Messages people sent (`tell`): read or not, as then.
  const messages = [
    ...(run.input.restore?.messages ?? []),
    ...run.told
      .filter((t) => t.eventId < checkpoint.eventId)
      .map((t) => ({ afterSteps: afterSteps(t.eventId), message: t.message })),
  ];
  // The input without its seed (a fork's note read), and the turns of a conversation up to the checkpoint.
  const carried = carriedOver(run.input, earlier.length);
  const original: TeamInput = carried.base;
  const turns = carried.turns.filter((t) => t.afterSteps <= checkpoint.step);
  const restore: RestoreSeed = {
    checkpointId: checkpoint.checkpointId,
    workflowId: checkpoint.workflowId,
    runId: checkpoint.runId,
    steps,
    ...(answers.length > 0 ? { answers } : {}),
    ...(messages.length > 0 ? { messages } : {}),
    ...(turns.length > 0 ? { turns } : {}),
  };
  return { ...original, restore };
}

/** Refuses an input over what fits in a workflow input (exit 2), naming its size. */
export function checkSeedSize(
  input: TeamInput,
  what = 'the state at this checkpoint',
  next = 'start from an earlier checkpoint',
): void {
  const size = Buffer.byteLength(JSON.stringify(input));
  if (size > MAX_SEED_BYTES) {
    throw new UsageError(
      `${what} is ${size.toLocaleString('en-US')} bytes, over the ${MAX_SEED_BYTES.toLocaleString('en-US')} ` +
        `that fit in a workflow input (Temporal's payload limit is 2 MB): ${next}`,
    );
  }
}

/**
 * An input whose seed is too large to carry (over {@link MAX_SEED_BYTES}) made into one that names its source
 * instead (`restore.pieces`): the run's first activities read the steps from `run` in pieces. The steps it
 * carries that differ from the source's (a fork's edits) go with it. Other inputs are returned as they are.
 */
export function piecedWhenLarge(input: TeamInput, run: RunHistory): TeamInput {
  if (!input.restore || input.restore.pieces || Buffer.byteLength(JSON.stringify(input)) <= MAX_SEED_BYTES)
    return input;
  return inPieces(input, run);
}

/** `input` (whose seed holds the first steps of `run`, some edited) with a seed read from `run` in pieces. */
export function inPieces(input: TeamInput, run: RunHistory): TeamInput {
  const restore = input.restore;
  if (!restore || restore.pieces) return input;
  const source = stepsUpTo(run, restore.steps.length);
  const replace = restore.steps.flatMap((result, index) =>
    JSON.stringify(result) === JSON.stringify(source[index]) ? [] : [{ index, result }],
  );
  return {
    ...input,
    restore: {
      ...restore,
      steps: [],
      pieces: {
        workflowId: run.workflowId,
        runId: run.runId,
        count: restore.steps.length,
        ...(replace.length ? { replace } : {}),
      },
    },
  };
}
