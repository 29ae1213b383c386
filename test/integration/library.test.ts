/**
 * The library API in the spec's shape: WorkflowBuilder → run / listCheckpoints / loadCheckpoint /
 * run(input, { checkpointId }), on the real server.
 */
import OpenAI from 'openai';
import { ConfigError } from '../../src/shared/errors';
import {
  ClusterCheckpointStorage,
  FileCheckpointStorage,
  InMemoryCheckpointStorage,
  WorkflowBuilder,
  analyst,
  coder,
  orchestrator,
  researcher,
  type RunEvent,
} from '../../src';
import { parseFaults, readOfflineLlmLog, startOfflineLlm, type OfflineLlmServer } from '../../src/llm/offline-server';
import { freePort, portOpen, stopDevServer } from '../../src/temporal/dev-server';
import { quietRuntime, testAddress, uniqueId, until } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const FAST = { initial_retry_ms: 50, max_retry_ms: 100, max_attempts: 2 };

beforeAll(() => quietRuntime());

function team(llm: OfflineLlmServer, taskQueue: string) {
  return new WorkflowBuilder()
    .addAgent(orchestrator, 'orchestrator')
    .addAgent(researcher, 'researcher')
    .addAgent(coder, 'coder')
    .addAgent(analyst, 'analyst')
    .withCheckpointing(new ClusterCheckpointStorage({ address: testAddress(), namespace: 'default' }))
    .withSettings({ taskQueue, llm: FAST })
    .withLlm({ openai: new OpenAI({ baseURL: llm.baseURL, apiKey: 'test', maxRetries: 0 }) })
    .build();
}

