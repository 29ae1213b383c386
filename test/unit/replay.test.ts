/**
 * Replays recorded histories against the current workflow code. Temporal history is our checkpoint
 * store: if these fail, existing runs and their checkpoints could no longer be resumed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { initialState, reduce, resultOf } from '../../workflows/state';
import type { StepResult, TeamInput, TeamResult } from '../../workflows/types';
import { defaultFailureConverter, defaultPayloadConverter } from '@temporalio/common';
import { stateAt } from '../../src/checkpoints/derive';
import { parseHistoryJson } from '../../src/history/json';
import { HistoryReader } from '../../src/history/reader';
import { workflowBundle } from '../../src/worker/bundle';
import { quietRuntime } from '../helpers';

/** Completed runs, recorded by successive versions of the workflow. */
const FIXTURES = [
  'history-completed.json',
  'history-replan-retry.json',
  'history-transcript-query.json',
  'history-auto-resume.json',
  'history-restored.json',
  // Agents that act: list_files, two read_file calls at once, run_code; each its own `callTool` activity.
  'history-tools.json',
  // A fork (the plan edited, a note for the orchestrator) whose tool calls were replayed from its source.
  'history-fork.json',
  // Turn 3 of a conversation (`ask`): its seed carries turns 1-2, the follow-up that opened turn 2 and a message.
  'history-ask.json',
];
/**
 * Runs with people in the loop (gates, budget): answers arrive as Updates, so the state is a fold of the steps
 * and the answers in history order (what checkpoints and the workflow both do).
 */
const GATED = ['history-gates.json', 'history-budget-stop-timeout.json'];
/** A fork whose seed its first activity read from the source (`loadSeedPiece`): the reader folds the seed from history. */
const SEEDED_IN_PIECES = 'history-fork-pieces.json';
/** Two `tell` Updates: one read at the next ledger, one that interrupted a hung coder step (cancelled) for a replan. */
const TOLD = 'history-tell.json';
const REJECTED = 'history-gate-rejected.json';
/** The middle link of a run that continued as new twice: seeded with 25 steps, it ran 25 more and continued. */
const CONTINUED = 'history-continued.json';
/** A run that failed on a retryable cause before auto-resume existed: it must replay to the same failure. */
const FAILED_BEFORE_AUTO_RESUME = 'history-failed-before-auto-resume.json';
const load = (name: string) => parseHistoryJson(JSON.parse(readFileSync(join(__dirname, '../fixtures', name), 'utf8')));
const decode = (payload: { data?: Uint8Array | null } | undefined | null): unknown =>
  JSON.parse(Buffer.from(payload?.data ?? []).toString('utf8'));

beforeAll(() => quietRuntime());

describe('replay of recorded histories', () => {
  it.each([...FIXTURES, ...GATED, SEEDED_IN_PIECES, TOLD, REJECTED, CONTINUED, FAILED_BEFORE_AUTO_RESUME])(
    '%s replays against the current workflow code',
    async (name) => {
      await expect(
        Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load(name)),
      ).resolves.toBeUndefined();
    },
  );

  it.each(FIXTURES)('%s folds with the reducer to exactly the result the run returned', (name) => {
    const events = load(name).events ?? [];
    const input = decode(events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]) as TeamInput;
    const results = events
      .filter((e) => e.activityTaskCompletedEventAttributes)
      .map((e) => decode(e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]) as StepResult);
    const state = results.reduce(reduce, initialState(input));
    const completed = events.find((e) => e.workflowExecutionCompletedEventAttributes);
    const returned = decode(completed?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]) as TeamResult;
    expect(state.phase).toBe('done');
    expect(state.finalAnswer).toBe(returned.answer);
    // The result the workflow would return now, from the same history, is the one it returned then.
    expect(resultOf(state)).toEqual(returned);
  });

  it('the replan fixture really covers a replan and a retried step', () => {
    const events = load('history-replan-retry.json').events ?? [];
    const results = events
      .filter((e) => e.activityTaskCompletedEventAttributes)
      .map((e) => decode(e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]) as StepResult);
    expect(results.filter((r) => r.kind === 'plan' && r.replan)).toHaveLength(1);
    expect(results.some((r) => r.attempt > 1)).toBe(true);
  });

  /** The fixture's run as the checkpoint adapter reads it (steps, answers, requests). */
  const readFixture = async (name: string) => {
    const reader = new HistoryReader(
      { payloadConverter: defaultPayloadConverter, failureConverter: defaultFailureConverter, payloadCodecs: [] },
      'fixture',
      'run',
    );
    for (const event of load(name).events ?? []) await reader.add(event);
    return reader.run;
  };

  it.each([...GATED, SEEDED_IN_PIECES])(
    '%s folds steps and answers to exactly the result the run returned',
    async (name) => {
      const run = await readFixture(name);
      const returned = decode(
        run.closeEvent?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0],
      ) as TeamResult;
      expect(resultOf(stateAt(run)!)).toEqual(returned);
    },
  );

  it('the gated fixtures cover every kind of question and answer', async () => {
    const gates = await readFixture('history-gates.json');
    expect(gates.requests.map((r) => r.request.kind)).toEqual([
      'plan_review',
      'plan_review',
      'budget',
      'step_approval',
      'final_review',
    ]);
    expect(gates.answers.map((a) => a.answer.decision)).toEqual([
      'revise',
      'approve',
      'add_budget',
      'approve',
      'approve',
    ]);
    const stopped = await readFixture('history-budget-stop-timeout.json');
    expect(stopped.answers.map((a) => [a.answer.decision, a.answer.answeredBy])).toEqual([['approve', 'timeout']]);
    expect(resultOf(stateAt(stopped)!)).toMatchObject({ cutShort: true, cutShortBy: 'budget' });
    const rejected = await readFixture(REJECTED);
    expect(rejected.status).toBe('CANCELED');
    expect(stateAt(rejected)!.rejected).toMatchObject({ kind: 'plan_review', reason: 'wrong task' });
  });

  it('a changed workflow fails replay with a DeterminismViolationError', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../fixtures/changed-workflow'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    await expect(Worker.runReplayHistory({ workflowBundle: { code } }, load('history-completed.json'))).rejects.toThrow(
      DeterminismViolationError,
    );
  });
});
