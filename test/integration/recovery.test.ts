/**
 * Failure recovery against real faults (issue 4's fault matrix, the crash cases): worker processes and the
 * `run` process SIGKILLed mid-step, the Temporal server SIGKILLed and restarted on its database, an LLM
 * endpoint failing three times in a row. The offline model runs as its own process (`agent-team
 * llm-server`), so its request log outlives the processes killed here. A test kills only what it started.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { OfflineLlmLogEntry } from '../../src/llm/offline-server';
import { ensureDevServer, freePort, type DevServer } from '../../src/temporal/dev-server';
import type { TeamResult } from '../../workflows/types';
import { cleanEnv, cli, collect, spawnCli, waitForOutput, writeConfig } from '../cli-helpers';
import { testAddress, uniqueId, until } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;
/** Quick heartbeats, so a killed worker's step is handed on within about a second. */
const RECOVERY_LLM = {
  timeoutMs: 10_000,
  maxAttempts: 5,
  initialRetryMs: 100,
  maxRetryMs: 500,
  backoffCoefficient: 2,
  heartbeatMs: 250,
};

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts a process of ours and remembers it, so a failing test still cleans up only what it started. */
function own(child: ChildProcess): ChildProcess {
  started.push(child);
  return child;
}

/**
 * The offline model as a process of its own; returns its base URL, a reader of its request log and the process.
 * A model started again on the same `port` with the same `logPath` appends to the same log.
 */
async function startModel(
  env: Record<string, string>,
  at: { port?: number; logPath?: string } = {},
): Promise<{ url: string; log: () => OfflineLlmLogEntry[]; child: ChildProcess; logPath: string }> {
  const logPath = at.logPath ?? join(dir(), `${uniqueId('llm')}.jsonl`);
  const child = own(
    spawnCli(['llm-server', '--port', String(at.port ?? 0)], cleanEnv({ OFFLINE_LLM_LOG: logPath, ...env })),
  );
  let url = '';
  child.stderr!.on('data', (d: Buffer) => {
    url ||= /OPENAI_BASE_URL=(\S+)/.exec(d.toString())?.[1] ?? '';
  });
  await waitForOutput(child, /OPENAI_BASE_URL=/);
  const log = (): OfflineLlmLogEntry[] => {
    try {
      return readFileSync(logPath, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as OfflineLlmLogEntry);
    } catch {
      return [];
    }
  };
  return { url, log, child, logPath };
}

/** Sends per (run, step): how often each step's LLM request was sent. */
function sendsPerStep(log: OfflineLlmLogEntry[], runId: string): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const e of log.filter((x) => x.runId === runId)) counts[e.step!] = (counts[e.step!] ?? 0) + 1;
  return counts;
}

async function client(address: string): Promise<Client> {
  return new Client({ connection: await Connection.connect({ address }) });
}

