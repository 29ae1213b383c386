/**
 * The everyday path, used as a stranger would: two runs at once, Ctrl-C mid-run, ids cut short or mistyped,
 * piped input, a wrong environment variable, an unreachable endpoint, cancel and terminate, one numbering of
 * steps in every command, and listings that tell the truth. Real CLI processes on the shared test server.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import OpenAI from 'openai';
import { createActivities } from '../../activities';
import type { RunOutcome } from '../../src';
import { defaultTeam } from '../../src/config';
import type { AuditTrail } from '../../src/history/audit';
import { readOfflineLlmLog, startOfflineLlm } from '../../src/llm/offline-server';
import { freePort } from '../../src/temporal/dev-server';
import {
  cleanEnv,
  cli,
  collect,
  spawnCli,
  startWithTemporal,
  temporal,
  temporalJson,
  waitForOutput,
  writeConfig,
} from '../cli-helpers';
import { FAST_LLM, ownServer, quietRuntime, testAddress, testBundle, uniqueId, until } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;
const logFile = (): string => join(dir(), `${uniqueId('llm')}.jsonl`);
const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
  cleanEnv({ TEMPORAL_ADDRESS: testAddress(), ...extra });

/** A config on a base task queue of its own, with quick retries; `model` names every agent's model. */
function config(base: string, model?: string): string {
  const agents = model
    ? `agents:\n${['orchestrator', 'researcher', 'coder', 'analyst'].map((a) => `  ${a}:\n    model: ${model}\n`).join('')}`
    : '';
  return writeConfig(
    dir(),
    `temporal:\n  task_queue: ${base}\nllm:\n  initial_retry_ms: 50\n  max_retry_ms: 100\n${agents}`,
  );
}

/** `temporal workflow describe` of a workflow: null when it does not exist. */
async function described(workflowId: string): Promise<{ workflowExecutionInfo: { status: string } } | null> {
  const r = await temporal(['workflow', 'describe', '--address', testAddress(), '-w', workflowId, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as { workflowExecutionInfo: { status: string } }) : null;
}

describe("runs never execute each other's steps", () => {
  it('two `run`s at once, with different configs (models) and request logs: each log holds exactly its own 9 steps', async () => {
    const base = uniqueId('shared');
    const [logA, logB] = [logFile(), logFile()];
    const [a, b] = await Promise.all([
      cli(
        ['run', TASK, '--offline', '--json', '--config', config(base, 'model-a')],
        env({ OFFLINE_LLM_LOG: logA, OFFLINE_LLM_LATENCY_MS: '50' }),
      ),
      cli(
        ['run', TASK, '--offline', '--json', '--config', config(base, 'model-b')],
        env({ OFFLINE_LLM_LOG: logB, OFFLINE_LLM_LATENCY_MS: '50' }),
      ),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const [runA, runB] = [JSON.parse(a.stdout) as RunOutcome, JSON.parse(b.stdout) as RunOutcome];
    const [reqA, reqB] = [readOfflineLlmLog(logA), readOfflineLlmLog(logB)];
    expect(reqA.map((e) => [e.runId, e.model, e.step])).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 9].map((step) => [runA.runId, 'model-a', step]),
    );
    expect(reqB.map((e) => [e.runId, e.model, e.step])).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 9].map((step) => [runB.runId, 'model-b', step]),
    );
    // Each run has a task queue of its own, and its history records its team.
    expect(a.stderr).toContain(`task queue ${base}/${runA.workflowId}`);
    const started = JSON.parse(await temporalJson('show', testAddress(), runB.workflowId)) as {
      events: { workflowExecutionStartedEventAttributes?: { taskQueue: { name: string } } }[];
    };
    expect(started.events[0]!.workflowExecutionStartedEventAttributes!.taskQueue.name).toBe(
      `${base}/${runB.workflowId}`,
    );
  });
});

