/**
 * The spec's checkpoint tests, on the real server: save, resume after a failure without re-sending any
 * completed step, time travel, chains of resets, invalid ids, refusal on a running workflow, and resets
 * made with the Temporal CLI itself.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { summarize } from '../../src/client/outcome';
import {
  InvalidCheckpointError,
  RunStillRunningError,
  decodeCheckpointId,
  encodeCheckpointId,
  type Checkpoint,
} from '../../src';
import { CheckpointStore } from '../../src/client';
import { auditWorkflow } from '../../src/history/audit';
import { followRun } from '../../src/history/reader';
import { parseFaults } from '../../src/llm/offline-server';
import { stateQuery } from '../../workflows';
import type { TeamResult } from '../../workflows/types';
import { temporal } from '../cli-helpers';
import { FAST_LLM, startTestTeam, testAddress, uniqueId, type TestTeam, until } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const input = { task: TASK, llm: FAST_LLM };

async function team(faults = '', taskQueue?: string): Promise<TestTeam> {
  return startTestTeam({ llm: { faults: parseFaults(faults) }, ...(taskQueue ? { taskQueue } : {}) });
}

/** Resets to a checkpoint and waits for the new run; returns its result and the new run id. */
async function resumeAndWait(t: TestTeam, store: CheckpointStore, checkpointId: string) {
  const { checkpoint, runId } = await store.reset(checkpointId);
  const reader = await followRun(t.client, checkpoint.workflowId, runId);
  return { checkpoint, runId, outcome: await summarize(reader, 'default') };
}

const newest = (list: Checkpoint[]): Checkpoint => list[0]!;

