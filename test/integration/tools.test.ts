/**
 * Agents that act: tool calls as durable steps. Real CLI processes (and, for a tool that throws, an in-process
 * worker with a tool registered in TypeScript) on the shared test server, the offline model asking for tools.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { z } from 'zod';
import {
  ClusterCheckpointStorage,
  WorkflowBuilder,
  analyst,
  coder,
  orchestrator,
  researcher,
  type RunOutcome,
} from '../../src';
import { ToolError, specOf, type ToolDefinition } from '../../activities';
import { defaultTeam } from '../../src/config';
import type { AuditTrail } from '../../src/history/audit';
import { readOfflineLlmLog, startOfflineLlm } from '../../src/llm/offline-server';
import type { StepResult, TeamInput } from '../../workflows/types';
import {
  cleanEnv,
  cli,
  collect,
  spawnCli,
  startWithTemporal,
  temporalJson,
  waitForOutput,
  writeConfig,
} from '../cli-helpers';
import { quietRuntime, testAddress, uniqueId } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;
const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
  cleanEnv({ TEMPORAL_ADDRESS: testAddress(), ...extra });

/** A workspace of its own: the example's two files, plus whatever `extra` adds. */
function workspace(extra: (ws: string) => void = () => {}): string {
  const ws = join(dir(), uniqueId('ws'));
  mkdirSync(ws, { recursive: true });
  cpSync(join(__dirname, '../../examples/tools/workspace'), ws, { recursive: true });
  extra(ws);
  return ws;
}

/** A config on a task queue of its own with these tools per agent and these `tools:` settings. */
function config(agentTools: Record<string, string[]>, tools: Record<string, unknown> = {}, extra = ''): string {
  const agents = ['orchestrator', 'researcher', 'coder', 'analyst']
    .map((a) => `  ${a}:${agentTools[a] ? `\n    tools: [${agentTools[a].join(', ')}]` : ' {}'}`)
    .join('\n');
  const settings = Object.entries(tools)
    .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
    .join('\n');
  return writeConfig(
    dir(),
    `temporal:\n  task_queue: ${uniqueId('tools')}\nllm:\n  initial_retry_ms: 50\n  max_retry_ms: 100\n` +
      `agents:\n${agents}\n${settings ? `tools:\n${settings}\n` : ''}${extra}`,
  );
}

async function history(workflowId: string, cfg: string): Promise<AuditTrail> {
  const r = await cli(['history', workflowId, '--json', '--config', cfg], env());
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as AuditTrail;
}

