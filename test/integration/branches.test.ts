/**
 * Branches (docs/branches.md): a fork starts a new workflow from the state at any checkpoint, its steps up to it
 * not sent again (the offline model's request log shows it), with edits checked before anything starts; compare
 * shows the shared steps once and the branches side by side; a fork stands on its own once its source is gone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunOutcome } from '../../src';
import type { Comparison } from '../../src/branches/compare';
import type { ForkTree } from '../../src/client/branches';
import { readOfflineLlmLog } from '../../src/llm/offline-server';
import { cleanEnv, cli, temporal, temporalJson, writeConfig } from '../cli-helpers';
import { testAddress, uniqueId, until } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;

describe('branches', () => {
  const config = writeConfig(dir(), `temporal:\n  task_queue: ${uniqueId('branches')}\n`);
  const log = join(dir(), `${uniqueId('branches-llm')}.jsonl`);
  const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_LOG: log });
  const run = (args: string[]) => cli([...args, '--config', config], env);
  const source = uniqueId('source');
  const fork = uniqueId('fork');
  const edited = 'Quicksort sorts in place; mergesort is stable and O(n log n) in the worst case.';

  beforeAll(async () => {
    const r = await run(['run', TASK, '--workflow-id', source, '--offline', '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
  }, 60_000);

  it('fork at step 4 with the researcher answer edited and a note: steps 1-4 not sent again, the source untouched', async () => {
    const before = await run(['checkpoints', 'list', '-w', source, '--json']);
    const r = await run([
      'fork',
      `${source}@4`,
      '--answer',
      `3=${edited}`,
      '--note',
      'weigh stability first',
      '--workflow-id',
      fork,
      '--offline',
      '--json',
    ]);
    if (r.code !== 0) throw new Error(r.stderr);
    expect(r.stderr).toContain(`⑂ Forking ${source}@4: 4 steps reused`);
    expect(r.stderr).toContain('edited: answer of step 3 (researcher), note for the orchestrator');
    const outcome = JSON.parse(r.stdout) as RunOutcome & { reusedSteps: number; executedSteps: number };
    expect(outcome).toMatchObject({ status: 'COMPLETED', reusedSteps: 4, executedSteps: 5 });
    // The request log: nothing for steps 1-4 of the fork; the note went with its next ledger (step 6).
    const sent = readOfflineLlmLog(log).filter((e) => e.workflowId === fork);
    expect(sent.map((e) => e.step)).toEqual([5, 6, 7, 8, 9]);
    expect(sent.filter((e) => e.note).map((e) => [e.step, e.note])).toEqual([[6, 'weigh stability first']]);
    // The fork says where it came from: list, history, memo.
    const listed = await run(['checkpoints', 'list', '-w', fork]);
    expect(listed.stdout).toContain(`← forked from ${source}@4 (edited: answer of step 3 (researcher)`);
    const history = await run(['history', fork, '--json']);
    const trail = JSON.parse(history.stdout) as { runs: { restoredFrom?: { fork?: { step: number } } }[] };
    expect(trail.runs[0]!.restoredFrom?.fork?.step).toBe(4);
    const described = JSON.parse(await temporalJson('describe', testAddress(), fork)) as {
      workflowExecutionInfo: { memo?: { fields?: Record<string, unknown> } };
    };
    expect(Object.keys(described.workflowExecutionInfo.memo?.fields ?? {})).toContain('forkOf');
    // The source: the same checkpoints, one run.
    expect((await run(['checkpoints', 'list', '-w', source, '--json'])).stdout).toBe(before.stdout);
  });

  it('compare shows the shared steps once, then both from step 3, and the totals', async () => {
    const r = await run(['compare', source, fork, '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
    const c = JSON.parse(r.stdout) as Comparison;
    expect(c.shared.map((s) => s.step)).toEqual([1, 2]);
    expect(c.divergesAt).toBe(3);
    const step3 = c.rows.find((row) => row.step === 3)!;
    expect(step3.steps[1]).toMatchObject({ agent: 'researcher', answer: edited, reused: true });
    expect(step3.diffs[1]?.same).toBe(false);
    expect(c.totals.map((t) => [t.steps, t.sent])).toEqual([
      [9, 9],
      [9, 5],
    ]);
    const text = await cli(['compare', source, fork, '--width', '80', '--config', config], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Shared: steps 1–2');
    expect(text.stdout).toContain('From step 3 they differ:');
    for (const line of text.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    // One self-contained page: the edit shown as inserted words, nothing fetched from elsewhere.
    const page = join(dir(), `${uniqueId('compare')}.html`);
    const html = await run(['compare', source, fork, '--format', 'html', '-o', page]);
    expect(html.code).toBe(0);
    const written = readFileSync(page, 'utf8');
    expect(written).toMatch(/^<!doctype html>/);
    expect(written).toContain('From step 3 they differ');
    expect(written).toContain('<ins>');
    expect(written).not.toMatch(/(src|href)="http/);
    expect((await run(['compare', source, fork, '--format', 'html', '--json'])).code).toBe(2);
  });

  it('a bad edit starts nothing (exit 2), naming what is wrong', async () => {
    const cases: [string[], string][] = [
      [['--answer', '2={"not":"a ledger"}'], 'step 2 is a progress ledger, and the new one is not valid'],
      [['--answer', '9=too late'], 'the fork keeps steps 1 to 4'],
      [['--model', 'nobody=gpt-4o'], 'the run has no agent "nobody"'],
      [['--answer', 'three=x'], 'expected <step>=<text>'],
      [['--note', '  '], '--note is empty'],
      [['--team-config', join(dir(), 'no-such.yaml')], 'no-such.yaml'],
    ];
    for (const [flags, message] of cases) {
      const id = uniqueId('bad-fork');
      const r = await run(['fork', `${source}@4`, ...flags, '--workflow-id', id, '--offline']);
      expect(r.stderr).toContain(message);
      expect(r.code).toBe(2);
      expect((await temporal(['workflow', 'describe', '--address', testAddress(), '-w', id], env)).code).not.toBe(0);
    }
  });

  it('a fork of a fork shows in the tree; once the source is deleted the fork still lists, compares and resumes', async () => {
    const second = uniqueId('fork2');
    const r = await run(['fork', `${fork}@6`, '--model', 'analyst=gpt-4o', '--workflow-id', second, '--offline']);
    if (r.code !== 0) throw new Error(r.stderr);
    // From the fork on, the analyst asks another model; steps 1-6 are not sent again.
    const sent = readOfflineLlmLog(log).filter((e) => e.workflowId === second);
    expect(sent.map((e) => [e.step, e.agent, e.model])).toEqual([
      [7, 'analyst', 'gpt-4o'],
      [8, 'orchestrator', 'gpt-4o-mini'],
      [9, 'orchestrator', 'gpt-4o-mini'],
    ]);
    const tree = JSON.parse((await run(['branches', source, '--json'])).stdout) as ForkTree;
    expect(tree.forks.map((f) => [f.workflowId, f.origin.step, f.forks.map((g) => g.workflowId)])).toEqual([
      [fork, 4, [second]],
    ]);
    const dry = await run(['checkpoints', 'prune', '-w', source, '--older-than', '0', '--dry-run']);
    expect(dry.stdout).toContain(`the source of fork ${fork} (they stand on their own)`);
    expect((await run(['checkpoints', 'prune', '-w', source, '--older-than', '0'])).code).toBe(0);
    await until(
      `${source} to be deleted`,
      async () => (await temporal(['workflow', 'describe', '--address', testAddress(), '-w', source], env)).code !== 0,
      60_000,
      500,
    );
    expect((await run(['checkpoints', 'list', '-w', fork])).code).toBe(0);
    // The tree of a gone source still shows its forks; an id that never was is refused.
    const after = JSON.parse((await run(['branches', source, '--json'])).stdout) as ForkTree;
    expect(after.forks.map((f) => f.workflowId)).toEqual([fork]);
    const unknown = await run(['branches', uniqueId('never-was')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no workflow');
    const c = JSON.parse((await run(['compare', source, fork, '--json'])).stdout) as Comparison;
    expect(c.gone).toEqual([source]);
    expect(c.divergesAt).toBe(3);
    const resumed = await run(['resume', `${fork}@7`, '--offline', '--json']);
    if (resumed.code !== 0) throw new Error(resumed.stderr);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'COMPLETED', reusedSteps: 7 });
  });
});

describe('tool calls in a branch', () => {
  const serverScript = join(__dirname, '../fixtures/mcp-server.ts');
  const calls = join(dir(), uniqueId('mcp-calls'));
  const state = join(dir(), uniqueId('mcp-state'));
  const config = writeConfig(
    dir(),
    `temporal:\n  task_queue: ${uniqueId('branch-tools')}\nllm:\n  initial_retry_ms: 50\n  max_retry_ms: 100\n` +
      `agents:\n  orchestrator: {}\n  researcher:\n    tools: [mcp:kb]\n  coder: {}\n  analyst: {}\n` +
      `mcp_servers:\n  kb:\n    command: ${JSON.stringify(process.execPath)}\n` +
      `    args: ["--require", "tsx/cjs", ${JSON.stringify(serverScript)}]\n` +
      `    env: { MCP_STATE: ${JSON.stringify(state)}, MCP_CALLS: ${JSON.stringify(calls)} }\n`,
  );
  const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress() });
  const run = (args: string[]) => cli([...args, '--config', config], env);
  /** The MCP server's own log: one line per kb__record call it carried out. */
  const recorded = (): string[] => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []);
  const toolSteps = async (workflowId: string) => {
    const r = await run(['history', workflowId, '--json']);
    const trail = JSON.parse(r.stdout) as {
      runs: { steps: { step: number; tool?: { call: { name: string }; replayedFrom?: string; notRun?: true } }[] }[];
    };
    return trail.runs[0]!.steps.flatMap((s) =>
      s.tool ? [[s.tool.call.name, s.tool.replayedFrom ?? (s.tool.notRun ? 'not run' : 'ran')]] : [],
    );
  };
  const source = uniqueId('tools-source');

  beforeAll(async () => {
    const r = await run(['run', TASK, '--workflow-id', source, '--offline', '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
  }, 90_000);

  it('replay (the default): every call the source made gets its result; the MCP server is not called again', async () => {
    expect(recorded()).toHaveLength(1);
    const fork = uniqueId('replay');
    const r = await run(['fork', `${source}@2`, '--workflow-id', fork, '--offline']);
    if (r.code !== 0) throw new Error(r.stderr);
    expect(r.stderr).toMatch(/kb__record ↺ replayed from /);
    const steps = await toolSteps(fork);
    expect(steps.map(([name]) => name).sort()).toEqual(['kb__crash_once', 'kb__fail', 'kb__lookup', 'kb__record']);
    for (const [, how] of steps) expect(how).toMatch(new RegExp(`^${source}@\\d+$`));
    expect(recorded()).toHaveLength(1);
  });

  it('replay with another task: read-only calls run, the idempotent one that matches nothing is not run', async () => {
    const fork = uniqueId('replay-task');
    const r = await run([
      'fork',
      `${source}@2`,
      '--task',
      'Compare heapsort and timsort',
      '--workflow-id',
      fork,
      '--offline',
    ]);
    if (r.code !== 0) throw new Error(r.stderr);
    const steps = Object.fromEntries(await toolSteps(fork));
    expect(steps).toEqual({ kb__lookup: 'ran', kb__fail: 'ran', kb__crash_once: 'ran', kb__record: 'not run' });
    expect(recorded()).toHaveLength(1);
    const c = JSON.parse((await run(['compare', source, fork, '--json'])).stdout) as Comparison;
    const notRun = c.rows.flatMap((row) => (row.steps[1]?.tool?.notRun ? [row.steps[1].tool.name] : []));
    expect(notRun).toEqual(['kb__record']);
  });

  it('live: every call runs, the MCP server records the new one', async () => {
    const fork = uniqueId('live');
    const r = await run([
      'fork',
      `${source}@2`,
      '--task',
      'Compare heapsort and timsort',
      '--tools',
      'live',
      '--workflow-id',
      fork,
      '--offline',
    ]);
    if (r.code !== 0) throw new Error(r.stderr);
    expect(Object.fromEntries(await toolSteps(fork))).toMatchObject({ kb__record: 'ran' });
    expect(recorded()).toHaveLength(2);
    expect(recorded()[1]).toContain('Compare heapsort');
  });
});

