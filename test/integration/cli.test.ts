/**
 * The `agent-team` CLI as a user runs it: real processes against the shared test server (as an "existing
 * cluster" through TEMPORAL_ADDRESS) and, in the last block, its own embedded server.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import type { RunOutcome } from '../../src';
import { CheckpointStore } from '../../src/client';
import { buildProgram } from '../../src/cli/main';
import { freePort } from '../../src/temporal/dev-server';
import {
  cleanEnv,
  cli,
  collect,
  spawnCli,
  startWithTemporal,
  temporal,
  waitForOutput,
  writeConfig,
} from '../cli-helpers';
import {
  FileCheckpointStorage,
  WorkflowBuilder,
  decodeCheckpointId,
  encodeCheckpointId,
  orchestrator,
  researcher,
} from '../../src';
import { parseFaults } from '../../src/llm/offline-server';
import { FAST_LLM, startTestTeam, testAddress, uniqueId, until } from '../helpers';

const TASK = 'Compare quicksort and mergesort';

/** The retention of namespace "default" on the server at `address`, as the Temporal CLI reports it. */
async function retentionOf(address: string): Promise<string> {
  const { stdout } = await temporal([
    'operator',
    'namespace',
    'describe',
    '-n',
    'default',
    '--address',
    address,
    '-o',
    'json',
  ]);
  return (JSON.parse(stdout) as { config: { workflowExecutionRetentionTtl: string } }).config
    .workflowExecutionRetentionTtl;
}
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;

/** A config on a task queue of its own, with quick retries. */
function queueConfig(taskQueue: string, extra = ''): string {
  return writeConfig(
    dir(),
    `temporal:\n  task_queue: ${taskQueue}\nllm:\n  initial_retry_ms: 50\n  max_retry_ms: 100\n${extra}`,
  );
}

describe('agent-team run against a configured cluster', () => {
  it('run --offline --json completes with all four agents, visible to `temporal workflow show`', async () => {
    const config = queueConfig(uniqueId('tq'));
    const log = join(dir(), `${uniqueId('llm')}.jsonl`);
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_LOG: log });
    const { code, stdout, stderr } = await cli(['run', TASK, '--offline', '--json', '--config', config], env);
    expect(stderr).toContain('✔ COMPLETED: 9 steps, 4 rounds');
    expect(code).toBe(0);
    const outcome = JSON.parse(stdout) as RunOutcome;
    expect(outcome.status).toBe('COMPLETED');
    expect(new Set(outcome.steps.map((s) => s.agent))).toEqual(
      new Set(['orchestrator', 'researcher', 'coder', 'analyst']),
    );
    expect(outcome.steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(outcome.usage.totalTokens).toBe(outcome.usage.promptTokens + outcome.usage.completionTokens);
    expect(outcome.usage.totalTokens).toBeGreaterThan(0);
    expect(outcome.usage.llmCalls).toBe(9);
    expect(outcome.result?.answer).toContain(TASK);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(9);

    const shown = await temporal(['workflow', 'show', '--address', testAddress(), '-w', outcome.workflowId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('WorkflowExecutionCompleted');
    expect(shown.stdout.match(/ActivityTaskCompleted/g)).toHaveLength(9);
  });

  it('a run started with `temporal workflow start` completes on `agent-team worker --offline`', async () => {
    const taskQueue = uniqueId('tq');
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress() });
    const worker = spawnCli(['worker', '--offline', '--config', queueConfig(taskQueue)], env);
    const exited = collect(worker);
    try {
      await waitForOutput(worker, /Worker polling task queue/);
      const workflowId = uniqueId('temporal-cli');
      const started = await startWithTemporal(testAddress(), taskQueue, workflowId, { task: TASK });
      expect(started.code).toBe(0);
      const result = await temporal([
        'workflow',
        'result',
        '--address',
        testAddress(),
        '-w',
        workflowId,
        '--output',
        'json',
      ]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('"status": "COMPLETED"');
      expect(result.stdout).toContain('"steps": 9');
    } finally {
      worker.kill('SIGINT');
    }
    const { code, stderr } = await exited;
    expect(stderr).toContain('Worker stopped.');
    expect(code).toBe(0);
  });

  it('exits 1 with the failing agent, round and HTTP status when a step fails for good', async () => {
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_FAULTS: 'coder:1:fatal' });
    const { code, stdout, stderr } = await cli(
      ['run', TASK, '--offline', '--json', '--config', queueConfig(uniqueId('tq'))],
      env,
    );
    expect(code).toBe(1);
    const outcome = JSON.parse(stdout) as RunOutcome;
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toMatchObject({ type: 'LlmRequestRejected', agent: 'coder', round: 2, httpStatus: 400 });
    expect(outcome.steps.map((s) => s.agent)).toEqual(['orchestrator', 'orchestrator', 'researcher', 'orchestrator']);
    expect(stderr).toContain('✖ FAILED at coder (round 2) after 4 completed steps');
  });

  it('refuses a workflow id that is already running (exit 2), starting nothing', async () => {
    const taskQueue = uniqueId('tq-no-worker');
    const workflowId = uniqueId('busy');
    const connection = await Connection.connect({ address: testAddress() });
    const client = new Client({ connection });
    const handle = await client.workflow.start('agentTeamWorkflow', { taskQueue, workflowId, args: [{ task: TASK }] });
    try {
      const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress() });
      const { code, stderr } = await cli(
        ['run', TASK, '--offline', '--workflow-id', workflowId, '--config', queueConfig(taskQueue)],
        env,
      );
      expect(code).toBe(2);
      expect(stderr).toContain(`a run with workflow id "${workflowId}" is already running`);
      const { runId } = await handle.describe();
      expect(runId).toBe(handle.firstExecutionRunId);
    } finally {
      await handle.terminate('test cleanup');
      await connection.close();
    }
  });
});