describe('tool calls as steps', () => {
  it('the coder runs code and uses its output; the researcher reads two files at once; each call is a step with a checkpoint', async () => {
    const log = join(dir(), `${uniqueId('llm')}.jsonl`);
    const cfg = config({ researcher: ['list_files', 'read_file'], coder: ['run_code'] });
    const ws = workspace();
    const r = await cli(
      ['run', TASK, '--offline', '--json', '--config', cfg, '--workspace', ws],
      env({ OFFLINE_LLM_LOG: log }),
    );
    if (r.code !== 0) throw new Error(r.stderr);
    const outcome = JSON.parse(r.stdout) as RunOutcome;
    expect(outcome.steps.map((s) => s.kind)).toEqual([
      'plan',
      'ledger',
      'agent', // researcher: list_files
      'tool',
      'agent', // researcher: two read_file
      'tool',
      'tool',
      'agent',
      'ledger',
      'agent', // coder: run_code
      'tool',
      'agent',
      'ledger',
      'agent',
      'ledger',
      'final',
    ]);
    // Tool steps are steps (and checkpoints), not LLM calls.
    expect(outcome.usage.llmCalls).toBe(12);
    expect(outcome.checkpoints.map((c) => c.step)).toContain(11);
    // The request log: which model calls asked for tools, and nothing else was sent.
    const requests = readOfflineLlmLog(log).filter((e) => e.runId === outcome.runId);
    expect(requests.map((e) => [e.step, e.agent, e.toolCalls ?? null])).toEqual([
      [1, 'orchestrator', null],
      [2, 'orchestrator', null],
      [3, 'researcher', ['list_files']],
      [5, 'researcher', ['read_file', 'read_file']],
      [8, 'researcher', null],
      [9, 'orchestrator', null],
      [10, 'coder', ['run_code']],
      [12, 'coder', null],
      [13, 'orchestrator', null],
      [14, 'analyst', null],
      [15, 'orchestrator', null],
      [16, 'orchestrator', null],
    ]);
    const trail = await history(outcome.workflowId, cfg);
    const steps = trail.runs[0]!.steps;
    const code = steps.find((s) => s.tool?.call.name === 'run_code')!;
    expect(code.tool).toMatchObject({ ok: true, sideEffects: 'idempotent', source: 'builtin' });
    expect(code.answer).toMatch(/^exit code 0 after \d+ ms\n--- stdout ---\nsorted 5,3,8,1,9,2 -> 1,2,3,5,8,9\n/);
    // The snippet printed the idempotency key it ran under: the one history records.
    expect(code.answer).toContain(`idempotency key: ${code.tool!.idempotencyKey}`);
    expect(code.tool!.idempotencyKey).toBe(`${outcome.workflowId}/${outcome.runId}/11/call_10_1`);
    // The coder's answer uses the output.
    expect(steps.find((s) => s.step === 12)!.answer).toContain('sorted 5,3,8,1,9,2 -> 1,2,3,5,8,9');
    // The two reads ran at once and either may finish first (the audit trail lists them as they came in), but
    // each keeps the number it got when the model asked (docs/tools.md) and holds the file it asked for.
    const reads = steps
      .filter((s) => s.tool?.call.name === 'read_file')
      .map((s) => ({ step: s.step, path: (JSON.parse(s.tool!.call.arguments) as { path: string }).path, s }))
      .sort((a, b) => a.step - b.step);
    expect(reads.map(({ step, path }) => [step, path])).toEqual([
      [6, 'notes.md'],
      [7, 'timings.csv'],
    ]);
    for (const { path, s } of reads) expect(s.answer).toBe(readFileSync(join(ws, path), 'utf8'));
    // Parallel: both read_file activities were scheduled by one workflow task.
    const events = (
      JSON.parse(await temporalJson('show', testAddress(), outcome.workflowId)) as {
        events: {
          eventId: string;
          activityTaskScheduledEventAttributes?: {
            activityType: { name: string };
            workflowTaskCompletedEventId: string;
          };
        }[];
      }
    ).events;
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType.name === 'callTool');
    expect(scheduled).toHaveLength(4);
    expect(scheduled[1]!.activityTaskScheduledEventAttributes!.workflowTaskCompletedEventId).toBe(
      scheduled[2]!.activityTaskScheduledEventAttributes!.workflowTaskCompletedEventId,
    );
    // `history` shows each call: arguments, result, side-effect class, key.
    const text = await cli(['history', outcome.workflowId, '--config', cfg], env());
    expect(text.stdout).toContain('#11 coder · tool run_code · round 2 · idempotent · ok');
    expect(text.stdout.replace(/\n\s+/g, '')).toContain(`key: ${code.tool!.idempotencyKey}`);
  });

  it('a symlink out of the workspace and a path outside it are refused; an oversized result is cut and marked', async () => {
    const secret = join(dir(), uniqueId('secret'));
    writeFileSync(secret, 'the secret');
    const ws = workspace((w) => {
      symlinkSync(secret, join(w, 'a-link.txt'));
      writeFileSync(join(w, 'a-big.txt'), 'x'.repeat(5_000));
    });
    const cfg = config({ researcher: ['list_files', 'read_file'] }, { max_result_chars: 1000 });
    const r = await cli(['run', TASK, '--offline', '--json', '--config', cfg, '--workspace', ws], env());
    if (r.code !== 0) throw new Error(r.stderr);
    const outcome = JSON.parse(r.stdout) as RunOutcome;
    const steps = (await history(outcome.workflowId, cfg)).runs[0]!.steps;
    const reads = steps.filter((s) => s.tool?.call.name === 'read_file').sort((a, b) => a.step - b.step);
    expect(reads.map((s) => [JSON.parse(s.tool!.call.arguments) as unknown, s.tool!.ok])).toEqual([
      [{ path: 'a-big.txt' }, true],
      [{ path: 'a-link.txt' }, false],
    ]);
    expect(reads[0]!.answer).toBe(`${'x'.repeat(1000)}\n[result cut at 1000 of 5000 characters]`);
    expect(reads[1]!.answer).toBe('tool read_file failed: "a-link.txt" leads out of the workspace (through a symlink)');
    expect(JSON.stringify(steps)).not.toContain('the secret');
    // The agent saw the refusal and answered: the run completed.
    expect(outcome.status).toBe('COMPLETED');
  });
});