describe('one numbering of steps everywhere', () => {
  it('run, --json, checkpoints, history, timeline, the request log and the Web UI summaries agree', async () => {
    const log = logFile();
    const cfg = config(uniqueId('numbers'));
    const run = await cli(['run', TASK, '--offline', '--json', '--config', cfg], env({ OFFLINE_LLM_LOG: log }));
    expect(run.code).toBe(0);
    const outcome = JSON.parse(run.stdout) as RunOutcome;
    const steps = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    expect(outcome.steps.map((s) => s.step)).toEqual(steps);
    expect(outcome.checkpoints.map((c) => c.step)).toEqual([0, ...steps]);
    expect([...run.stderr.matchAll(/^ {2}#(\d+) /gm)].map((m) => Number(m[1]))).toEqual(steps);
    expect(readOfflineLlmLog(log).map((e) => e.step)).toEqual(steps);
    // Checkpoint N follows step N: its agent and kind are step N's.
    for (const s of outcome.steps) {
      expect(outcome.checkpoints.find((c) => c.step === s.step)).toMatchObject({ agent: s.agent, kind: s.kind });
    }
    const history = await cli(['history', outcome.workflowId, '--json', '--config', cfg], env());
    expect((JSON.parse(history.stdout) as AuditTrail).runs[0]!.steps.map((s) => s.step)).toEqual(steps);
    const timeline = await cli(['timeline', outcome.workflowId, '--config', cfg], env());
    expect([...timeline.stdout.matchAll(/^ {2}#(\d+) /gm)].map((m) => Number(m[1]))).toEqual(steps);
    // The Web UI shows each activity's summary: `step N · agent · round R · …`, one kind name as everywhere.
    const shown = JSON.parse(await temporalJson('show', testAddress(), outcome.workflowId)) as {
      events: { eventType: string; userMetadata?: { summary?: { data: string } } }[];
    };
    const summaries = shown.events
      .filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')
      .map((e) => JSON.parse(Buffer.from(e.userMetadata!.summary!.data, 'base64').toString()) as string);
    expect(summaries.map((s) => Number(/^step (\d+) · /.exec(s)?.[1]))).toEqual(steps);
    expect(summaries[0]).toBe('step 1 · orchestrator · round 0 · plan');
    expect(summaries[1]).toBe('step 2 · orchestrator · round 1 · ledger');
    expect(summaries[8]).toBe('step 9 · orchestrator · round 4 · final');
    // One name per kind in the text views too (no "answer", "final answer" or "progress ledger").
    for (const text of [run.stderr, timeline.stdout])
      expect(text).not.toMatch(/final answer|progress ledger|\banswer\b +round/);
    expect(run.stderr).toMatch(/#9 +orchestrator +final +round 4 .* model \d+ ms/);
  });
});

describe('checkpoint ids a person can use', () => {
  let failed: RunOutcome;
  let cfg: string;
  let log: string;
  beforeAll(async () => {
    cfg = config(uniqueId('ids'));
    log = logFile();
    const run = await cli(
      ['run', TASK, '--offline', '--json', '--config', cfg],
      env({ OFFLINE_LLM_FAULTS: 'coder:1:fatal', OFFLINE_LLM_LOG: log }),
    );
    expect(run.code).toBe(1);
    failed = JSON.parse(run.stdout) as RunOutcome;
    // The closing table of `run` fits an 80-column terminal and names checkpoints by their short ids.
    const table = run.stderr.slice(run.stderr.indexOf('Checkpoints of this run:'), run.stderr.indexOf('✖ FAILED'));
    expect(Math.max(...table.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(table).toContain(`${failed.workflowId}@4`);
  });

  it('a cut-short or mistyped id is refused (exit 2) and nothing is reset', async () => {
    const last = failed.checkpoints.at(-1)!;
    const cut = last.checkpointId.slice(0, -2);
    const typo =
      last.checkpointId.slice(0, 20) + (last.checkpointId[20] === 'A' ? 'B' : 'A') + last.checkpointId.slice(21);
    for (const id of [cut, typo]) {
      const r = await cli(['resume', id, '--offline', '--config', cfg], env());
      expect(r.stderr).toContain(`checkpoint "${id}": damaged: its checksum does not match (cut short, or mistyped?)`);
      expect(r.stderr).toContain('→ list the valid ids: agent-team checkpoints list');
      expect(r.code).toBe(2);
    }
    const runs = await temporal([
      'workflow',
      'list',
      '--address',
      testAddress(),
      '-q',
      `WorkflowId="${failed.workflowId}"`,
      '-o',
      'json',
    ]);
    expect(JSON.parse(runs.stdout)).toHaveLength(1);
  });

  it('short forms work everywhere an id does: show, diff, resume (and the resumed run numbers on)', async () => {
    const wf = failed.workflowId;
    const shown = await cli(['checkpoints', 'show', `${wf}@4`, '--json', '--config', cfg], env());
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ step: 4, checkpointId: failed.checkpoints[4]!.checkpointId });
    const diff = await cli(
      ['checkpoints', 'diff', `${wf}@2`, failed.checkpoints[4]!.checkpointId, '--json', '--config', cfg],
      env(),
    );
    expect(JSON.parse(diff.stdout)).toMatchObject({ from: { step: 2 }, to: { step: 4 }, llmCalls: { delta: 2 } });
    const missing = await cli(['checkpoints', 'show', `${wf}@12`, '--config', cfg], env());
    expect(missing.stderr).toContain(`has no checkpoint after step 12 (it has @0 to @4)`);
    expect(missing.code).toBe(2);

    const resumed = await cli(
      ['resume', `${wf}@4`, '--offline', '--json', '--config', cfg],
      env({ OFFLINE_LLM_LOG: log }),
    );
    expect(resumed.code).toBe(0);
    const r = JSON.parse(resumed.stdout) as RunOutcome & { reusedSteps: number };
    expect(r.reusedSteps).toBe(4);
    expect(
      readOfflineLlmLog(log)
        .filter((e) => e.runId === r.runId)
        .map((e) => e.step),
    ).toEqual([5, 6, 7, 8, 9]);
    // The resumed run started when it was created, after the first run closed (history and exports say so).
    const trail = JSON.parse((await cli(['history', wf, '--json', '--config', cfg], env())).stdout) as AuditTrail;
    expect(trail.runs.map((x) => x.runId)).toEqual([failed.runId, r.runId]);
    expect(Date.parse(trail.runs[1]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(trail.runs[0]!.closedAt!));
    const exported = JSON.parse(
      (await cli(['checkpoints', 'export', wf, '--all-runs', '--config', cfg], env())).stdout,
    ) as {
      manifest: { runs: { startedAt: string }[] };
    };
    expect(exported.manifest.runs[1]!.startedAt).toBe(trail.runs[1]!.startedAt);
    // The first run is now an older run: its short ids carry a run prefix, and still name it.
    const list = await cli(['checkpoints', 'list', '-w', wf, '--config', cfg], env());
    const older = new RegExp(`${wf}@4~([0-9a-f-]{8,})`).exec(list.stdout);
    expect(older).not.toBeNull();
    expect(failed.runId.startsWith(older![1]!)).toBe(true);
    const again = await cli(['checkpoints', 'show', older![0], '--json', '--config', cfg], env());
    expect(JSON.parse(again.stdout)).toMatchObject({ runId: failed.runId, step: 4 });
    const table = list.stdout.slice(list.stdout.indexOf(`${wf} · run`));
    expect(Math.max(...table.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    const wide = await cli(['checkpoints', 'list', '-w', wf, '--wide', '--config', cfg], env());
    expect(wide.stdout).toContain(failed.checkpoints[4]!.checkpointId);
  });
});

describe('Ctrl-C, follow, cancel and terminate', () => {
  it('Ctrl-C during `run` detaches cleanly (exit 130, the command to continue); `follow` finishes it, no step paid twice', async () => {
    const log = logFile();
    const cfg = config(uniqueId('ctrl-c'));
    const workflowId = uniqueId('ctrl-c');
    const e = env({ OFFLINE_LLM_LOG: log, OFFLINE_LLM_LATENCY_MS: '300' });
    const child = spawnCli(['run', TASK, '--offline', '--workflow-id', workflowId, '--config', cfg], e);
    const done = collect(child);
    await waitForOutput(child, /#2 /);
    const interruptedAt = Date.now();
    child.kill('SIGINT');
    const run = await done;
    expect(Date.now() - interruptedAt).toBeLessThan(8_000);
    expect(run.code).toBe(130);
    expect(run.stderr).toContain(`⏸ Detached from ${workflowId}`);
    expect(run.stderr).toContain(`agent-team follow ${workflowId}`);
    expect(run.stderr).not.toMatch(/Promise did not resolve|error/i);
    expect((await described(workflowId))?.workflowExecutionInfo.status).toBe('WORKFLOW_EXECUTION_STATUS_RUNNING');

    const followed = await cli(['follow', workflowId, '--offline', '--json', '--config', cfg], e);
    expect(followed.code).toBe(0);
    const outcome = JSON.parse(followed.stdout) as RunOutcome;
    expect(outcome.status).toBe('COMPLETED');
    expect(followed.stderr).toContain(`A worker here serves task queue`);
    // The steps done before the Ctrl-C are shown too, numbered as `run` numbered them.
    expect([...followed.stderr.matchAll(/^ {2}#(\d+) /gm)].map((m) => Number(m[1]))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    const ok = readOfflineLlmLog(log).filter((x) => x.status === 200);
    expect(ok.map((x) => x.step ?? 0).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('cancel records where the run stopped and leaves it resumable; terminate ends one at once; both refuse closed runs', async () => {
    const base = uniqueId('cancel');
    const cfg = config(base);
    const log = logFile();
    // Slow steps (22 s a run), so that the cancel and the terminate (CLI processes starting up, on a busy CI
    // machine too) arrive mid-run.
    const e = env({ OFFLINE_LLM_LOG: log, OFFLINE_LLM_LATENCY_MS: '2500' });
    const worker = spawnCli(['worker', '--offline', '--config', cfg], e);
    const workerDone = collect(worker);
    try {
      await waitForOutput(worker, /Worker polling/);
      const [one, two] = [uniqueId('to-cancel'), uniqueId('to-terminate')];
      for (const id of [one, two]) {
        const s = await startWithTemporal(testAddress(), base, id, { task: TASK });
        expect(s.code).toBe(0);
      }
      await waitForOutput(worker, new RegExp(`#1 .*${one}`));
      const cancelled = await cli(['cancel', one, '--json', '--config', cfg], e);
      if (cancelled.code !== 0) throw new Error(cancelled.stderr);
      const outcome = JSON.parse(cancelled.stdout) as RunOutcome;
      expect(outcome.status).toBe('CANCELED');
      const stopped = outcome.checkpoints.at(-1)!.step;
      expect(stopped).toBeGreaterThanOrEqual(1);
      expect(stopped).toBeLessThan(9);
      // The hint names the last checkpoint; when a step's result came in with the cancel request, it says that this
      // step is sent again (docs/checkpoints.md: such a step has no checkpoint).
      const lastStep = outcome.steps.at(-1)?.step ?? 0;
      expect(cancelled.stderr).toContain(
        lastStep > stopped
          ? `Resume it (step ${lastStep} came in with the cancel request and is sent again`
          : 'Resume it:\n',
      );
      expect(cancelled.stderr).toContain(`\n    agent-team resume ${one}@${stopped} -c ${cfg}`);
      const memo = (
        JSON.parse(await temporalJson('describe', testAddress(), one)) as {
          workflowExecutionInfo: { memo: { fields: { stoppedAt: unknown } } };
        }
      ).workflowExecutionInfo.memo.fields;
      // (The Temporal CLI prints JSON payloads decoded.) The memo counts the steps completed; the last checkpoint is
      // one step earlier when the cancel request came in with the last step's result (see the next test).
      expect(stopped).toBeGreaterThanOrEqual(outcome.steps.length - 1);
      expect(memo.stoppedAt).toEqual({
        step: outcome.steps.length,
        round: expect.any(Number),
        reason: 'cancelled',
      });
      const terminated = await cli(['terminate', two, '--reason', 'testing', '--config', cfg], e);
      expect(terminated.stdout).toMatch(new RegExp(`✔ Terminated run \\S+ of ${two}`));
      expect(terminated.code).toBe(0);
      expect((await described(two))?.workflowExecutionInfo.status).toBe('WORKFLOW_EXECUTION_STATUS_TERMINATED');
      // The reason and who asked are in the audit trail.
      const audit = await cli(['history', two, '--config', cfg], e);
      expect(audit.stdout.replace(/\n\s+/g, ' ')).toMatch(
        new RegExp(`⏹ terminated at .* by ${userInfo().username}: testing`),
      );
      const twice = await cli(['terminate', two, '--config', cfg], e);
      expect(twice.stderr).toContain('is TERMINATED: there is nothing to terminate');
      expect(twice.code).toBe(2);
      const again = await cli(['cancel', one, '--config', cfg], e);
      expect(again.stderr).toContain(`of "${one}" is CANCELED: there is nothing to cancel`);
      expect(again.code).toBe(2);
      const resumed = await cli(['resume', `${one}@${stopped}`, '--offline', '--json', '--config', cfg], e);
      if (resumed.code !== 0) throw new Error(resumed.stderr);
      expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'COMPLETED', reusedSteps: stopped });
      // Every step up to the checkpoint was kept: the resumed run sent only the steps after it.
      const resumedRun = (JSON.parse(resumed.stdout) as RunOutcome).runId;
      expect(
        readOfflineLlmLog(log)
          .filter((x) => x.runId === resumedRun)
          .map((x) => x.step),
      ).toEqual([...Array(9 - stopped).keys()].map((i) => stopped + 1 + i));
    } finally {
      worker.kill('SIGINT');
    }
    const w = await workerDone;
    // The worker prints a line per step it executes, with the run it belongs to.
    expect(w.stderr).toMatch(/#1 +orchestrator +plan .*· to-cancel-/);
    expect(w.code).toBe(0);
  }, 120_000);
  it("a cancel request that comes in with a step's result: that step has no checkpoint, the hint names the one before it, and resuming there completes", async () => {
    // Made to happen every time: the run's workflow worker goes away while its step runs, the step completes,
    // the cancel request arrives while the workflow task that takes the result waits for a worker, and a fresh
    // worker then takes both in one task. A reset to that task would keep the request (it precedes the reset
    // point), so resuming from "after step 1" would be cancelled again at once.
    quietRuntime();
    const base = uniqueId('cancel-with');
    const cfg = config(base);
    const workflowId = uniqueId('cancel-with');
    const taskQueue = `${base}/${workflowId}`;
    const log = logFile();
    const llm = await startOfflineLlm({ logPath: log, latencyMs: 1_500 });
    const native = await NativeConnection.connect({ address: testAddress() });
    const connection = await Connection.connect({ address: testAddress() });
    const client = new Client({ connection });
    const workflows = async (): Promise<{ worker: Worker; done: Promise<void> }> => {
      const worker = await Worker.create({ connection: native, taskQueue, workflowBundle: testBundle() });
      return { worker, done: worker.run() };
    };
    const activities = await Worker.create({
      connection: native,
      taskQueue,
      activities: createActivities({
        openai: new OpenAI({ baseURL: llm.baseURL, apiKey: 'test', maxRetries: 0 }),
        agents: defaultTeam(),
      }),
    });
    const activitiesDone = activities.run();
    let wf = await workflows();
    try {
      const handle = await client.workflow.start('agentTeamWorkflow', {
        taskQueue,
        workflowId,
        args: [{ task: TASK, llm: FAST_LLM }],
      });
      const eventsOf = async (): Promise<string[]> =>
        ((await handle.fetchHistory()).events ?? []).map((e) => String(e.eventType));
      // Step 1 is running: take the workflow worker away.
      await until('step 1 to run', async () => (await handle.describe()).raw.pendingActivities?.length === 1);
      wf.worker.shutdown();
      await wf.done;
      // Step 1 completes (answered 200); its result waits for a workflow worker; the cancel request joins it.
      const ACTIVITY_COMPLETED = String(proto.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
      await until('step 1 to complete', async () => (await eventsOf()).includes(ACTIVITY_COMPLETED));
      await handle.cancel();
      wf = await workflows();
      await expect(handle.result()).rejects.toThrow(/cancel/i);
      wf.worker.shutdown();
      await wf.done;
      const types = await eventsOf();
      const CANCEL = String(proto.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
      const TASK_STARTED = String(proto.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
      // The order that makes it: the step's result, the cancel request, and only then the task that took both.
      expect(types.indexOf(CANCEL)).toBeGreaterThan(types.indexOf(ACTIVITY_COMPLETED));
      expect(types.indexOf(TASK_STARTED, types.indexOf(ACTIVITY_COMPLETED))).toBeGreaterThan(types.indexOf(CANCEL));

      const list = await cli(['checkpoints', 'list', '-w', workflowId, '--json', '--config', cfg], env());
      expect(list.code).toBe(0);
      expect((JSON.parse(list.stdout) as { step: number }[]).map((c) => c.step)).toEqual([0]);
      const followed = await cli(['follow', workflowId, '--config', cfg], env());
      expect(followed.stderr).toContain(
        // The command on a line of its own, with the -c that chose the server, so it works as pasted.
        `Resume it from its last checkpoint (step 1 came in with the cancel request`,
      );
      expect(followed.stderr).toContain(`:\n    agent-team resume ${workflowId}@0 -c ${cfg}\n`);
      const refused = await cli(['resume', `${workflowId}@1`, '--offline', '--config', cfg], env());
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(
        `step 1 of "${workflowId}" has no checkpoint: the cancel request came in with its result, so a run resumed ` +
          `there would be cancelled again at once. Resume from the checkpoint before it, ${workflowId}@0 ` +
          `(step 1 is sent again)\n  → resume from ${workflowId}@0: agent-team resume ${workflowId}@0 -c ${cfg}\n`,
      );
      const resumed = await cli(['resume', `${workflowId}@0`, '--offline', '--json', '--config', cfg], env());
      if (resumed.code !== 0) throw new Error(resumed.stderr);
      expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'COMPLETED', reusedSteps: 0, executedSteps: 9 });
    } finally {
      if (wf.worker.getState() === 'RUNNING') wf.worker.shutdown();
      activities.shutdown();
      await Promise.all([wf.done, activitiesDone]);
      await Promise.all([llm.close(), connection.close()]);
      await native.close();
    }
  });
});

describe('input and output a script can rely on', () => {
  it('`run -` reads the task from stdin, --task-file from a file; a bare - is never the task', async () => {
    const cfg = config(uniqueId('stdin'));
    const child = spawn(
      process.execPath,
      [
        '--require',
        'tsx/cjs',
        join(__dirname, '../../src/cli/main.ts'),
        'run',
        '-',
        '--offline',
        '--json',
        '--config',
        cfg,
      ],
      {
        cwd: join(__dirname, '../..'),
        env: env(),
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    child.stdin!.end('Sort a linked list\n');
    const piped = await collect(child);
    expect(piped.code).toBe(0);
    expect((JSON.parse(piped.stdout) as RunOutcome).result?.task).toBe('Sort a linked list');

    const file = join(dir(), `${uniqueId('task')}.txt`);
    writeFileSync(file, 'x'.repeat(32_001));
    const long = await cli(['run', '--task-file', file, '--config', cfg], env());
    expect(long.stderr).toContain('task is 32001 characters; the limit is 32000');
    expect(long.code).toBe(2);
    const mixed = await cli(['run', '-', 'more', '--config', cfg], env());
    expect(mixed.stderr).toContain('"-" reads the task from stdin: give it alone');
    expect(mixed.code).toBe(2);
  });

  it.each([
    ['OFFLINE_LLM_LATENCY_MS', 'soon', 'OFFLINE_LLM_LATENCY_MS must be a whole number ≥ 0, got "soon"'],
    ['OFFLINE_LLM_FAULTS', 'coder:x', 'OFFLINE_LLM_FAULTS: "coder:x" is not <agent>:<n>:<kind>'],
    ['OPENAI_BASE_URL', 'localhost:8080', 'OPENAI_BASE_URL must be an http(s) URL'],
    ['AGENT_TEAM_ENCRYPTION_KEY', 'short', 'AGENT_TEAM_ENCRYPTION_KEY must be the base64 of exactly 32 bytes'],
    ['AGENT_TEAM_LOG_LEVEL', 'LOUD', 'AGENT_TEAM_LOG_LEVEL must be one of'],
  ])('a bad %s stops `run` before anything starts (exit 2)', async (name, value, message) => {
    const workflowId = uniqueId('bad-env');
    const r = await cli(
      ['run', TASK, '--workflow-id', workflowId, '--config', config(uniqueId('env'))],
      env({ [name]: value }),
    );
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(2);
    expect(await described(workflowId)).toBeNull();
  });

  it('an unreachable LLM endpoint is reported with its URL within seconds, before anything starts', async () => {
    const port = await freePort();
    const workflowId = uniqueId('no-llm');
    const started = Date.now();
    const r = await cli(
      ['run', TASK, '--workflow-id', workflowId, '--config', config(uniqueId('no-llm'))],
      env({ OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, OPENAI_API_KEY: 'k' }),
    );
    expect(r.stderr).toContain(
      `cannot reach the LLM endpoint http://127.0.0.1:${port}/v1: nothing accepts connections at 127.0.0.1:${port} (connection refused)`,
    );
    expect(r.code).toBe(2);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await described(workflowId)).toBeNull();
  });
});

describe('listings and errors that tell the truth', () => {
  it('list --limit counts runs shown; --status running shows a running run and its checkpoints so far', async () => {
    // A server of its own: a listing of the namespace's most recent runs must not see other tests' runs (a run just
    // started elsewhere, with no checkpoint yet, would be the one run --limit 1 shows).
    const own = await ownServer('listing');
    const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
      cleanEnv({ TEMPORAL_ADDRESS: own.address, ...extra });
    const base = uniqueId('listing');
    const cfg = config(base);
    const e = env({ OFFLINE_LLM_LATENCY_MS: '1500' });
    for (let i = 0; i < 2; i++) expect((await cli(['run', TASK, '--offline', '--config', cfg], env())).code).toBe(0);
    const limited = await cli(['checkpoints', 'list', '--limit', '1', '--json', '--config', cfg], env());
    expect(new Set((JSON.parse(limited.stdout) as { runId: string }[]).map((c) => c.runId)).size).toBe(1);
    const both = await cli(['checkpoints', 'list', '--limit', '5', '--json', '--config', cfg], env());
    expect(new Set((JSON.parse(both.stdout) as { runId: string }[]).map((c) => c.runId)).size).toBe(2);

    const workflowId = uniqueId('running');
    const child = spawnCli(['run', TASK, '--offline', '--workflow-id', workflowId, '--config', cfg], e);
    const done = collect(child);
    try {
      await waitForOutput(child, /#3 /);
      const running = await cli(['checkpoints', 'list', '--status', 'running', '--json', '--config', cfg], env());
      const mine = (JSON.parse(running.stdout) as { workflowId: string; runStatus: string; step: number }[]).filter(
        (c) => c.workflowId === workflowId,
      );
      expect(mine.length).toBeGreaterThanOrEqual(3);
      expect(mine.every((c) => c.runStatus === 'RUNNING')).toBe(true);
    } finally {
      child.kill('SIGINT');
      await done;
      await cli(['terminate', workflowId, '--config', cfg], env());
      await own.stop();
    }
  });

  it.each([
    [['history', 'no-such-wf']],
    [['timeline', 'no-such-wf']],
    [['checkpoints', 'export', 'no-such-wf']],
    [['replay', 'no-such-wf']],
    [['follow', 'no-such-wf', '--offline']],
    [['cancel', 'no-such-wf', '--offline']],
    [['terminate', 'no-such-wf']],
  ])('%j: an unknown workflow is a usage error (exit 2) with one message', async (args) => {
    const r = await cli(args, env());
    expect(r.stderr).toContain('no workflow "no-such-wf" in namespace "default"');
    expect(r.code).toBe(2);
  });
});