describe('WorkflowBuilder / CheckpointedWorkflow', () => {
  it('fork() starts a branch from a checkpoint with an edited answer, and compare() says where they diverge', async () => {
    const log = `${process.env.AGENT_TEAM_TEST_DIR}/${uniqueId('lib-fork')}.jsonl`;
    const llm = await startOfflineLlm({ logPath: log });
    const workflow = team(llm, uniqueId('lib-fork'));
    try {
      const source = await workflow.run(TASK);
      const fork = await workflow.fork(`${source.workflowId}@4`, {
        edits: { answers: [{ step: 3, text: 'An edited research answer.' }] },
      });
      expect(fork).toMatchObject({ status: 'COMPLETED', reusedSteps: 4, executedSteps: 5 });
      expect(fork.forkedFrom).toMatchObject({ workflowId: source.workflowId, step: 4 });
      expect(fork.edits).toEqual(['answer of step 3 (researcher)']);
      const sent = readOfflineLlmLog(log).filter((e) => e.workflowId === fork.workflowId);
      expect(sent.map((e) => e.step)).toEqual([5, 6, 7, 8, 9]);
      const comparison = await workflow.compare(source.workflowId, fork.workflowId);
      expect(comparison.divergesAt).toBe(3);
      expect(comparison.branches[1]!.forkOf).toMatchObject({ workflowId: source.workflowId, step: 4 });
    } finally {
      await workflow.close();
      await llm.close();
    }
  });

  it('start() streams the run as events (an AsyncIterable), in order, and its result is the outcome', async () => {
    const llm = await startOfflineLlm({});
    const workflow = team(llm, uniqueId('lib-events'));
    try {
      const handle = workflow.start(TASK);
      const events: RunEvent[] = [];
      for await (const event of handle.events()) events.push(event);
      const outcome = await handle.result();
      expect(outcome.status).toBe('COMPLETED');
      const types = events.map((e) => e.type);
      expect(types[0]).toBe('hosting');
      expect(types[1]).toBe('started');
      expect(types.filter((t) => t === 'step')).toHaveLength(9);
      expect(types.at(-1)).toBe('finished');
      const last = events.at(-1)!;
      expect(last.type === 'finished' && last.outcome.runId).toBe(outcome.runId);
      const steps = events.flatMap((e) => (e.type === 'step' ? [e.step.result.stepIndex + 1] : []));
      expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      await workflow.close();
      await llm.close();
    }
  });

  it('the spec: run, list and load checkpoints, fail mid-way, then resume from the last checkpoint', async () => {
    const taskQueue = uniqueId('lib');
    const faulty = await startOfflineLlm({ faults: parseFaults('coder:1:fatal') });
    const workflow = team(faulty, taskQueue);
    const workflowId = uniqueId('lib-run');
    let lastCheckpoint: string;
    try {
      const failed = await workflow.run(TASK, { workflowId });
      expect(failed.status).toBe('FAILED');
      expect(failed.error).toMatchObject({ agent: 'coder', httpStatus: 400 });

      const checkpoints = await workflow.listCheckpoints({ workflowId });
      expect(checkpoints.length).toBeGreaterThan(0); // the spec's test_checkpoint_save
      expect(checkpoints.map((c) => c.step)).toEqual([4, 3, 2, 1, 0]);
      lastCheckpoint = checkpoints[0]!.checkpointId;
      const state = await workflow.loadCheckpoint(lastCheckpoint);
      expect(state.state).toMatchObject({ task: TASK, round: 2, phase: 'delegating', stallCount: 0 });
      expect(state.state.lastLedger?.next_speaker.answer).toBe('coder');
    } finally {
      await workflow.close();
      await faulty.close();
    }

    // A new process, a fixed LLM: resume from the checkpoint (the spec's test_checkpoint_resume).
    const fixed = await startOfflineLlm({ logPath: `${process.env.AGENT_TEAM_TEST_DIR}/${uniqueId('lib')}.jsonl` });
    const again = team(fixed, taskQueue);
    try {
      const reused: number[] = [];
      const resumed = await again.run(null, {
        checkpointId: lastCheckpoint,
        onStep: (step, wasReused) => wasReused && reused.push(step.result.stepIndex),
      });
      expect(resumed).toMatchObject({ status: 'COMPLETED', reusedSteps: 4, executedSteps: 5 });
      expect(reused).toEqual([0, 1, 2, 3]);
      expect(fixed.calls()).toEqual({ coder: 1, orchestrator: 3, analyst: 1 }); // steps 4–8 only
      const chain = await again.listCheckpoints({ workflowId });
      expect(new Set(chain.map((c) => c.runId)).size).toBe(2);
    } finally {
      await again.close();
      await fixed.close();
    }
  });

  it('InMemoryCheckpointStorage runs its own server and stops it on close()', async () => {
    const storage = new InMemoryCheckpointStorage();
    const workflow = new WorkflowBuilder()
      .addAgent(orchestrator, 'orchestrator')
      .addAgent(researcher, 'researcher')
      .withCheckpointing(storage)
      .withLlm({ offline: true })
      .build();
    const app = await workflow.client();
    const [host, port] = [app.target.address.split(':')[0]!, Number(app.target.address.split(':')[1])];
    try {
      const outcome = await workflow.run({ task: TASK, maxRounds: 5 });
      expect(outcome.status).toBe('COMPLETED');
      expect(outcome.steps.map((s) => s.agent)).toEqual([
        'orchestrator',
        'orchestrator',
        'researcher',
        'orchestrator',
        'orchestrator',
      ]);
      expect(await workflow.listCheckpoints({ workflowId: outcome.workflowId })).toHaveLength(6);
    } finally {
      await workflow.close();
    }
    expect(await portOpen(host, port)).toBe(false);
  });

  it('FileCheckpointStorage keeps checkpoints in its SQLite file across a server restart', async () => {
    const dir = `${process.env.AGENT_TEAM_TEST_DIR}/${uniqueId('file-storage')}`;
    const storage = new FileCheckpointStorage(dir, { port: await freePort(), uiPort: await freePort() });
    const build = () =>
      new WorkflowBuilder()
        .addAgent(orchestrator, 'orchestrator')
        .addAgent(analyst, 'analyst')
        .withCheckpointing(storage)
        .withLlm({ offline: true })
        .build();
    const first = build();
    let workflowId: string;
    let before: string[];
    try {
      const outcome = await first.run(TASK);
      expect(outcome.status).toBe('COMPLETED');
      workflowId = outcome.workflowId;
      before = (await first.listCheckpoints({ workflowId })).map((c) => c.checkpointId);
      expect(before).toHaveLength(6);
    } finally {
      await first.close();
    }
    expect(await stopDevServer(dir)).toBe(true); // the server outlives the workflow object; stop it
    const second = build(); // starts the server again on the same temporal.db
    try {
      expect((await second.listCheckpoints({ workflowId })).map((c) => c.checkpointId)).toEqual(before);
      expect((await second.loadCheckpoint(before[0]!)).state.phase).toBe('done');
    } finally {
      await second.close();
      await stopDevServer(dir);
    }
  });

  it('a fifth agent joins by addAgent alone: the orchestrator calls it, no workflow change', async () => {
    const llm = await startOfflineLlm();
    const workflow = new WorkflowBuilder()
      .addAgent(orchestrator, 'orchestrator')
      .addAgent(researcher, 'researcher')
      .addAgent({ description: 'Turns findings into a short poem.', model: 'poet-model' }, 'poet')
      .withCheckpointing(new ClusterCheckpointStorage({ address: testAddress() }))
      .withSettings({ taskQueue: uniqueId('poet') })
      .withLlm({ openai: new OpenAI({ baseURL: llm.baseURL, apiKey: 'test', maxRetries: 0 }) })
      .build();
    try {
      const outcome = await workflow.run(TASK);
      expect(outcome.status).toBe('COMPLETED');
      expect(outcome.steps.filter((s) => s.kind === 'agent').map((s) => s.agent)).toEqual(['researcher', 'poet']);
      expect(llm.calls().poet).toBe(1);
    } finally {
      await workflow.close();
      await llm.close();
    }
  });

  it('rejects a team without an orchestrator, duplicate and invalid names', () => {
    expect(() => new WorkflowBuilder().addAgent(researcher, 'researcher').addAgent(coder, 'coder').build()).toThrow(
      new ConfigError('build: the team needs an agent named "orchestrator" (it plans and picks the next speaker)'),
    );
    expect(() => new WorkflowBuilder().addAgent(coder, 'coder').addAgent(analyst, 'coder')).toThrow(
      new ConfigError('addAgent: an agent named "coder" was already added'),
    );
    expect(() => new WorkflowBuilder().addAgent({ description: 'x' }, 'Not Valid')).toThrow(
      /is not a valid agent name/,
    );
    expect(() => new WorkflowBuilder().addAgent({ description: 'x' })).toThrow(/needs a name/);
  });
});