describe('side effects', () => {
  it('resume from before a write_file is refused without --repeat-side-effects (exit 2, nothing changed) and allowed with it', async () => {
    const cfg = config({ coder: ['write_file', 'run_code'] });
    const ws = workspace();
    const r = await cli(['run', TASK, '--offline', '--json', '--config', cfg, '--workspace', ws], env());
    if (r.code !== 0) throw new Error(r.stderr);
    const outcome = JSON.parse(r.stdout) as RunOutcome;
    const trail = await history(outcome.workflowId, cfg);
    const write = trail.runs[0]!.steps.find((s) => s.tool?.call.name === 'write_file')!;
    expect(write.tool).toMatchObject({ ok: true, sideEffects: 'destructive' });
    expect(readFileSync(join(ws, 'coder-notes.md'), 'utf8')).toBe(`# Notes by coder\n\nTask: ${TASK}\n`);
    const before = `${outcome.workflowId}@${write.step - 2}`; // before the coder asked for it
    const refused = await cli(['resume', before, '--offline', '--config', cfg], env());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `resuming ${outcome.workflowId} from step ${write.step - 2} would run again 1 destructive tool call this run made after that checkpoint:\n` +
        `  step ${write.step} · coder · write_file ${write.tool!.call.arguments.slice(0, 60)} (done; key ${write.tool!.idempotencyKey})\n` +
        `Nothing was changed. Check what they did, then pass --repeat-side-effects to resume anyway, or resume from a checkpoint after step ${write.step}`,
    );
    // Nothing changed: the workflow's current run is still the first.
    const described = JSON.parse(await temporalJson('describe', testAddress(), outcome.workflowId)) as {
      workflowExecutionInfo: { execution: { runId: string } };
    };
    expect(described.workflowExecutionInfo.execution.runId).toBe(outcome.runId);
    // From after it: allowed without the flag.
    const after = await cli(
      ['resume', `${outcome.workflowId}@${write.step + 1}`, '--offline', '--json', '--config', cfg],
      env(),
    );
    if (after.code !== 0) throw new Error(after.stderr);
    // With the flag: the call runs again, under a new key (a new run).
    writeFileSync(join(ws, 'coder-notes.md'), 'changed by hand');
    const again = await cli(
      [
        'resume',
        `${outcome.workflowId}@${write.step - 2}~${outcome.runId.slice(0, 8)}`,
        '--offline',
        '--json',
        '--repeat-side-effects',
        '--config',
        cfg,
      ],
      env(),
    );
    if (again.code !== 0) throw new Error(again.stderr);
    const resumed = JSON.parse(again.stdout) as RunOutcome;
    expect(resumed.status).toBe('COMPLETED');
    expect(readFileSync(join(ws, 'coder-notes.md'), 'utf8')).toBe(`# Notes by coder\n\nTask: ${TASK}\n`);
    const rewrite = (await history(outcome.workflowId, cfg)).runs
      .find((run) => run.runId === resumed.runId)!
      .steps.find((s) => s.tool?.call.name === 'write_file' && !s.kept)!;
    expect(rewrite.tool!.idempotencyKey).toBe(
      `${outcome.workflowId}/${resumed.runId}/${write.step}/${write.tool!.call.id}`,
    );
  });

  it.each([
    ['idempotent', 'run_code is retried on a fresh worker with the same idempotency key', {}],
    [
      'destructive',
      'a destructive run_code is not run again: the run fails, naming the call and its key',
      { run_code: 'destructive' },
    ],
  ] as const)('worker SIGKILLed during a tool call (%s): %s', async (kind, _what, sideEffects) => {
    const cfg = config({ coder: ['run_code'] }, Object.keys(sideEffects).length ? { side_effects: sideEffects } : {});
    // Quick failure detection: heartbeats every 500 ms, a lost worker noticed after 1 s.
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('llm:\n', 'llm:\n  heartbeat_ms: 500\n'));
    const queue = /task_queue: (\S+)/.exec(readFileSync(cfg, 'utf8'))![1]!;
    const e = env({ OFFLINE_LLM_TOOL_DELAY_MS: '4000' });
    const first = spawnCli(['worker', '--offline', '--config', cfg], e);
    const firstOut = collect(first);
    await waitForOutput(first, /Worker polling/);
    const workflowId = uniqueId(`kill-${kind}`);
    const input: TeamInput = {
      task: TASK,
      llm: { heartbeatMs: 500, initialRetryMs: 50, maxRetryMs: 100 },
      tools: { timeoutMs: 30_000 },
      team: {
        agents: defaultTeam().map((a) => (a.name === 'coder' ? { ...a, tools: ['run_code'] } : a)),
        temperature: 0,
        tools: [
          {
            ...specOf(
              (await import('../../activities')).BUILTIN_TOOLS.find((t) => t.name === 'run_code')!,
              'builtin',
            ),
            ...(kind === 'destructive' ? { sideEffects: 'destructive' as const } : {}),
          },
        ],
      },
    };
    const started = await startWithTemporal(testAddress(), queue, workflowId, input);
    expect(started.code).toBe(0);
    await waitForOutput(first, /run_code started \(attempt 1, \w+, key (\S+)\)/, 60_000);
    first.kill('SIGKILL');
    const key1 = /run_code started \(attempt 1, \w+, key (\S+)\)/.exec((await firstOut).stderr)![1]!;
    const second = spawnCli(['worker', '--offline', '--config', cfg], e);
    const secondOut = collect(second);
    try {
      const followed = await cli(['follow', workflowId, '--json', '--no-worker', '--config', cfg], env());
      const outcome = JSON.parse(followed.stdout) as RunOutcome;
      if (kind === 'idempotent') {
        expect(outcome.status).toBe('COMPLETED');
        const code = (await history(workflowId, cfg)).runs[0]!.steps.find((s) => s.tool)!;
        expect(code.tool!.idempotencyKey).toBe(key1);
        expect(code.attempts).toBe(2);
        expect(code.answer).toContain(`idempotency key: ${key1}`);
      } else {
        expect(outcome.status).toBe('FAILED');
        expect(outcome.error).toMatchObject({ type: 'SideEffectUncertain' });
        expect(outcome.error!.message).toContain(
          `tool run_code (destructive) at step 6 (coder) may have started and did not finish`,
        );
        expect(outcome.error!.message).toContain(
          `it is not run again automatically. Check what it did (idempotency key ${key1}); to run it again, resume ` +
            `from the checkpoint before it (step 5), confirming the side effects`,
        );
        // The command is the CLI's to write: the error carries the step, and follow prints the resume to paste.
        expect(outcome.error).toMatchObject({ step: 6 });
        const hint = `agent-team resume ${workflowId}@5 --repeat-side-effects`;
        expect(followed.stderr).toContain(`\n    ${hint} -c ${cfg}\n`);
        // The hint pasted back: without the flag it is refused, with it the call runs again (a new run, a new key).
        const refused = await cli(['resume', `${workflowId}@5`, '--offline', '--config', cfg], env());
        expect(refused.code).toBe(2);
        expect(refused.stderr).toContain(`run_code {"language":"javascript"`);
        expect(refused.stderr).toContain(`(may have started; key ${key1})`);
        const again = await cli([...hint.split(' ').slice(1), '--offline', '--json', '--config', cfg], e);
        if (again.code !== 0) throw new Error(again.stderr);
        const resumed = JSON.parse(again.stdout) as RunOutcome;
        expect(resumed.status).toBe('COMPLETED');
      }
    } finally {
      second.kill('SIGINT');
    }
    const w2 = await secondOut;
    if (kind === 'idempotent') expect(w2.stderr).toContain(`run_code started (attempt 2, idempotent, key ${key1})`);
    else {
      // The call that may have started was never run again on its own; it ran once more only when confirmed.
      expect(w2.stderr).not.toContain(`key ${key1}`);
      expect(w2.stderr.match(/run_code started/g)).toHaveLength(1);
    }
  });
});