describe('agent-team input errors (exit 2, nothing started)', () => {
  const env = cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:1' }); // nothing may even try to connect

  it.each([
    ['an empty task', ['run', '   '], 'task must be a non-empty string'],
    ['a task over the limit', ['run', 'x'.repeat(32_001)], 'task is 32001 characters; the limit is 32000'],
    ['a missing task', ['run'], "missing required argument 'task'"],
    ['an unknown command', ['bogus'], "unknown command 'bogus'"],
    ['an unknown option', ['run', 'x', '--frobnicate'], "unknown option '--frobnicate'"],
    [
      'a missing config file',
      ['run', 'x', '--config', '/nonexistent/workflow.yaml'],
      'config file not found: /nonexistent/workflow.yaml',
    ],
    ['an empty workflow id', ['run', 'x', '--workflow-id', ' '], '--workflow-id must not be empty'],
    ['a bad port', ['llm-server', '--port', '99999'], "option '--port <port>' argument '99999' is invalid"],
  ])('%s', async (_name, args, message) => {
    const { code, stderr } = await cli(args, env);
    expect(stderr).toContain(message);
    expect(code).toBe(2);
  });

  it.each([
    ['unknown key', 'workflow:\n  max_round: 5\n', 'workflow: unknown key "max_round"'],
    ['wrong type', 'llm:\n  timeout_ms: soon\n', 'llm.timeout_ms: Invalid input: expected number, received string'],
    [
      'storage_type redis',
      'workflow:\n  checkpointing:\n    storage_type: redis\n',
      'must be "file" or "memory", got "redis"',
    ],
    ['malformed YAML', 'workflow: {max_rounds: 3\n', 'is not valid YAML'],
    [
      'negative max_rounds',
      'workflow:\n  max_rounds: -2\n',
      'workflow.max_rounds: Too small: expected number to be >=1',
    ],
  ])('config with %s', async (_name, yaml, message) => {
    const { code, stderr } = await cli(['run', TASK, '--config', writeConfig(dir(), yaml)], env);
    expect(stderr).toContain(message);
    expect(code).toBe(2);
  });

  it('a bad OFFLINE_LLM_FAULTS is a usage error too', async () => {
    const { code, stderr } = await cli(['llm-server', '--port', '0'], {
      ...env,
      OFFLINE_LLM_FAULTS: 'coder:one:fatal',
    });
    expect(stderr).toContain('OFFLINE_LLM_FAULTS: "coder:one:fatal" is not <agent>:<n>:<kind>');
    expect(code).toBe(2);
  });

  it('--help works on every command (every command the program defines)', async () => {
    const paths: string[][] = [[]];
    const walk = (cmd: Command, prefix: string[]): void => {
      for (const sub of cmd.commands) {
        paths.push([...prefix, sub.name()]);
        walk(sub, [...prefix, sub.name()]);
      }
    };
    walk(buildProgram(), []);
    expect(paths.length).toBeGreaterThan(18);
    const results = await Promise.all(paths.map((p) => cli([...p, '--help'], env)));
    results.forEach(({ code, stdout }, i) => {
      expect([paths[i], code]).toEqual([paths[i], 0]);
      expect(stdout).toMatch(new RegExp(`^Usage: agent-team${paths[i]!.map((w) => ` ${w}`).join('')}`));
    });
  });
});