describe('crashes lose nothing', () => {
  // The step's first attempt hangs (the model logs it on arrival), so the worker surely dies mid-step.
  it.each([
    [3, 'researcher:1:hang'],
    [6, 'orchestrator:4:hang'],
  ])(
    'a worker SIGKILLed during step %i: a new worker finishes, re-sending exactly that step',
    async (killAt, fault) => {
      const model = await startModel({ OFFLINE_LLM_FAULTS: fault });
      const taskQueue = uniqueId('crash');
      const config = writeConfig(dir(), `temporal:\n  task_queue: ${taskQueue}\n`);
      const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' });
      const first = own(spawnCli(['worker', '--config', config], env));
      await waitForOutput(first, /Worker polling/);

      const c = await client(testAddress());
      const handle = await c.workflow.start('agentTeamWorkflow', {
        taskQueue,
        workflowId: uniqueId('crash'),
        args: [{ task: TASK, llm: RECOVERY_LLM }],
      });
      const runId = handle.firstExecutionRunId;
      await until(`step ${killAt} to be in flight`, () =>
        model.log().some((e) => e.runId === runId && e.step === killAt),
      );
      first.kill('SIGKILL');
      const second = own(spawnCli(['worker', '--config', config], env));
      const result = (await handle.result()) as TeamResult;
      expect(result.steps).toBe(9);

      const sends = sendsPerStep(model.log(), runId);
      expect(Object.keys(sends).map(Number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const twice = Object.entries(sends)
        .filter(([, n]) => n > 1)
        .map(([step]) => Number(step));
      expect(twice).toEqual([killAt]); // exactly the interrupted step was sent again
      second.kill('SIGINT');
      await collect(second);
      await c.connection.close();
    },
  );

  it("the `run` command's own process SIGKILLed mid-run: a worker on the run's own task queue finishes it", async () => {
    const model = await startModel({ OFFLINE_LLM_LATENCY_MS: '400' });
    const taskQueue = uniqueId('run-kill');
    const config = writeConfig(
      dir(),
      `temporal:\n  task_queue: ${taskQueue}\nllm:\n  heartbeat_ms: 250\n  initial_retry_ms: 100\n`,
    );
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' });
    const workflowId = uniqueId('run-kill');
    const run = own(spawnCli(['run', TASK, '--workflow-id', workflowId, '--config', config], env));
    await waitForOutput(run, /#2 /);
    run.kill('SIGKILL');
    // The run has a task queue of its own (`run` printed it): `agent-team worker --task-queue` serves it.
    const worker = own(spawnCli(['worker', '--task-queue', `${taskQueue}/${workflowId}`, '--config', config], env));
    const c = await client(testAddress());
    const result = (await c.workflow.getHandle(workflowId).result()) as TeamResult;
    expect(result.steps).toBe(9);
    const runId = (await c.workflow.getHandle(workflowId).describe()).runId;
    const sends = sendsPerStep(model.log(), runId);
    expect(Object.keys(sends).map(Number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Object.values(sends).filter((n) => n > 1).length).toBeLessThanOrEqual(1); // at most the step in flight
    worker.kill('SIGINT');
    await collect(worker);
    await c.connection.close();
  });

  it('the Temporal server SIGKILLed mid-run and restarted on the same database: the run completes, history intact', async () => {
    const model = await startModel({ OFFLINE_LLM_LATENCY_MS: '400' });
    const storage = join(dir(), uniqueId('server-kill'));
    const port = await freePort();
    const serverOptions = {
      storage: 'file' as const,
      dir: storage,
      port,
      uiPort: 0,
      headless: true,
      namespace: 'default',
      detached: false,
    };
    let server: DevServer = await ensureDevServer(serverOptions);
    const address = server.address;
    const taskQueue = uniqueId('server-kill');
    const config = writeConfig(dir(), `temporal:\n  task_queue: ${taskQueue}\n`);
    const env = cleanEnv({ TEMPORAL_ADDRESS: address, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' });
    const worker = own(spawnCli(['worker', '--config', config], env));
    try {
      await waitForOutput(worker, /Worker polling/);
      let c = await client(address);
      const workflowId = uniqueId('server-kill');
      const handle = await c.workflow.start('agentTeamWorkflow', {
        taskQueue,
        workflowId,
        args: [{ task: TASK, llm: RECOVERY_LLM }],
      });
      await until('step 3 to be answered', () =>
        model.log().some((e) => e.runId === handle.firstExecutionRunId && e.step === 4),
      );
      process.kill(server.pid!, 'SIGKILL');
      await c.connection.close().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
      server = await ensureDevServer(serverOptions); // same port, same temporal.db
      c = await client(address);
      const result = (await c.workflow.getHandle(workflowId).result()) as TeamResult;
      expect(result.steps).toBe(9);
      const history = await c.workflow.getHandle(workflowId).fetchHistory();
      expect(history.events?.filter((e) => e.activityTaskCompletedEventAttributes)).toHaveLength(9);
      const listed = await cli(['checkpoints', 'list', '-w', workflowId, '--json', '--config', config], env);
      expect((JSON.parse(listed.stdout) as unknown[]).length).toBe(10);
      await c.connection.close();
    } finally {
      worker.kill('SIGINT');
      await collect(worker);
      await server.stop();
    }
  });
});

describe('a local model server that goes away mid-run', () => {
  const ok = (log: OfflineLlmLogEntry[], runId: string): OfflineLlmLogEntry[] =>
    log.filter((e) => e.runId === runId && e.status === 200);

  it('SIGKILLed after step 3 and started again on its port 6 s later: the run completes, each step sent once', async () => {
    const slow = { OFFLINE_LLM_LATENCY_MS: '500' };
    const first = await startModel(slow);
    const port = Number(new URL(first.url).port);
    const config = writeConfig(dir(), `temporal:\n  task_queue: ${uniqueId('restart')}\n`);
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OPENAI_BASE_URL: first.url, OPENAI_API_KEY: 'test' });
    const run = own(spawnCli(['run', TASK, '--workflow-id', uniqueId('restart'), '--json', '--config', config], env));
    const done = collect(run);
    await waitForOutput(run, /#3 /);
    first.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 6_000));
    const second = await startModel(slow, { port, logPath: first.logPath });
    const { code, stdout, stderr } = await done;
    expect(code).toBe(0);
    // The hosted worker said what happened and when it would try again.
    expect(stderr).toMatch(
      new RegExp(
        `the LLM endpoint ${first.url.replace(/[.]/g, '\\.')} is down \\(connection refused\\); next try in [\\d.]+ s`,
      ),
    );
    const { runId, status, steps } = JSON.parse(stdout) as { runId: string; status: string; steps: unknown[] };
    expect([status, steps.length]).toEqual(['COMPLETED', 9]);
    // Every step sent exactly once with an answer: none of the first three again, none of the others twice.
    expect(sendsPerStep(ok(second.log(), runId), runId)).toEqual({
      1: 1,
      2: 1,
      3: 1,
      4: 1,
      5: 1,
      6: 1,
      7: 1,
      8: 1,
      9: 1,
    });
  }, 90_000);

  it('that never comes back: the run fails within its retry budget naming the URL, and resumes from its last checkpoint', async () => {
    const first = await startModel({ OFFLINE_LLM_LATENCY_MS: '300' });
    const port = Number(new URL(first.url).port);
    // Budget: 3 tries (0.2 + 0.4 s apart), one automatic resume after 0.5 s, 3 tries again: about 1.7 s.
    const config = writeConfig(
      dir(),
      `temporal:\n  task_queue: ${uniqueId('gone')}\nllm:\n  max_attempts: 3\n  initial_retry_ms: 200\n  max_retry_ms: 400\n` +
        'workflow:\n  checkpointing:\n    auto_resume_max_attempts: 1\n    auto_resume_delay_ms: 500\n',
    );
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OPENAI_BASE_URL: first.url, OPENAI_API_KEY: 'test' });
    const workflowId = uniqueId('gone');
    const run = own(spawnCli(['run', TASK, '--workflow-id', workflowId, '--config', config], env));
    const done = collect(run);
    await waitForOutput(run, /#3 /);
    first.child.kill('SIGKILL');
    const killed = Date.now();
    const failed = await done;
    expect(failed.code).toBe(1);
    expect(Date.now() - killed).toBeLessThan(20_000); // the budget plus process and server overhead
    expect(failed.stderr).toContain(`the LLM endpoint ${first.url} is down (connection refused)`);
    expect(failed.stderr).toMatch(/✖ FAILED at orchestrator \(round 2\) after 3 completed steps/);
    // The printed hint, pasted back once the model is up again.
    const hint = /Resume it from its last checkpoint:\n {4}agent-team (resume \S+)/.exec(failed.stderr)?.[1];
    expect(hint).toBe(`resume ${workflowId}@3`);
    const second = await startModel({}, { port, logPath: first.logPath });
    const resumed = await cli([...hint!.split(' '), '--config', config], env);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('3 steps reused');
    const log = second.log().filter((e) => e.status === 200);
    const steps = log.map((e) => e.step);
    expect(steps.filter((s) => s! <= 3)).toEqual([1, 2, 3]); // sent once, before the outage; never again
    expect(steps.filter((s) => s! > 3).sort()).toEqual([4, 5, 6, 7, 8, 9]);
  }, 90_000);
});

describe('concurrency', () => {
  it('50 concurrent runs with random transient faults on 2 worker processes, one SIGKILLed half-way: all complete, no completed step re-sent', async () => {
    const model = await startModel({
      OFFLINE_LLM_FAULT_RATE: '0.1',
      OFFLINE_LLM_SEED: '42',
      OFFLINE_LLM_LATENCY_MS: '30',
    });
    const taskQueue = uniqueId('fifty');
    const config = writeConfig(dir(), `temporal:\n  task_queue: ${taskQueue}\n`);
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' });
    const [a, b] = [
      own(spawnCli(['worker', '--config', config], env)),
      own(spawnCli(['worker', '--config', config], env)),
    ];
    await Promise.all([waitForOutput(a, /Worker polling/), waitForOutput(b, /Worker polling/)]);

    const c = await client(testAddress());
    const llm = { ...RECOVERY_LLM, maxAttempts: 8 };
    const handles = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        c.workflow.start('agentTeamWorkflow', {
          taskQueue,
          workflowId: uniqueId(`fifty-${i}`),
          args: [{ task: `${TASK} #${i}`, llm }],
        }),
      ),
    );
    await until(
      'half of the steps to be answered',
      () => model.log().filter((e) => e.status === 200).length >= 225,
      120_000,
    );
    a.kill('SIGKILL');
    const results = (await Promise.all(handles.map((h) => h.result()))) as TeamResult[];
    expect(results.every((r) => r.steps === 9 && !r.cutShort)).toBe(true);

    const log = model.log();
    expect(log.some((e) => e.status === 500)).toBe(true); // the random faults did happen
    for (const h of handles) {
      const ok = log.filter((e) => e.runId === h.firstExecutionRunId && e.status === 200);
      expect(new Set(ok.map((e) => e.step))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9]));
      // A step is sent again only as a new attempt of a step whose answer was lost with the killed worker;
      // a step re-executed after it completed would be a second first attempt.
      const attempts = ok.map((e) => `${e.step}:${e.attempt}`);
      expect(new Set(attempts).size).toBe(attempts.length);
    }
    b.kill('SIGINT');
    await collect(b);
    await c.connection.close();
  }, 180_000);
});

