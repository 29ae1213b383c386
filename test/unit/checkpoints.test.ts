/** Checkpoints named in recorded histories, their state, ids, diffs and what a reset keeps: pure, no server. */
import { defaultDataConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { checkpointsOf, seededSteps, stateAt, whyNoCheckpoint } from '../../src/checkpoints/derive';
import { turnsOf } from '../../src/conversation/turns';
import { HistoryReader } from '../../src/history/reader';
import { diffCheckpoints } from '../../src/checkpoints/diff';
import {
  decodeCheckpointId,
  encodeCheckpointId,
  parseCheckpointId,
  resetCommand,
  runPrefix,
  shortCheckpointId,
} from '../../src/checkpoints/ids';
import { keptByReset } from '../../src/history/replay';
import { splitReason } from '../../src/history/audit';
import { InvalidCheckpointError } from '../../src/shared/errors';
import { initialState, reduce, resultOf } from '../../workflows/state';
import { fixtureHistory, fixtureRun } from './fixtures';

const { EventType } = temporal.api.enums.v1;

describe('checkpointsOf (the checkpoints of a recorded run)', () => {
  it('names the entry checkpoint and one per completed step, each a WorkflowTaskCompleted event', async () => {
    const run = await fixtureRun('history-completed.json');
    const list = checkpointsOf(run, 'default');
    expect(run.steps).toHaveLength(9);
    expect(list.map((c) => c.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const types = new Map(run.events.map((e) => [Number(e.eventId), e.eventType]));
    for (const c of list) expect(types.get(c.eventId)).toBe(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    expect(list[0]).toMatchObject({
      step: 0,
      agent: null,
      kind: null,
      round: 0,
      usage: { llmCalls: 0, totalTokens: 0 },
    });
    expect(list[4]).toMatchObject({ step: 4, agent: run.steps[3]!.result.agent, kind: run.steps[3]!.result.kind });
  });

  it("counts each checkpoint's usage as the sum of the steps before it", async () => {
    const run = await fixtureRun('history-replan-retry.json');
    const list = checkpointsOf(run, 'default');
    for (const c of list) {
      const before = run.steps.slice(0, c.step).map((s) => s.result.usage);
      const total = before.reduce((n, u) => n + u.promptTokens + u.completionTokens, 0);
      expect([c.step, c.usage.totalTokens, c.usage.llmCalls]).toEqual([c.step, total, c.step]);
    }
  });

  it('numbers the checkpoints of a restored run on from its seed', async () => {
    const run = await fixtureRun('history-restored.json');
    const seed = seededSteps(run).length;
    expect(seed).toBeGreaterThan(0);
    const list = checkpointsOf(run, 'default');
    expect(list[0]!.step).toBe(seed);
    expect(list[0]!.restoredFrom?.steps).toBe(seed);
    expect(list.at(-1)!.step).toBe(seed + run.steps.length);
  });

  it("a fork's checkpoints name where it came from and what was edited; its replayed tool steps say from where", async () => {
    const run = await fixtureRun('history-fork.json');
    expect(seededSteps(run).map((s) => s.kind)).toEqual(['plan', 'ledger']);
    expect(seededSteps(run)[0]!.content).toMatch(/^Plan: 1\. researcher reads the notes/);
    const list = checkpointsOf(run, 'default');
    expect(list[0]!.restoredFrom).toMatchObject({
      workflowId: 'fixture-fork-source',
      steps: 2,
      fork: { step: 2, edits: ['answer of step 1 (plan)', 'note for the orchestrator'] },
    });
    const replayed = run.steps.flatMap((s) => (s.result.tool ? [s.result.tool.replayedFrom] : []));
    expect(replayed).toHaveLength(4);
    for (const from of replayed) expect(from).toMatch(/^fixture-fork-source@\d+$/);
    // The note went with the first ledger after the fork (step 9), and with no other step.
    const withNote = (fixtureHistory('history-fork.json').events ?? []).flatMap((e) => {
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType?.name !== 'callAgent') return [];
      const request = defaultDataConverter.payloadConverter.fromPayload<{
        kind: string;
        stepIndex: number;
        note?: string;
      }>(scheduled.input!.payloads![0]!);
      return request.note ? [[request.kind, request.stepIndex + 1, request.note]] : [];
    });
    expect(withNote).toEqual([['ledger', 9, 'prefer measured numbers']]);
  });

  it('a fork whose seed came in pieces: the seed is read from its own history, the edit in place, and its entry checkpoint follows the pieces', async () => {
    const run = await fixtureRun('history-fork-pieces.json');
    expect(run.input?.restore).toMatchObject({ steps: [], pieces: { workflowId: 'fixture-pieces-source', count: 4 } });
    expect(run.seedPieces).toHaveLength(4);
    const seed = seededSteps(run);
    expect(seed.map((s) => s.kind)).toEqual(['plan', 'ledger', 'agent', 'ledger']);
    // The edited answer replaces the source's in the seed, not in the recorded piece.
    expect(seed[2]!.content).toBe('Quicksort sorts in place; mergesort is stable.');
    expect(run.seedPieces[2]!.content).not.toBe(seed[2]!.content);
    const list = checkpointsOf(run, 'default');
    expect(list.map((c) => c.step)).toEqual([4, 5, 6, 7, 8, 9]);
    // The entry checkpoint is the workflow task after the piece came in: a reset there does not read the source.
    const piece = (fixtureHistory('history-fork-pieces.json').events ?? []).find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'loadSeedPiece',
    )!;
    expect(list[0]!.eventId).toBeGreaterThan(Number(piece.eventId));
    expect(stateAt(run)?.steps).toBe(9);
  });

  it('a run people spoke to: each message folded where the run took it, read once, the interrupted step not a step', async () => {
    const run = await fixtureRun('history-tell.json');
    expect(run.told.map((t) => [t.message.id, t.message.by, t.message.interrupt ?? false])).toEqual([
      ['msg-1', 'alice', false],
      ['msg-2', 'alice', true],
    ]);
    // The first was read by the next ledger, the second by the replan that took the interrupted step's number.
    const heard = run.steps.flatMap((s) =>
      s.result.heard ? [[s.result.stepIndex + 1, s.result.kind, s.result.heard]] : [],
    );
    expect(heard).toEqual([
      [4, 'ledger', ['msg-1']],
      [5, 'plan', ['msg-2']],
    ]);
    expect(run.steps.map((s) => s.result.stepIndex + 1)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const at4 = stateAt(run, checkpointsOf(run, 'default').find((c) => c.step === 4)!.eventId)!;
    expect(at4.inbox).toBeUndefined();
    expect(at4.told).toHaveLength(1);
    const end = stateAt(run)!;
    expect(end.told).toHaveLength(2);
    expect(end.replanFor).toBeUndefined();
    expect(end.replans).toBe(1);
  });

  it('a follow-up turn: its seed folds the earlier turns, their follow-up and message; its entry checkpoint is where it began', async () => {
    const run = await fixtureRun('history-ask.json');
    const list = checkpointsOf(run, 'default');
    expect(list[0]).toMatchObject({
      step: 18,
      restoredFrom: { steps: 18, followUp: { task: 'Which one should a beginner use?', turn: 3 } },
    });
    expect(list.map((c) => c.step)).toEqual([18, 19, 20, 21, 22, 23, 24, 25, 26, 27]);
    const entry = stateAt(run, list[0]!.eventId)!;
    expect(entry).toMatchObject({ task: 'Which one should a beginner use?', phase: 'planning', round: 0, steps: 18 });
    expect(entry.turns!.map((t) => [t.task, t.by, t.step, t.answer?.slice(0, 15)])).toEqual([
      ['Compare quicksort and mergesort', null, 9, 'Final answer on'],
      ['Now benchmark them in Rust.', 'alice', 18, 'Final answer on'],
    ]);
    // The message came during turn 2's last ledger, too late for it: turn 3 starts with it unread, and its plan
    // reads it (once).
    expect(entry.told!.map((m) => [m.id, m.by, m.text])).toEqual([['msg-1', 'bob', 'Include radix sort.']]);
    expect(entry.inbox!.map((m) => m.id)).toEqual(['msg-1']);
    expect(run.steps.flatMap((s) => (s.result.heard ? [[s.result.stepIndex + 1, s.result.heard]] : []))).toEqual([
      [19, ['msg-1']],
    ]);
    const end = stateAt(run)!;
    expect(end.inbox).toBeUndefined();
    expect(end).toMatchObject({ phase: 'done', steps: 27 });
    expect(turnsOf(end).map((t) => [t.turn, t.fromStep, t.toStep])).toEqual([
      [1, 1, 9],
      [2, 10, 18],
      [3, 19, 27],
    ]);
  });

  it('a link of a run that continued as new: seeded with every step before it, its entry checkpoint is where it began', async () => {
    const run = await fixtureRun('history-continued.json');
    expect(run.status).toBe('CONTINUED_AS_NEW');
    expect(run.input!.restore).toMatchObject({ continued: true, checkpointId: '' });
    const list = checkpointsOf(run, 'default');
    expect(list[0]).toMatchObject({ step: 25, restoredFrom: { continued: true, steps: 25 } });
    // The workflow task after its last step is the one that continued as new: a checkpoint like any (a reset there
    // continues as new again); the next link's entry checkpoint is the same point.
    expect(list.at(-1)!.step).toBe(50);
    expect(run.steps.map((s) => s.result.stepIndex + 1)).toEqual(Array.from({ length: 25 }, (_, i) => 26 + i));
    const end = stateAt(run)!;
    expect(end.steps).toBe(50);
    expect(end.phase).not.toBe('done');
    // What the next link was given: every step so far, nothing else to read.
    const next = run.closeEvent!.workflowExecutionContinuedAsNewEventAttributes!;
    const input = JSON.parse(Buffer.from(next.input!.payloads![0]!.data!).toString()) as {
      restore: { steps: unknown[]; continued: boolean; runId: string };
    };
    expect(input.restore).toMatchObject({ continued: true, runId: '7a90a792-860b-4016-98d8-15ddc3bcb4ac' });
    expect(input.restore.steps).toHaveLength(50);
  });

  it('gives no checkpoint to a step whose result came in with a cancel request (a reset there keeps the request)', async () => {
    const events = [...(fixtureHistory('history-completed.json').events ?? [])];
    const third = events.filter((e) => e.activityTaskCompletedEventAttributes)[2]!;
    // The request lands after step 3's result, before the workflow task that takes it: a reset to that task
    // (checkpoint 3) would keep it, and so would every later one.
    events.splice(events.indexOf(third) + 1, 0, {
      eventId: third.eventId, // (its own id is not read)
      eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
      workflowExecutionCancelRequestedEventAttributes: { identity: 'test' },
    });
    const reader = new HistoryReader(defaultDataConverter, 'wf', 'run-1');
    for (const event of events) await reader.add(event);
    const { run } = reader;
    expect(run.steps.map((s) => Boolean(s.cameWithCancel))).toEqual([
      false,
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(checkpointsOf(run, 'default').map((c) => c.step)).toEqual([0, 1, 2]);
    // Without the request, the same history has a checkpoint per step.
    const plain = new HistoryReader(defaultDataConverter, 'wf', 'run-1');
    for (const event of fixtureHistory('history-completed.json').events ?? []) await plain.add(event);
    expect(checkpointsOf(plain.run, 'default').map((c) => c.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("folds, with the workflow's reducer, to exactly the result the run returned", async () => {
    const reader = new HistoryReader(defaultDataConverter, 'wf', 'run-1');
    for (const event of fixtureHistory('history-completed.json').events ?? []) await reader.add(event);
    const { run } = reader;
    const state = run.steps.reduce((s, step) => reduce(s, step.result), initialState(run.input!));
    expect(state.phase).toBe('done');
    expect(resultOf(state)).toEqual(await reader.result());
  });
});

describe('checkpoint ids', () => {
  const ref = {
    namespace: 'default',
    workflowId: 'team-261130-061115-1a2b3c',
    runId: '01a22cc5-d1b4-7ef7-ba5a-2a45bf0014d1',
    eventId: 40,
  };
  const id = encodeCheckpointId(ref);

  it('round-trip, and are short enough to stay on one line of an 80-column terminal', () => {
    expect(decodeCheckpointId(id)).toEqual(ref);
    expect(id.length).toBeLessThanOrEqual(80);
    const odd = { namespace: 'ns-é', workflowId: 'w@1~x', runId: 'not-a-uuid', eventId: 123_456 };
    expect(decodeCheckpointId(encodeCheckpointId(odd))).toEqual(odd);
  });

  it('refuse every truncation and every single-character typo, instead of naming another checkpoint', () => {
    for (let n = 4; n < id.length; n++) {
      expect(() => parseCheckpointId(id.slice(0, n))).toThrow(InvalidCheckpointError);
    }
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 4; i < id.length; i++) {
      const other = alphabet[(alphabet.indexOf(id[i]!) + 1) % alphabet.length]!;
      const typo = id.slice(0, i) + other + id.slice(i + 1);
      expect(() => parseCheckpointId(typo)).toThrow(InvalidCheckpointError);
    }
    const cut = catchError(() => parseCheckpointId(id.slice(0, -2)));
    expect(cut.message).toMatch(
      /damaged: its checksum does not match \(cut short, or mistyped\?\)\. It seems to be of workflow "team-261130-061115-1a2b/,
    );
    // What would help, as data: the CLI prints it as a command.
    expect(cut.next).toEqual([{ purpose: 'list the valid ids', args: ['checkpoints', 'list'] }]);
  });

  it('parse short forms: <workflowId>@<step> and <workflowId>@<step>~<run prefix>', () => {
    expect(parseCheckpointId('team-261130-061115-1a2b3c@7')).toEqual({
      kind: 'short',
      ref: { workflowId: 'team-261130-061115-1a2b3c', step: 7 },
    });
    expect(parseCheckpointId(' my@wf@0~01A22CC5 ')).toEqual({
      kind: 'short',
      ref: { workflowId: 'my@wf', step: 0, runPrefix: '01a22cc5' },
    });
    expect(shortCheckpointId({ ...ref, step: 7 }, true)).toBe('team-261130-061115-1a2b3c@7');
    expect(shortCheckpointId({ ...ref, step: 7 }, false)).toBe('team-261130-061115-1a2b3c@7~01a22cc5');
  });

  it('use a run prefix long enough to tell the runs of a workflow apart', () => {
    expect(runPrefix('01a22cc5-d1b4-7ef7', ['01a22cc5-d1b4-7ef7', '01a22cc5-e2c3-7000'])).toBe('01a22cc5-d');
    expect(runPrefix('01a22cc5-d1b4-7ef7', ['01a22cc6-0000-7000'])).toBe('01a22cc5');
  });

  it('refuse what is not an id, and ids of the earlier format (they carry no checksum), naming the workflow', () => {
    expect(() => parseCheckpointId('nope')).toThrow(
      /not a checkpoint id: give the full id \(cp2_…\) or <workflowId>@<step>/,
    );
    expect(() => parseCheckpointId('wf@')).toThrow(InvalidCheckpointError);
    expect(() => parseCheckpointId('cp2_!!')).toThrow(/garbled/);
    const old = 'cp1_' + Buffer.from('default\nwf-9\nrun\n28').toString('base64url');
    const refused = catchError(() => parseCheckpointId(old));
    expect(refused.message).toMatch(/earlier version.*: name it as wf-9@<step>, or by its current id/);
    expect(refused.next).toEqual([{ purpose: 'list the valid ids', args: ['checkpoints', 'list', '-w', 'wf-9'] }]);
  });

  it('map onto `temporal workflow reset`, quoted for a shell', () => {
    expect(resetCommand(ref)).toBe(
      `temporal workflow reset --namespace default -w ${ref.workflowId} -r ${ref.runId} -e 40 --reapply-exclude Update --reason 'resume from checkpoint'`,
    );
    expect(resetCommand({ ...ref, workflowId: "it's" })).toContain(`-w 'it'\\''s'`);
  });
});

describe('keptByReset', () => {
  it('keeps exactly the events before the checkpoint', () => {
    const history = fixtureHistory('history-completed.json');
    const kept = keptByReset(history, 28);
    expect(kept.events).toHaveLength(27);
    expect(kept.events!.every((e) => Number(e.eventId) < 28)).toBe(true);
    expect(keptByReset(history, 1).events).toEqual([]);
  });
});

describe('diffCheckpoints', () => {
  it('reports the messages added, the plan, rounds and tokens between two checkpoints of a run', async () => {
    const run = await fixtureRun('history-completed.json');
    const list = checkpointsOf(run, 'default');
    const load = (step: number) => ({
      ...list[step]!,
      state: run.steps.slice(0, step).reduce((s, x) => reduce(s, x.result), initialState(run.input!)),
    });
    const d = diffCheckpoints(load(2), load(5));
    expect(d.sameLineage).toBe(true);
    expect(d.messagesAdded.map((m) => m.step)).toEqual([3, 4, 5]);
    expect(d.messagesDropped).toEqual([]);
    expect(d.tokens.delta).toBe(list[5]!.usage.totalTokens - list[2]!.usage.totalTokens);
    expect(d.llmCalls).toEqual({ from: 2, to: 5, delta: 3 });
    expect(d.planChanged).toBe(false);
    const back = diffCheckpoints(load(5), load(2));
    expect(back.sameLineage).toBe(false);
    expect(back.messagesDropped).toHaveLength(3);
  });
});

describe('splitReason', () => {
  it('splits "user: reason" as `temporal workflow reset` writes it', () => {
    expect(splitReason('alice: resume from step 4')).toEqual({ requestedBy: 'alice', reason: 'resume from step 4' });
    expect(splitReason('no user here')).toEqual({ requestedBy: null, reason: 'no user here' });
    expect(splitReason('a.b@c-d: multi\nline')).toEqual({ requestedBy: 'a.b@c-d', reason: 'multi\nline' });
  });
});

/** The InvalidCheckpointError `parse` throws. */
function catchError(parse: () => unknown): InvalidCheckpointError {
  try {
    parse();
  } catch (err) {
    if (err instanceof InvalidCheckpointError) return err;
    throw err;
  }
  throw new Error('it parsed');
}

describe('a step with no checkpoint of its own', () => {
  it('steps that completed together (parallel tool calls) name the checkpoints around them', async () => {
    const run = await fixtureRun('history-tools.json');
    const all = checkpointsOf(run, 'default', { latest: true });
    expect(all.map((c) => c.step)).not.toContain(6);
    expect(whyNoCheckpoint(run, 6, all).why).toBe(
      `steps 6 and 7 of "${run.workflowId}" completed together (their results were taken in one workflow task), ` +
        `so there is no checkpoint between them: ${run.workflowId}@7 is after all of them, ${run.workflowId}@5 before them`,
    );
  });
  it('a step past the end says which checkpoints there are', async () => {
    const run = await fixtureRun('history-tools.json');
    const all = checkpointsOf(run, 'default', { latest: true });
    expect(whyNoCheckpoint(run, 40, all).why).toBe(
      `run ${run.runId} of "${run.workflowId}" has no checkpoint after step 40 (it has @0 to @16)`,
    );
  });
});