describe('the embedded server', () => {
  let blocker: Server | undefined;
  afterAll(() => blocker?.close());

  it('starts on demand, keeps history in its SQLite file across a restart, and stops', async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const storage = join(dir(), uniqueId('checkpoints'));
    const config = writeConfig(
      dir(),
      `workflow:\n  checkpointing:\n    storage_path: ${storage}\n    cleanup_after_days: 7\ntemporal:\n  port: ${port}\n  ui_port: ${uiPort}\n  task_queue: ${uniqueId('tq')}\n`,
    );
    const env = cleanEnv();
    try {
      const run = await cli(['run', TASK, '--offline', '--json', '--config', config], env);
      expect(run.stderr).toContain(
        `Starting the embedded Temporal server (file: ${storage}/temporal.db) on 127.0.0.1:${port}`,
      );
      expect(run.stderr).toContain(`Web UI: http://127.0.0.1:${uiPort}/namespaces/default/workflows/`);
      expect(run.code).toBe(0);
      const { workflowId } = JSON.parse(run.stdout) as RunOutcome;
      // Write-ahead logging (src/temporal/dev-server.ts): commits go to temporal.db-wal while the server runs.
      expect(existsSync(`${storage}/temporal.db-wal`)).toBe(true);

      const status = await cli(['server', 'status', '--json', '--config', config], env);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ running: true, healthy: true, record: { storage: 'file' } });

      expect((await cli(['server', 'stop', '--config', config], env)).stdout).toContain('Stopped.');
      const down = await cli(['server', 'status', '--config', config], env);
      expect(down.code).toBe(1);
      expect(down.stdout).toContain('not answering');

      const restarted = await cli(['server', 'start', '--json', '--config', config], env);
      expect(restarted.code).toBe(0);
      expect(JSON.parse(restarted.stdout)).toMatchObject({ reused: false, address: `127.0.0.1:${port}` });
      const again = await cli(['server', 'start', '--json', '--config', config], env);
      expect(JSON.parse(again.stdout)).toMatchObject({ reused: true });
      expect(again.stderr).not.toContain('earlier version');
      // A server an earlier version started (its pid file records no tuning) is reused, with a hint to restart it.
      const recordPath = join(storage, 'temporal-server.pid');
      const { tuning, ...older } = JSON.parse(readFileSync(recordPath, 'utf8')) as Record<string, unknown>;
      expect(tuning).toContain('history.transferProcessorMaxPollRPS=1000');
      writeFileSync(recordPath, JSON.stringify(older));
      const old = await cli(['server', 'start', '--json', '--config', config], env);
      expect(JSON.parse(old.stdout)).toMatchObject({ reused: true });
      expect(old.stderr).toContain(`was started by an earlier version`);
      expect(old.stderr).toContain(`its history stays in ${storage}/temporal.db`);
      const described = await temporal(['workflow', 'describe', '--address', `127.0.0.1:${port}`, '-w', workflowId]);
      expect(described.stdout).toMatch(/Status\s+COMPLETED/);
      // checkpointing.cleanup_after_days is the namespace's retention: applied to the embedded server.
      expect(await retentionOf(`127.0.0.1:${port}`)).toBe('604800s');
    } finally {
      await cli(['server', 'stop', '--config', config], env);
    }
  });

  it("a storage folder and its server belong together: another folder's server on the port is refused by name", async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const folder = (name: string): { storage: string; config: string } => {
      const storage = join(dir(), uniqueId(name));
      const config = writeConfig(
        dir(),
        `workflow:\n  checkpointing:\n    storage_path: ${storage}\ntemporal:\n  port: ${port}\n  ui_port: ${uiPort}\n`,
      );
      return { storage, config };
    };
    const [a, b] = [folder('folder-a'), folder('folder-b')];
    const env = cleanEnv();
    try {
      expect((await cli(['server', 'start', '--config', a.config], env)).code).toBe(0);
      const status = await cli(['server', 'status', '--config', a.config], env);
      expect(status.stdout).toContain(`keeps the storage folder ${a.storage}`);
      // The other folder's `run` on the same port: refused, naming the folder that server keeps; nothing started.
      const refused = await cli(['run', TASK, '--offline', '--config', b.config], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`port ${port} on 127.0.0.1 is taken by the embedded server of ${a.storage}`);
      expect(refused.stderr).toContain(`but this storage folder is ${b.storage}`);
      expect(refused.stderr).not.toContain('▶');
      expect((await cli(['server', 'status', '--config', b.config], env)).stdout).toContain(
        `keeps the storage folder ${a.storage} (not this one: ${b.storage})`,
      );
      // The library: a folder's storage finds its own server's port with no port given; another folder is refused.
      expect((await new FileCheckpointStorage(a.storage).resolve()).config.temporal).toMatchObject({
        port,
        ui_port: uiPort,
      });
      const other = new WorkflowBuilder()
        .addAgent(orchestrator)
        .addAgent(researcher)
        .withCheckpointing(new FileCheckpointStorage(b.storage, { port, uiPort }))
        .withLlm({ offline: true })
        .build();
      await expect(other.listCheckpoints()).rejects.toThrow(`is taken by the embedded server of ${a.storage}`);
      await other.close();
    } finally {
      await cli(['server', 'stop', '--config', a.config], env);
    }
  });

  it('reports a port taken by another program instead of hanging', async () => {
    const port = await freePort();
    blocker = createServer((socket) => {
      socket.on('error', () => {}); // our port probe resets the connection
      socket.end('not temporal\n');
    });
    await new Promise<void>((resolve) => blocker!.listen(port, '127.0.0.1', resolve));
    const config = writeConfig(
      dir(),
      `workflow:\n  checkpointing:\n    storage_path: ${join(dir(), uniqueId('cp'))}\ntemporal:\n  port: ${port}\n`,
    );
    const { code, stderr } = await cli(['run', TASK, '--offline', '--config', config], cleanEnv());
    expect(stderr).toContain(`port ${port} on 127.0.0.1 is in use by a program that is not a Temporal server`);
    expect(code).toBe(1);
  });
});