describe('tools defined in TypeScript', () => {
  it('addTool + addAgent({ tools }): a retryable error is retried, then the agent sees an error naming the tool; a ToolError is not retried', async () => {
    quietRuntime();
    const calls: Record<string, string[]> = {};
    const tool = (name: string, error: () => Error): ToolDefinition<{ query: string }> => ({
      name,
      description: `looks ${name} up`,
      input: z.strictObject({ query: z.string() }),
      sideEffects: 'none',
      handler: async (_args, { idempotencyKey }) => {
        (calls[name] ??= []).push(idempotencyKey);
        throw error();
      },
    });
    const llm = await startOfflineLlm({});
    const workflow = new WorkflowBuilder()
      .addAgent(orchestrator, 'orchestrator')
      .addAgent({ ...researcher, tools: ['flaky_lookup', 'broken_lookup'] }, 'researcher')
      .addAgent(coder, 'coder')
      .addAgent(analyst, 'analyst')
      .addTool(tool('flaky_lookup', () => new Error('connection reset')))
      .addTool(tool('broken_lookup', () => new ToolError('no such record', { retryable: false })))
      .withCheckpointing(new ClusterCheckpointStorage({ address: testAddress(), namespace: 'default' }))
      .withSettings({ taskQueue: uniqueId('ts-tools'), llm: { initial_retry_ms: 50, max_retry_ms: 100 } })
      .withLlm({ openai: new OpenAI({ baseURL: llm.baseURL, apiKey: 'test', maxRetries: 0 }) })
      .build();
    try {
      const outcome = await workflow.run(TASK);
      expect(outcome.status).toBe('COMPLETED');
      expect(outcome.steps).toHaveLength(12);
      // Three attempts of the flaky one, under one idempotency key; one of the other.
      expect(calls.flaky_lookup).toHaveLength(3);
      expect(new Set(calls.flaky_lookup)).toEqual(new Set([`${outcome.workflowId}/${outcome.runId}/4/call_3_1`]));
      expect(calls.broken_lookup).toEqual([`${outcome.workflowId}/${outcome.runId}/5/call_3_2`]);
      const app = await workflow.client();
      const events = (await app.context.temporal.workflow.getHandle(outcome.workflowId).fetchHistory()).events ?? [];
      const stepResults = events
        .filter((e) => e.activityTaskCompletedEventAttributes)
        .map(
          (e) =>
            JSON.parse(
              Buffer.from(e.activityTaskCompletedEventAttributes!.result!.payloads![0]!.data!).toString(),
            ) as StepResult,
        );
      const results = stepResults.filter((r) => r.kind === 'tool').sort((a, b) => a.stepIndex - b.stepIndex);
      expect(
        results.map((r) => [r.tool!.call.name, r.content, r.tool!.ok, r.tool!.retryable, r.attempt, r.tool!.source]),
      ).toEqual([
        ['flaky_lookup', 'tool flaky_lookup failed (after 3 attempts): connection reset', false, true, 3, 'library'],
        ['broken_lookup', 'tool broken_lookup failed: no such record', false, false, 1, 'library'],
      ]);
      // The researcher's answer quotes both errors.
      const answer = stepResults.find((r) => r.stepIndex === 5)!;
      expect(answer.content).toContain('[tool flaky_lookup failed (after 3 attempts): connection reset]');
    } finally {
      await workflow.close();
      await llm.close();
    }
  });

  it('a tool name no one provides is a configuration error naming the agent and what exists', () => {
    expect(() =>
      new WorkflowBuilder()
        .addAgent(orchestrator, 'orchestrator')
        .addAgent({ ...coder, tools: ['run_kode'] }, 'coder')
        .build(),
    ).toThrow(
      `build: coder's tools: no tool named "run_kode" (available: read_file, list_files, write_file, run_code; addTool registers one)`,
    );
    const cfg = config({ coder: ['run_kode'] });
    return cli(['run', TASK, '--offline', '--config', cfg], env()).then((r) => {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        'agents.coder.tools: no tool named "run_kode" (available: read_file, list_files, write_file, run_code)',
      );
    });
  });
});