describe('a fork from a run in any state', () => {
  const queue = uniqueId('branch-states');
  const plain = writeConfig(dir(), `temporal:\n  task_queue: ${queue}\n`);
  const gated = writeConfig(dir(), `temporal:\n  task_queue: ${queue}\ngates:\n  plan_review: true\n`);
  const log = join(dir(), `${uniqueId('states-llm')}.jsonl`);
  const env = (extra: Record<string, string> = {}) =>
    cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_LOG: log, ...extra });
  const sentBy = (workflowId: string): (number | null)[] =>
    readOfflineLlmLog(log)
      .filter((e) => e.workflowId === workflowId && e.status === 200)
      .map((e) => e.step);
  const forkJson = async (args: string[], config = plain) => {
    const r = await cli(['fork', ...args, '--offline', '--json', '--config', config], env());
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as RunOutcome & { reusedSteps: number };
  };

  it('failed: the fork goes on from the checkpoint before the failure', async () => {
    const failed = uniqueId('failed');
    const r = await cli(
      ['run', TASK, '--workflow-id', failed, '--offline', '--json', '--config', plain],
      env({ OFFLINE_LLM_FAULTS: 'coder:1:fatal' }),
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'FAILED' });
    const fork = await forkJson([`${failed}@4`]);
    expect(fork).toMatchObject({ status: 'COMPLETED', reusedSteps: 4 });
    expect(sentBy(fork.workflowId)).toEqual([5, 6, 7, 8, 9]);
  });

  it('running (waiting on a person) and then cancelled: the source is untouched, the fork takes a team without gates', async () => {
    const waiting = uniqueId('waiting');
    const started = await cli(
      ['run', TASK, '--workflow-id', waiting, '--offline', '--detach', '--config', gated],
      env(),
    );
    expect(started.code).toBe(0);
    const fromRunning = await forkJson([`${waiting}@1`, '--team-config', plain], gated);
    expect(fromRunning).toMatchObject({ status: 'COMPLETED', reusedSteps: 1 });
    expect(sentBy(fromRunning.workflowId)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const still = await cli(['pending', '--json', '--config', gated], env());
    expect((JSON.parse(still.stdout) as { workflowId: string }[]).map((p) => p.workflowId)).toContain(waiting);
    expect((await cli(['cancel', waiting, '--config', gated], env())).code).toBe(0);
    const fromCancelled = await forkJson([`${waiting}@1`, '--team-config', plain], gated);
    expect(fromCancelled).toMatchObject({ status: 'COMPLETED', reusedSteps: 1 });
  });

  it('restored from an export: its fork reuses the restored steps too', async () => {
    const source = uniqueId('exported');
    const ran = await cli(['run', TASK, '--workflow-id', source, '--offline', '--json', '--config', plain], env());
    expect(ran.code).toBe(0);
    const file = join(dir(), `${uniqueId('export')}.json`);
    expect((await cli(['checkpoints', 'export', source, '-o', file, '--config', plain], env())).code).toBe(0);
    const restoredId = uniqueId('restored');
    const restored = await cli(
      [
        'checkpoints',
        'import',
        file,
        '--restore',
        `${source}@3`,
        '--workflow-id',
        restoredId,
        '--offline',
        '--config',
        plain,
      ],
      env(),
    );
    expect(restored.code).toBe(0);
    const fork = await forkJson([`${restoredId}@6`]);
    expect(fork).toMatchObject({ status: 'COMPLETED', reusedSteps: 6 });
    expect(sentBy(fork.workflowId)).toEqual([7, 8, 9]);
  });
});