describe('checkpoints from the CLI', () => {
  it('a run failing at coder:1:fatal lists its checkpoints; `resume <last> --json` completes without re-sending any completed step', async () => {
    const config = queueConfig(uniqueId('tq'));
    const log = join(dir(), `${uniqueId('llm')}.jsonl`);
    const workflowId = uniqueId('cli-resume');
    const failed = await cli(['run', TASK, '--offline', '--json', '--workflow-id', workflowId, '--config', config], {
      ...cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_LOG: log, OFFLINE_LLM_FAULTS: 'coder:1:fatal' }),
    });
    expect(failed.code).toBe(1);
    const outcome = JSON.parse(failed.stdout) as RunOutcome;
    expect(outcome.checkpoints.map((c) => c.step)).toEqual([0, 1, 2, 3, 4]);
    expect(failed.stderr).toContain('Checkpoints of this run:');
    for (const c of outcome.checkpoints) expect(failed.stderr).toContain(c.shortId);
    const last = outcome.checkpoints[outcome.checkpoints.length - 1]!;

    const listed = await cli(
      ['checkpoints', 'list', '-w', workflowId, '--json', '--config', config],
      cleanEnv({ TEMPORAL_ADDRESS: testAddress() }),
    );
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { checkpointId: string }[]).map((c) => c.checkpointId)).toEqual(
      [...outcome.checkpoints].reverse().map((c) => c.checkpointId),
    );
    const shown = await cli(
      ['checkpoints', 'show', last.checkpointId, '--json', '--config', config],
      cleanEnv({ TEMPORAL_ADDRESS: testAddress() }),
    );
    expect(shown.code).toBe(0);
    const detail = JSON.parse(shown.stdout) as { state: { messages: { agent: string }[] }; resetCommand: string };
    expect(detail.state.messages.map((m) => m.agent)).toEqual([
      'orchestrator',
      'orchestrator',
      'researcher',
      'orchestrator',
    ]);
    expect(detail.resetCommand).toBe(
      `temporal workflow reset --namespace default -w ${workflowId} -r ${last.runId} -e ${last.eventId} --reapply-exclude Update --reason 'resume from checkpoint'`,
    );

    const resumed = await cli(
      ['resume', last.checkpointId, '--offline', '--json', '--config', config],
      cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_LOG: log }),
    );
    expect(resumed.code).toBe(0);
    const r = JSON.parse(resumed.stdout) as RunOutcome & {
      reusedSteps: number;
      executedSteps: number;
      savedUsage: { totalTokens: number; llmCalls: number };
      resumedFrom: { checkpointId: string };
    };
    expect(r.status).toBe('COMPLETED');
    expect(r.reusedSteps).toBeGreaterThanOrEqual(2);
    expect(r).toMatchObject({
      reusedSteps: 4,
      executedSteps: 5,
      savedUsage: { totalTokens: last.usage.totalTokens, llmCalls: 4 },
    });
    expect(r.resumedFrom.checkpointId).toBe(last.checkpointId);

    const entries = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { runId: string; step: number; status: number });
    const completedByFailedRun = new Set(
      entries.filter((e) => e.runId === outcome.runId && e.status === 200).map((e) => e.step),
    );
    const sentByResumedRun = entries.filter((e) => e.runId === r.runId).map((e) => e.step);
    expect([...completedByFailedRun]).toEqual([1, 2, 3, 4]);
    expect(sentByResumedRun).toEqual([5, 6, 7, 8, 9]);
  });

  it('resume without an id and without a terminal says how to choose (exit 2)', async () => {
    const { code, stderr } = await cli(['resume'], cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:1' }));
    expect(code).toBe(2);
    expect(stderr).toContain('no checkpoint id given, and no terminal to pick one on: pass one');
    expect(stderr).toContain('→ list them: agent-team checkpoints list --status failed');
    expect(stderr).toContain('→ then resume one: agent-team resume <workflowId>@<step>');
  });

  it('a garbled checkpoint id is a usage error before any connection (exit 2)', async () => {
    for (const args of [
      ['resume', 'cp1_!!'],
      ['resume', 'cp2_!!'],
      ['checkpoints', 'show', 'nope'],
      ['run', '--resume', 'cp1_Zm9v'],
    ]) {
      const { code, stderr } = await cli(args, cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:1' }));
      expect(stderr).toMatch(/checkpoint ".*": (not a checkpoint id|garbled|an id of an earlier version)/);
      expect(code).toBe(2);
    }
  });
});