describe('MCP servers', () => {
  const serverScript = join(__dirname, '../fixtures/mcp-server.ts');

  it.each(['stdio', 'http'] as const)(
    'over %s: tools listed when the run starts (in history), called with the idempotency key in _meta; a server error reaches the agent; a server dying mid-call is retried',
    async (transport) => {
      const state = join(dir(), uniqueId('mcp-state'));
      const calls = join(dir(), uniqueId('mcp-calls'));
      let http: ReturnType<typeof spawn> | null = null;
      let server: string;
      if (transport === 'stdio') {
        server =
          `    command: ${JSON.stringify(process.execPath)}\n` +
          `    args: ["--require", "tsx/cjs", ${JSON.stringify(serverScript)}]\n` +
          `    env: { MCP_STATE: ${JSON.stringify(state)}, MCP_CALLS: ${JSON.stringify(calls)} }\n`;
      } else {
        http = spawn(process.execPath, ['--require', 'tsx/cjs', serverScript, '--http', '0'], {
          env: { ...process.env, MCP_STATE: state, MCP_CALLS: calls },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const port = await new Promise<string>((resolve, reject) => {
          http!.stdout!.on('data', (d: Buffer) => {
            const m = /listening on (\d+)/.exec(d.toString());
            if (m) resolve(m[1]!);
          });
          http!.on('exit', (code) => reject(new Error(`the MCP server exited (${code})`)));
        });
        server = `    url: http://127.0.0.1:${port}/mcp\n`;
      }
      try {
        const cfg = config({ researcher: ['mcp:kb'] }, {}, `mcp_servers:\n  kb:\n${server}`);
        const r = await cli(['run', TASK, '--offline', '--json', '--config', cfg], env());
        if (r.code !== 0) throw new Error(r.stderr);
        const outcome = JSON.parse(r.stdout) as RunOutcome;
        expect(outcome.status).toBe('COMPLETED');
        const steps = (await history(outcome.workflowId, cfg)).runs[0]!.steps.filter((s) => s.tool);
        const byName = Object.fromEntries(steps.map((s) => [s.tool!.call.name, s]));
        expect(Object.keys(byName).sort()).toEqual(['kb__crash_once', 'kb__fail', 'kb__lookup', 'kb__record']);
        expect(byName.kb__lookup!.tool).toMatchObject({ ok: true, sideEffects: 'none', source: 'mcp:kb' });
        // The key the server got in _meta is the one history records.
        expect(byName.kb__lookup!.answer).toBe(
          `kb: ${TASK} is well documented (key ${byName.kb__lookup!.tool!.idempotencyKey})`,
        );
        expect(readFileSync(calls, 'utf8')).toBe(`${byName.kb__record!.tool!.idempotencyKey} ${TASK.slice(0, 20)}\n`);
        expect(byName.kb__record!.tool!.sideEffects).toBe('idempotent');
        expect(byName.kb__fail!.tool!.ok).toBe(false);
        expect(byName.kb__fail!.answer).toMatch(
          /^tool kb__fail failed: MCP server "kb" \(.*\) reported an error: the knowledge base is closed today$/,
        );
        if (transport === 'stdio') {
          // The server process died mid-call: the call was retried (a new process), under the same key.
          expect(readFileSync(state, 'utf8')).toBe('crashed');
          expect(byName.kb__crash_once!.attempts).toBe(2);
          expect(byName.kb__crash_once!.answer).toBe(`survived (key ${byName.kb__crash_once!.tool!.idempotencyKey})`);
        } else {
          // The HTTP server died mid-call and nobody starts it again: the call's attempts fail to connect, and the
          // agent gets the error (the run goes on).
          expect(readFileSync(state, 'utf8')).toBe('crashed');
          expect(byName.kb__crash_once!.tool).toMatchObject({ ok: false, retryable: true });
          expect(byName.kb__crash_once!.attempts).toBe(3);
          expect(byName.kb__crash_once!.answer).toMatch(
            /^tool kb__crash_once failed \(after 3 attempts\): cannot reach MCP server "kb" \(http:\/\/127\.0\.0\.1:\d+\/mcp\): fetch failed$/,
          );
        }
        // The tool list is in history (the listMcpTools activity), and a checkpoint's state has the tools.
        const shown = await cli(['checkpoints', 'show', `${outcome.workflowId}@3`, '--json', '--config', cfg], env());
        const cp = JSON.parse(shown.stdout) as {
          state: { settings: { team: { tools: { name: string }[]; agents: { name: string; tools?: string[] }[] } } };
        };
        expect(cp.state.settings.team.tools.map((t) => t.name)).toEqual([
          'kb__lookup',
          'kb__record',
          'kb__fail',
          'kb__crash_once',
        ]);
        expect(cp.state.settings.team.agents.find((a) => a.name === 'researcher')!.tools).toEqual([
          'kb__lookup',
          'kb__record',
          'kb__fail',
          'kb__crash_once',
        ]);
      } finally {
        http?.kill('SIGKILL');
      }
    },
  );

  it('an MCP server that cannot be reached fails the run at its start, naming the server', async () => {
    const cfg = config({ researcher: ['mcp:kb'] }, {}, `mcp_servers:\n  kb:\n    command: /nonexistent/mcp-server\n`);
    const r = await cli(['run', TASK, '--offline', '--json', '--config', cfg], env());
    expect(r.code).toBe(1);
    const outcome = JSON.parse(r.stdout) as RunOutcome;
    expect(outcome.steps).toHaveLength(0);
    expect(outcome.error!.message).toContain('cannot reach MCP server "kb" (/nonexistent/mcp-server)');
  });
});

describe('live output', () => {
  it('`follow --live` in another process shows the text of the step in progress and each tool call as it starts; history gets no event per token', async () => {
    const cfg = config({ coder: ['run_code'] });
    const workflowId = uniqueId('live');
    const log = join(dir(), `${uniqueId('llm')}.jsonl`);
    const runner = spawnCli(
      ['run', TASK, '--offline', '--json', '--workflow-id', workflowId, '--config', cfg],
      env({ OFFLINE_LLM_LATENCY_MS: '2500', OFFLINE_LLM_LOG: log }),
    );
    const ran = collect(runner);
    await waitForOutput(runner, /#1 +orchestrator/, 60_000);
    const followed = await cli(['follow', workflowId, '--live', '--no-worker', '--config', cfg], env());
    const done = await ran;
    expect([done.code, followed.code]).toEqual([0, 0]);
    // An agent's text, seen while its step ran (the line before the step's own line), from another process.
    // Which step is the first one `follow` sees live depends on how fast that process starts (seconds on a
    // loaded CI machine), so any agent step will do; the last one (#9) starts about 20 s into the run.
    const live =
      / {2}✎ #(\d+) (researcher|coder|analyst): \2 on "Compare quicksort and mergesort": [^\n]+\n {2}#\1 +\2 +agent/;
    expect(followed.stderr).toMatch(live);
    expect(followed.stderr).toMatch(
      / {2}⚙ #6 +coder +run_code \{"language":"javascript","code":"const …\n {2}#6 +coder +tool/,
    );
    // The same run without streaming latency has exactly as many events: live text is never written to history.
    const quick = uniqueId('quick');
    const q = await cli(['run', TASK, '--offline', '--json', '--workflow-id', quick, '--config', cfg], env());
    expect(q.code).toBe(0);
    const count = async (id: string): Promise<number> =>
      (JSON.parse(await temporalJson('show', testAddress(), id)) as { events: unknown[] }).events.length;
    expect(await count(workflowId)).toBe(await count(quick));
  }, 150_000);
});