describe('forks at any size', () => {
  const config = writeConfig(
    dir(),
    `temporal:\n  task_queue: ${uniqueId('branch-size')}\nworkflow:\n  max_rounds: 160\n`,
  );
  const log = join(dir(), `${uniqueId('size-llm')}.jsonl`);
  const env = (extra: Record<string, string>) =>
    cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_LOG: log, ...extra });
  const sentBy = (workflowId: string): (number | null)[] =>
    readOfflineLlmLog(log)
      .filter((e) => e.workflowId === workflowId && e.status === 200)
      .map((e) => e.step);
  /** The events of a workflow's latest run, as `temporal workflow show` gives them. */
  const eventsOf = async (workflowId: string) =>
    (
      JSON.parse(await temporalJson('show', testAddress(), workflowId)) as {
        events: {
          eventType: string;
          activityTaskScheduledEventAttributes?: { activityType: { name: string } };
          workflowExecutionStartedEventAttributes?: { input: { payloads: { data: string }[] } };
        }[];
      }
    ).events;

  it('a state over the 2 MB payload limit forks: its steps are read in pieces into the fork, which then stands alone', async () => {
    // Twelve members' answers of 190,000 characters: the state before the final answer is over 2 MB.
    const big = { OFFLINE_LLM_TURNS: '12', OFFLINE_LLM_ANSWER_CHARS: '190000' };
    const source = uniqueId('big-source');
    const ran = await cli(['run', TASK, '--workflow-id', source, '--offline', '--json', '--config', config], env(big));
    if (ran.code !== 0) throw new Error(ran.stderr);
    const steps = (JSON.parse(ran.stdout) as RunOutcome).steps.length;
    const at = steps - 1;
    const state = await cli(['checkpoints', 'show', `${source}@${at}`, '--json', '--config', config], env({}));
    expect(Buffer.byteLength(state.stdout)).toBeGreaterThan(2 * 1024 * 1024);

    const fork = uniqueId('big-fork');
    const edited = 'A short researcher answer, edited in the fork.';
    const r = await cli(
      [
        'fork',
        `${source}@${at}`,
        '--answer',
        `3=${edited}`,
        '--workflow-id',
        fork,
        '--offline',
        '--json',
        '--config',
        config,
      ],
      env({}),
    );
    if (r.code !== 0) throw new Error(r.stderr);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'COMPLETED', reusedSteps: at });
    expect(sentBy(fork)).toEqual([at + 1]);
    // Its input names the source instead of carrying the steps (the edited one goes with it); the first
    // activities read them, under 1 MB each, into the fork's own history.
    const events = await eventsOf(fork);
    const input = JSON.parse(
      Buffer.from(events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0]!.data, 'base64').toString(),
    ) as { restore: { steps: unknown[]; pieces: { count: number; replace: { index: number }[] } } };
    expect(input.restore.steps).toEqual([]);
    expect(input.restore.pieces).toMatchObject({ workflowId: source, count: at, replace: [{ index: 2 }] });
    const pieces = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType.name === 'loadSeedPiece');
    expect(pieces.length).toBeGreaterThanOrEqual(3);

    // A fork of that fork reads its pieces from the fork's history (the edited answer comes along).
    const second = uniqueId('big-fork2');
    const again = await cli(
      ['fork', `${fork}@${at}`, '--workflow-id', second, '--offline', '--json', '--config', config],
      env({}),
    );
    if (again.code !== 0) throw new Error(again.stderr);
    expect(sentBy(second)).toEqual([at + 1]);

    // The source gone, the fork still lists, compares (with its edit), replays and resumes.
    expect(
      (await temporal(['workflow', 'delete', '--yes', '--address', testAddress(), '-w', source], env({}))).code,
    ).toBe(0);
    await until(
      `${source} to be deleted`,
      async () =>
        (await temporal(['workflow', 'describe', '--address', testAddress(), '-w', source], env({}))).code !== 0,
      60_000,
      500,
    );
    const listed = await cli(['checkpoints', 'list', '-w', fork, '--json', '--config', config], env({}));
    expect((JSON.parse(listed.stdout) as { step: number }[]).map((c) => c.step)).toContain(at);
    const c = JSON.parse(
      (await cli(['compare', source, fork, second, '--json', '--config', config], env({}))).stdout,
    ) as Comparison;
    expect(c.gone).toEqual([source]);
    expect(c.rows.find((row) => row.step === 3)?.steps[1]).toMatchObject({ answer: edited, reused: true });
    expect((await cli(['replay', fork, '--config', config], env({}))).code).toBe(0);
    const resumed = await cli(['resume', `${fork}@${at}`, '--offline', '--json', '--config', config], env({}));
    if (resumed.code !== 0) throw new Error(resumed.stderr);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'COMPLETED', reusedSteps: at });
  }, 240_000);

  it('a run of 150 rounds with 4 KB answers forks near its end: only the new steps are sent', async () => {
    const source = uniqueId('long-source');
    const long = { OFFLINE_LLM_TURNS: '150', OFFLINE_LLM_ANSWER_CHARS: '4096' };
    const ran = await cli(['run', TASK, '--workflow-id', source, '--offline', '--json', '--config', config], env(long));
    if (ran.code !== 0) throw new Error(ran.stderr);
    const outcome = JSON.parse(ran.stdout) as RunOutcome;
    expect(outcome).toMatchObject({ status: 'COMPLETED', result: { rounds: 151 } });
    expect(outcome.steps).toHaveLength(303);
    const fork = uniqueId('long-fork');
    const r = await cli(
      ['fork', `${source}@300`, '--workflow-id', fork, '--offline', '--json', '--config', config],
      env(long),
    );
    if (r.code !== 0) throw new Error(r.stderr);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'COMPLETED', reusedSteps: 300 });
    expect(sentBy(fork)).toEqual([301, 302, 303]);
    // Small enough to go in its input: no pieces to read.
    const pieces = (await eventsOf(fork)).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType.name === 'loadSeedPiece',
    );
    expect(pieces).toHaveLength(0);
  }, 180_000);
});