describe('checkpoint ids that cannot be used (exit 2, nothing changed)', () => {
  it('an unknown run, a foreign namespace, and a workflow that is still running', async () => {
    const team = await startTestTeam({ llm: { faults: parseFaults('orchestrator:1:hang') } });
    const workflowId = uniqueId('cli-running');
    const handle = await team.client.workflow.start('agentTeamWorkflow', {
      taskQueue: team.taskQueue,
      workflowId,
      args: [{ task: TASK, llm: { ...FAST_LLM, timeoutMs: 30_000 } }],
    });
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress() });
    try {
      const store = new CheckpointStore(team.client, 'default');
      const entry = await until(
        `the entry checkpoint of ${workflowId}`,
        async () => (await store.list({ workflowId }))[0]?.checkpointId,
      );
      const ref = decodeCheckpointId(entry);
      const cases: [string[], string][] = [
        [
          ['resume', entry, '--offline'],
          `workflow "${workflowId}" is running (run ${ref.runId}), and a resume would end it: see it through, ` +
            `or cancel it first\n  → see it through: agent-team follow ${workflowId}\n` +
            `  → or cancel it first: agent-team cancel ${workflowId}`,
        ],
        [
          ['checkpoints', 'show', encodeCheckpointId({ ...ref, namespace: 'elsewhere' })],
          'belongs to namespace "elsewhere"',
        ],
        [
          ['resume', encodeCheckpointId({ ...ref, runId: '00000000-0000-0000-0000-000000000000' })],
          'no run 00000000-0000-0000-0000-000000000000',
        ],
      ];
      for (const [args, message] of cases) {
        const { code, stderr } = await cli(args, env);
        expect(stderr).toContain(message);
        expect(code).toBe(2);
      }
      expect(await store.runsOf(workflowId)).toEqual([ref.runId]); // nothing was reset
      expect((await handle.describe()).status.name).toBe('RUNNING');
    } finally {
      await handle.terminate('test cleanup');
      await team.close();
    }
  });
});

/** `agent-team resume -w <workflowId>` as a shell command (for `script`, which gives it a pseudo-terminal). */
const pickerCommand = (workflowId: string, config: string): string =>
  [
    process.execPath,
    '--require',
    'tsx/cjs',
    join(__dirname, '../../src/cli/main.ts'),
    'resume',
    '-w',
    workflowId,
    '--offline',
    '--config',
    config,
  ].join(' ');