describe('transient faults never need a human', () => {
  it('an LLM answering HTTP 500 three times, then 200: the run completes, retries only on that step', async () => {
    const model = await startModel({
      OFFLINE_LLM_FAULTS: 'analyst:1:transient,analyst:2:transient,analyst:3:transient',
    });
    const config = writeConfig(
      dir(),
      `temporal:\n  task_queue: ${uniqueId('t500')}\nllm:\n  initial_retry_ms: 50\n  max_retry_ms: 100\n  max_attempts: 4\n`,
    );
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' });
    const { code, stdout } = await cli(['run', TASK, '--json', '--config', config], env);
    expect(code).toBe(0);
    const { runId } = JSON.parse(stdout) as { runId: string };
    const log = model.log().filter((e) => e.runId === runId);
    expect(log.filter((e) => e.agent === 'analyst').map((e) => [e.status, e.attempt])).toEqual([
      [500, 1],
      [500, 2],
      [500, 3],
      [200, 4],
    ]);
    expect(log.filter((e) => e.agent !== 'analyst').every((e) => e.attempt === 1 && e.status === 200)).toBe(true);
  });

  it('`run` reports each automatic resume on stderr and in --json', async () => {
    const model = await startModel({ OFFLINE_LLM_FAULTS: 'researcher:1:transient,researcher:2:transient' });
    const config = writeConfig(
      dir(),
      `temporal:\n  task_queue: ${uniqueId('auto')}\nllm:\n  max_attempts: 2\n  initial_retry_ms: 50\n` +
        'workflow:\n  checkpointing:\n    auto_resume_delay_ms: 100\n',
    );
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' });
    const { code, stdout, stderr } = await cli(['run', TASK, '--json', '--config', config], env);
    expect(code).toBe(0);
    expect(stderr).toMatch(
      /↻ auto-resume 1\/3 · step 3 · researcher · round 1 · in 100 ms after: researcher \(round 1\): the LLM endpoint answered HTTP 500/,
    );
    const outcome = JSON.parse(stdout) as { status: string; autoResumes: string[] };
    expect(outcome.status).toBe('COMPLETED');
    expect(outcome.autoResumes).toHaveLength(1);
    expect(outcome.autoResumes[0]).toMatch(/^auto-resume 1\/3 · step 3 · researcher · round 1/);
  });

  it('an unreachable cluster address fails with a clear message instead of hanging (exit 1)', async () => {
    const { code, stderr } = await cli(
      ['run', TASK, '--offline'],
      cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:1', AGENT_TEAM_CONNECT_TIMEOUT_MS: '1500' }),
    );
    expect(stderr).toContain('cannot reach Temporal at 127.0.0.1:1 (namespace default)');
    expect(stderr).toContain('check TEMPORAL_ADDRESS');
    expect(code).toBe(1);
  });
});