describe('checkpoints', () => {
  let clean: { result: TeamResult; requests: ReturnType<TestTeam['requests']> };

  beforeAll(async () => {
    const t = await team();
    try {
      clean = { result: (await t.run(input)).result, requests: t.requests() };
    } finally {
      await t.close();
    }
  });

  it('save: one checkpoint per completed step plus the entry checkpoint, each loadable with the state the run had', async () => {
    const t = await team();
    try {
      const { workflowId } = await t.run(input);
      const store = new CheckpointStore(t.client, 'default');
      const list = await store.list({ workflowId });
      expect(list.map((c) => c.step)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      expect(list[9]).toMatchObject({ step: 0, agent: null, usage: { totalTokens: 0, llmCalls: 0 } });
      expect(list.every((c) => c.runStatus === 'COMPLETED' && c.workflowId === workflowId)).toBe(true);
      expect(new Set(list.map((c) => c.agent))).toEqual(
        new Set([null, 'orchestrator', 'researcher', 'coder', 'analyst']),
      );
      for (const c of list) {
        const loaded = await store.load(c.checkpointId);
        expect(loaded.state.steps).toBe(c.step);
        expect(loaded.state.usage.llmCalls).toBe(c.usage.llmCalls);
        expect(loaded.state.messages.map((m) => m.step)).toEqual([...Array(c.step).keys()].map((i) => i + 1));
      }
      const last = await store.load(newest(list).checkpointId);
      const live = await t.client.workflow.getHandle(workflowId).query(stateQuery);
      expect(last.state).toEqual(live);
      expect(last.state.finalAnswer).toBe(clean.result.answer);
    } finally {
      await t.close();
    }
  });

  it('resume: a run failed at coder:1:fatal resumes from its last checkpoint, re-sending nothing it completed', async () => {
    const failing = await team('coder:1:fatal');
    const workflowId = uniqueId('resume');
    let failedRequests;
    try {
      await expect(failing.run(input, workflowId)).rejects.toThrow(WorkflowFailedError);
      failedRequests = failing.requests();
    } finally {
      await failing.close();
    }
    // The fault is cleared: a new worker (and model server) on the same task queue.
    const fixed = await team('', failing.taskQueue);
    try {
      const store = new CheckpointStore(fixed.client, 'default');
      const last = newest(await store.list({ workflowId }));
      expect(last).toMatchObject({ step: 4, agent: 'orchestrator', kind: 'ledger', round: 2, runStatus: 'FAILED' });
      const { outcome, runId } = await resumeAndWait(fixed, store, last.checkpointId);
      expect(outcome.status).toBe('COMPLETED');

      const completedBefore = failedRequests.filter((r) => r.status === 200).map((r) => r.step);
      expect(completedBefore).toEqual([1, 2, 3, 4]);
      const sentAfter = fixed.requests();
      expect(sentAfter.every((r) => r.runId === runId)).toBe(true);
      expect(sentAfter.map((r) => r.step)).toEqual([5, 6, 7, 8, 9]); // exactly the failed step, then the rest
      // The final state equals a clean run's.
      expect(outcome.result).toEqual(clean.result);
      expect(outcome.usage.llmCalls).toBe(9);
    } finally {
      await fixed.close();
    }
  });

  it('time travel from an earlier checkpoint of a completed run, and resume of a resumed run (a chain)', async () => {
    const t = await team();
    try {
      const { workflowId } = await t.run(input);
      const store = new CheckpointStore(t.client, 'default');
      const first = await store.list({ workflowId });
      const firstRunId = first[0]!.runId;
      const atStep2 = first.find((c) => c.step === 2)!;

      const before = t.requests().length;
      const second = await resumeAndWait(t, store, atStep2.checkpointId);
      expect(second.outcome.status).toBe('COMPLETED');
      expect(
        t
          .requests()
          .slice(before)
          .map((r) => r.step),
      ).toEqual([3, 4, 5, 6, 7, 8, 9]);

      const secondList = (await store.list({ workflowId })).filter((c) => c.runId === second.runId);
      const atStep6 = secondList.find((c) => c.step === 6)!;
      const mid = t.requests().length;
      const third = await resumeAndWait(t, store, atStep6.checkpointId);
      expect(third.outcome.status).toBe('COMPLETED');
      expect(
        t
          .requests()
          .slice(mid)
          .map((r) => r.step),
      ).toEqual([7, 8, 9]);

      const all = await store.list({ workflowId });
      const runs = [...new Set(all.map((c) => c.runId))];
      expect(runs).toHaveLength(3);
      const origin = (runId: string) => all.find((c) => c.runId === runId)?.resetFrom;
      expect(origin(firstRunId)).toBeUndefined();
      expect(origin(second.runId)).toMatchObject({ runId: firstRunId, checkpointId: atStep2.checkpointId });
      expect(origin(third.runId)).toMatchObject({ runId: second.runId, checkpointId: atStep6.checkpointId });
      // Every run's checkpoints stay addressable.
      for (const c of all) expect((await store.load(c.checkpointId)).state.steps).toBe(c.step);
    } finally {
      await t.close();
    }
  });

  it('rejects unknown, malformed and foreign ids, naming the id and why, and changes nothing', async () => {
    const t = await team();
    try {
      const { workflowId } = await t.run(input);
      const store = new CheckpointStore(t.client, 'default');
      const [latest] = await store.list({ workflowId });
      const ref = decodeCheckpointId(latest!.checkpointId);
      const cases: [string, RegExp][] = [
        ['not-a-checkpoint', /not a checkpoint id: give the full id \(cp2_…\) or <workflowId>@<step>/],
        ['cp2_!!!', /garbled: it has characters a checkpoint id never has/],
        ['cp1_bm9wZQ', /an id of an earlier version, which carries no checksum/],
        [latest!.checkpointId.slice(0, 20), /damaged: its checksum does not match/],
        [`${workflowId}@99`, /has no checkpoint after step 99/],
        [`${workflowId}@1~ffffffff`, /no run of ".*" starts with "ffffffff"/],
        ['no-such-workflow@1', /no workflow "no-such-workflow" in namespace "default"/],
        [
          encodeCheckpointId({ ...ref, namespace: 'elsewhere' }),
          /belongs to namespace "elsewhere", but this client is connected to "default"/,
        ],
        [
          encodeCheckpointId({ ...ref, runId: '00000000-0000-0000-0000-000000000000' }),
          /no run 00000000-0000-0000-0000-000000000000 of workflow/,
        ],
        [
          encodeCheckpointId({ ...ref, eventId: 5 }),
          /event 5 of run .* is not a checkpoint \(its checkpoints are events 4, 10, 16/,
        ],
      ];
      for (const [id, why] of cases) {
        const error = await store.reset(id).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidCheckpointError);
        expect((error as Error).message).toMatch(
          new RegExp(`^checkpoint "${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}": `),
        );
        expect((error as Error).message).toMatch(why);
      }
      expect(await store.runsOf(workflowId)).toEqual([ref.runId]);
    } finally {
      await t.close();
    }
  });

  it('refuses to resume a workflow that is running, leaving it running; resumes it once terminated', async () => {
    // The plan's LLM call hangs: the run is RUNNING, with its entry checkpoint recorded.
    const t = await team('orchestrator:1:hang');
    const workflowId = uniqueId('running');
    const handle = await t.client.workflow.start('agentTeamWorkflow', {
      taskQueue: t.taskQueue,
      workflowId,
      args: [{ ...input, llm: { ...FAST_LLM, timeoutMs: 30_000 } }],
    });
    try {
      const store = new CheckpointStore(t.client, 'default');
      const entry = await until(
        `the entry checkpoint of ${workflowId}`,
        async () => (await store.list({ workflowId }))[0],
      );
      expect(entry).toMatchObject({ step: 0, runStatus: 'RUNNING' });
      const error = await store.reset(entry.checkpointId).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunStillRunningError);
      expect((error as Error).message).toMatch(
        /^workflow ".*" is running \(run .*\), and a resume would end it: see it through, or cancel it first$/,
      );
      // What would help comes as data, for the library's caller; the CLI turns it into commands.
      expect((error as RunStillRunningError).next).toEqual([
        { purpose: 'see it through', args: ['follow', workflowId] },
        { purpose: 'or cancel it first', args: ['cancel', workflowId] },
      ]);
      const description = await handle.describe();
      expect(description.status.name).toBe('RUNNING');
      expect(description.runId).toBe(handle.firstExecutionRunId);

      // Once terminated, the same checkpoint resumes (the hang was only the first orchestrator call).
      await handle.terminate('operator gave up waiting');
      const { outcome } = await resumeAndWait(t, store, entry!.checkpointId);
      expect(outcome.status).toBe('COMPLETED');
      expect((await store.list({ workflowId })).find((c) => c.runId === handle.firstExecutionRunId)?.runStatus).toBe(
        'TERMINATED',
      );
    } finally {
      await handle.terminate('test cleanup').catch(() => undefined);
      await t.close();
    }
  });

  it('a run a reset made a moment ago is read by the very next call, whatever visibility says yet', async () => {
    const t = await team();
    try {
      const { workflowId } = await t.run(input);
      const store = new CheckpointStore(t.client, 'default');
      const first = await store.reset(`${workflowId}@6`);
      // A second reset of the same workflow at once is refused: the latest run is known even before visibility has it.
      const second = await store
        .reset(`${workflowId}@4~${first.checkpoint.runId.slice(0, 8)}`)
        .catch((e: unknown) => e);
      expect(second).toBeInstanceOf(RunStillRunningError); // the first reset's run is running: refused, unchanged
      // No wait: the latest run comes from the server itself, the chain from history.
      const runs = await store.listRuns({ workflowId });
      expect(runs.map((r) => r.runId)).toEqual([first.runId, first.checkpoint.runId]);
      expect(runs[0]!.latest).toBe(true);
      expect((await store.listRuns({ limit: 100 })).map((r) => r.runId)).toContain(first.runId);
      expect((await store.load(`${workflowId}@6`)).runId).toBe(first.runId);
      await followRun(t.client, workflowId, first.runId);
    } finally {
      await t.close();
    }
  });

  it('a run started with an input the workflow refuses lists with no checkpoint, and breaks no listing', async () => {
    const t = await team();
    try {
      const workflowId = uniqueId('refused-input');
      const handle = await t.client.workflow.start('agentTeamWorkflow', {
        taskQueue: t.taskQueue,
        workflowId,
        args: [{ task: '' }],
      });
      await expect(handle.result()).rejects.toThrow(WorkflowFailedError);
      const store = new CheckpointStore(t.client, 'default');
      const [run] = await store.listRuns({ workflowId });
      expect(run).toMatchObject({ status: 'FAILED', checkpoints: [] });
      expect((await store.listRuns({ limit: 500 })).some((r) => r.workflowId === workflowId)).toBe(true);
      const trail = await auditWorkflow(t.client, 'default', workflowId);
      expect(trail.runs[0]!.steps).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('understands a reset made with `temporal workflow reset`', async () => {
    const t = await team();
    try {
      const { workflowId } = await t.run(input);
      const store = new CheckpointStore(t.client, 'default');
      const atStep5 = (await store.list({ workflowId })).find((c) => c.step === 5)!;
      const reset = await temporal([
        'workflow',
        'reset',
        '--address',
        testAddress(),
        '-w',
        workflowId,
        '-r',
        atStep5.runId,
        '-e',
        String(atStep5.eventId),
        '--reason',
        'operator time travel',
      ]);
      expect(reset.code).toBe(0);
      const runs = await store.runsOf(workflowId);
      expect(runs).toHaveLength(2);
      const reader = await followRun(t.client, workflowId, runs[0]!);
      expect(reader.run.status).toBe('COMPLETED');
      const list = await store.list({ workflowId });
      const newRun = list.filter((c) => c.runId === runs[0]);
      expect(newRun[0]!.resetFrom).toMatchObject({
        runId: atStep5.runId,
        eventId: atStep5.eventId,
        checkpointId: atStep5.checkpointId,
      });
      expect(newRun[0]!.resetFrom!.reason).toContain('operator time travel');
      expect((await store.load(newRun[0]!.checkpointId)).state.phase).toBe('done');
    } finally {
      await t.close();
    }
  });
});