describe('the resume picker, on a real terminal', () => {
  it('offers the failed run, then its checkpoints newest first, and resumes the one chosen', async () => {
    const config = queueConfig(uniqueId('tq'));
    const workflowId = uniqueId('picker');
    const failed = await cli(['run', TASK, '--offline', '--workflow-id', workflowId, '--config', config], {
      ...cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_FAULTS: 'coder:1:fatal' }),
    });
    expect(failed.code).toBe(1);

    // Ctrl-C at the first question leaves quietly (exit 130), changing nothing.
    const quit = spawn('script', ['-qfec', pickerCommand(workflowId, config), '/dev/null'], {
      env: cleanEnv({ TEMPORAL_ADDRESS: testAddress() }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const quitting = collect(quit);
    await waitForOutput(quit, /Resume which run\?/);
    quit.stdin!.write('\x03');
    const left = await quitting;
    expect(left.code).toBe(130);
    expect(left.stdout).not.toMatch(/error|ExitPromptError/i);

    // `script` runs the CLI on a pseudo-terminal; Enter picks the highlighted (first) choice each time.
    const child = spawn('script', ['-qfec', pickerCommand(workflowId, config), '/dev/null'], {
      env: cleanEnv({ TEMPORAL_ADDRESS: testAddress() }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const done = collect(child);
    await waitForOutput(child, /Resume which run\? \(unfinished, not resumed since\)/);
    child.stdin!.write('\r');
    await waitForOutput(child, /From which checkpoint\?[\s\S]*@4 {2}after orchestrator ledger {2}round 2/);
    child.stdin!.write('\r');
    const { code, stdout } = await done;
    const screen = stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    // The run is offered with its status, its steps and its task.
    expect(screen).toContain(`${workflowId} · failed · 4 steps · ${TASK}`);
    expect(screen).toContain(`Resuming ${workflowId} from step 4 (after orchestrator, round 2):`);
    expect(screen).toContain('4 steps reused, 1,163 tokens not paid again');
    expect(screen).toContain('✔ COMPLETED: 9 steps');
    expect(code).toBe(0);
  });
});

describe('retention on a cluster', () => {
  it('is checked, never changed: a differing cleanup_after_days gets a note naming the command to run', async () => {
    const config = writeConfig(dir(), 'workflow:\n  checkpointing:\n    cleanup_after_days: 2\n');
    const { code, stderr } = await cli(
      ['checkpoints', 'list', '--limit', '1', '--config', config],
      cleanEnv({ TEMPORAL_ADDRESS: testAddress() }),
    );
    expect(code).toBe(0);
    expect(stderr).toContain(
      'note: namespace "default" keeps closed runs 1 day(s), but checkpointing.cleanup_after_days is 2; ' +
        "a cluster's retention is its operators' setting (temporal operator namespace update -n default --retention 2d)",
    );
    expect(await retentionOf(testAddress())).toBe('86400s');
  });
});

describe('agent-team replay', () => {
  const fixture = join(__dirname, '../fixtures/history-completed.json');
  const changed = join(__dirname, '../fixtures/changed-workflow/index.ts');

  it('passes on the unchanged workflow and fails on a changed one, naming the diverging event', async () => {
    const env = cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:1' }); // a file needs no server
    const ok = await cli(['replay', fixture], env);
    expect(ok.stdout).toContain(`✔ ${fixture}: 59 events replay against the current workflow code`);
    expect(ok.code).toBe(0);
    const bad = await cli(['replay', fixture, '--workflows', changed, '--json'], env);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      compatible: false,
      events: 59,
      divergingEventId: 5,
      divergingEventType: 'ActivityTaskScheduled',
    });
  });

  it('replays a run on the server by workflow id', async () => {
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress() });
    const workflowId = uniqueId('replay');
    expect(
      (await cli(['run', TASK, '--offline', '--workflow-id', workflowId, '--config', queueConfig(uniqueId('tq'))], env))
        .code,
    ).toBe(0);
    const { code, stdout } = await cli(['replay', workflowId, '--json'], env);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ source: workflowId, compatible: true });
  });

  it('refuses a file that is not a history (exit 2)', async () => {
    const path = writeConfig(dir(), '{"not": "a history"}');
    const { code, stderr } = await cli(['replay', path], cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:1' }));
    expect(stderr).toContain('not a history (expected {"events": [...]}');
    expect(code).toBe(2);
  });
});