describe('people in the loop from TypeScript', () => {
  const gated = (llm: OfflineLlmServer, taskQueue: string) =>
    new WorkflowBuilder()
      .addAgent(orchestrator, 'orchestrator')
      .addAgent(researcher, 'researcher')
      .addAgent(coder, 'coder')
      .addAgent(analyst, 'analyst')
      .withCheckpointing(new ClusterCheckpointStorage({ address: testAddress(), namespace: 'default' }))
      .withSettings({ taskQueue, llm: FAST, gates: { planReview: true }, budget: { maxUsd: 1 } })
      .withLlm({ openai: new OpenAI({ baseURL: llm.baseURL, apiKey: 'test', maxRetries: 0 }) })
      .build();

  it('run(task, { onRequest }) answers in-process; pending() and respond() answer from another instance', async () => {
    const llm = await startOfflineLlm({});
    const taskQueue = uniqueId('lib-gates');
    const workflow = gated(llm, taskQueue);
    const elsewhere = gated(llm, taskQueue);
    try {
      const asked: string[] = [];
      const first = await workflow.run(TASK, {
        onRequest: (request) => {
          asked.push(request.id);
          return { decision: 'approve', answeredBy: 'lib-test' };
        },
      });
      expect(first.status).toBe('COMPLETED');
      expect(asked).toEqual(['plan_review@1#0']);
      expect(first.usage.costUsd).toBeGreaterThan(0);
      const audit = await (await workflow.client()).history.audit(first.workflowId);
      expect(audit.runs[0]!.gates[0]!.answer).toMatchObject({ decision: 'approve', answeredBy: 'lib-test' });

      // No onRequest: the run waits until another process (here, another instance) answers.
      const workflowId = uniqueId('lib-wait');
      const second = workflow.run(TASK, { workflowId });
      const waiting = await until(`${workflowId} to wait on a person`, async () => {
        const list = await elsewhere.pending(workflowId);
        return list.length > 0 && list;
      });
      expect(waiting.map((p) => p.request.kind)).toEqual(['plan_review']);
      const receipt = await elsewhere.respond(workflowId, { decision: 'revise', feedback: 'add a benchmark step' });
      expect(receipt).toMatchObject({ workflowId, requestId: 'plan_review@1#0', decision: 'revise' });
      await expect(
        elsewhere.respond(workflowId, { requestId: 'plan_review@1#0', decision: 'approve' }),
      ).rejects.toThrow(/answered already/);
      await until(
        'the revised plan to be asked for review (plan_review@2#1)',
        async () => (await elsewhere.pending(workflowId))[0]?.request.id === 'plan_review@2#1',
      );
      await elsewhere.respond(workflowId, { decision: 'approve' });
      expect((await second).status).toBe('COMPLETED');
    } finally {
      await Promise.all([workflow.close(), elsewhere.close()]);
      await llm.close();
    }
  });
});
