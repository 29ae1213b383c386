/** The built-in tools on a real filesystem and real subprocesses, and the tool loop of the state machine. */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_TOOLS, ToolError, specOf, type ToolContext } from '../../activities';
import { DEFAULT_SETTINGS, type StepResult, type TeamInput, type ToolSettings } from '../../workflows/types';
import { requestFor } from '../../workflows/requests';
import { initialState, nextAction, reduce, toolActions } from '../../workflows/state';
import { defaultTeam } from '../../src/config';

const root = mkdtempSync(join(tmpdir(), 'tools-test-'));
const ws = join(root, 'ws');
mkdirSync(join(ws, 'sub'), { recursive: true });
writeFileSync(join(root, 'secret.txt'), 'the secret');
writeFileSync(join(ws, 'notes.md'), 'notes');
symlinkSync(join(root, 'secret.txt'), join(ws, 'out-link.txt'));
symlinkSync(root, join(ws, 'out-dir'));
symlinkSync(join(ws, 'notes.md'), join(ws, 'in-link.md'));
symlinkSync(join(root, 'missing'), join(ws, 'dangling'));

const settings: ToolSettings = { ...DEFAULT_SETTINGS.tools, workspace: ws, timeoutMs: 3_000 };
const ctx = (over: Partial<ToolSettings> = {}): ToolContext => ({
  idempotencyKey: 'wf/run/5/call_4_1',
  settings: { ...settings, ...over },
  signal: new AbortController().signal,
});
const tool = (name: string) =>
  BUILTIN_TOOLS.find((t) => t.name === name)! as unknown as {
    handler: (args: unknown, c: ToolContext) => Promise<unknown>;
  };
const refusal = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ToolError);
    expect((err as ToolError).retryable).toBe(false);
    return (err as Error).message;
  }
  throw new Error('not refused');
};

describe('the workspace confines the file tools', () => {
  it.each([
    ['../secret.txt', '"../secret.txt" is outside the workspace'],
    ['sub/../../secret.txt', '"sub/../../secret.txt" is outside the workspace'],
    [
      join(root, 'secret.txt'),
      `"${join(root, 'secret.txt')}" is an absolute path: give a path relative to the workspace`,
    ],
    ['out-link.txt', '"out-link.txt" leads out of the workspace (through a symlink)'],
    ['out-dir/secret.txt', '"out-dir/secret.txt" leads out of the workspace (through a symlink)'],
    ['dangling', '"dangling" is a symlink to something that does not exist'],
  ])('read_file %s is refused', async (path, message) => {
    expect(await refusal(tool('read_file').handler({ path }, ctx()))).toBe(message);
  });

  it('reads inside it (a symlink that stays inside too); lists it; refuses without a workspace', async () => {
    expect(await tool('read_file').handler({ path: 'in-link.md' }, ctx())).toBe('notes');
    expect(await tool('list_files').handler({}, ctx())).toBe(
      [
        'dangling  (symlink)',
        'in-link.md  (symlink)',
        'notes.md  5 bytes',
        'out-dir  (symlink)',
        'out-link.txt  (symlink)',
        'sub/',
      ].join('\n'),
    );
    expect(await refusal(tool('list_files').handler({ path: 'out-dir' }, ctx()))).toBe(
      '"out-dir" leads out of the workspace (through a symlink)',
    );
    expect(await refusal(tool('read_file').handler({ path: 'notes.md' }, ctx({ workspace: null })))).toBe(
      'no workspace is configured for this run (tools.workspace)',
    );
  });

  it('write_file writes inside (making folders), and never through a symlink out of it', async () => {
    expect(await tool('write_file').handler({ path: 'sub/new/a.txt', content: 'hi' }, ctx())).toBe(
      'wrote 2 bytes to sub/new/a.txt',
    );
    expect(readFileSync(join(ws, 'sub/new/a.txt'), 'utf8')).toBe('hi');
    expect(await refusal(tool('write_file').handler({ path: 'out-dir/x.txt', content: 'x' }, ctx()))).toBe(
      '"out-dir/x.txt" leads out of the workspace (through a symlink)',
    );
    expect(await refusal(tool('write_file').handler({ path: 'out-link.txt', content: 'x' }, ctx()))).toBe(
      '"out-link.txt" leads out of the workspace (through a symlink)',
    );
    expect(readFileSync(join(root, 'secret.txt'), 'utf8')).toBe('the secret');
  });
});

describe('run_code', () => {
  it('runs JavaScript and Python in a scratch directory with the idempotency key and without inherited secrets', async () => {
    process.env.OPENAI_API_KEY = 'sk-must-not-leak';
    const js = (await tool('run_code').handler(
      {
        language: 'javascript',
        code: 'console.log(process.env.OPENAI_API_KEY ?? "no key", process.env.AGENT_TEAM_IDEMPOTENCY_KEY, process.cwd().includes("agent-team-run-"))',
      },
      ctx(),
    )) as string;
    delete process.env.OPENAI_API_KEY;
    expect(js).toMatch(/^exit code 0 after \d+ ms\n--- stdout ---\nno key wf\/run\/5\/call_4_1 true\n$/);
    const py = (await tool('run_code').handler(
      { language: 'python', code: 'import sys\nprint(sum(range(10)))\nsys.exit(3)' },
      ctx(),
    )) as string;
    expect(py).toMatch(/^exit code 3 after \d+ ms\n--- stdout ---\n45\n$/);
  });

  it('kills a snippet at its time limit, and one past its memory limit fails', async () => {
    const slow = (await tool('run_code').handler(
      { language: 'javascript', code: 'setInterval(() => {}, 1000)' },
      ctx({ timeoutMs: 1_500 }),
    )) as string;
    expect(slow).toMatch(/^killed \(time limit of 1500 ms\) after \d+ ms/);
    const hungry = (await tool('run_code').handler(
      { language: 'python', code: 'x = bytearray(512 * 1024 * 1024)\nprint("allocated")' },
      ctx({ runCodeMemoryMb: 64 }),
    )) as string;
    expect(hungry).toMatch(/^exit code 1 after \d+ ms\n--- stdout ---\n--- stderr ---\n[\s\S]*MemoryError/);
  });
});

describe('the tool loop in the state machine', () => {
  const input = (maxToolCallsPerStep: number): TeamInput => ({
    task: 'Compare quicksort and mergesort',
    tools: { maxToolCallsPerStep },
    team: {
      agents: defaultTeam().map((a) => (a.name === 'coder' ? { ...a, tools: ['run_code', 'list_files'] } : a)),
      temperature: 0,
      tools: BUILTIN_TOOLS.filter((t) => ['run_code', 'list_files'].includes(t.name)).map((t) => specOf(t, 'builtin')),
    },
  });
  const step = (over: Partial<StepResult>): StepResult => ({
    kind: 'agent',
    agent: 'coder',
    round: 1,
    stepIndex: 0,
    content: '',
    model: 'm',
    usage: { promptTokens: 1, completionTokens: 1 },
    latencyMs: 1,
    attempt: 1,
    ...over,
  });
  const toCoder = (maxCalls: number) => {
    let s = initialState(input(maxCalls));
    s = {
      ...s,
      phase: 'delegating',
      round: 1,
      steps: 2,
      lastLedger: {
        next_speaker: { answer: 'coder', reason: '' },
        instruction_or_question: { answer: 'code it', reason: '' },
      } as never,
    };
    return s;
  };

  it('offers the agent its tools, runs its calls (in parallel, numbered after it), past the limit answers for it', () => {
    let s = toCoder(1);
    const req = requestFor(s, nextAction(s)!);
    expect(req.tools!.map((t) => t.name)).toEqual(['run_code', 'list_files']);
    s = reduce(
      s,
      step({
        stepIndex: 2,
        instruction: 'code it',
        toolCalls: [
          { id: 'a', name: 'run_code', arguments: '{}' },
          { id: 'b', name: 'list_files', arguments: '{}' },
          { id: 'c', name: 'rm_rf', arguments: '{}' },
        ],
      }),
    );
    expect(s.phase).toBe('acting');
    // One call within the limit runs, as step 4; the others are answered without running.
    expect(toolActions(s).map((a) => [a.call!.id, a.stepIndex])).toEqual([['a', 3]]);
    expect(s.turn!.exchanges[0]!.results).toEqual({
      b: {
        content: 'not run: this turn reached max_tool_calls_per_step (1); answer with what you have',
        ok: false,
        step: null,
      },
      c: { content: 'not run: no tool named "rm_rf" is offered to coder', ok: false, step: null },
    });
    s = reduce(
      s,
      step({
        kind: 'tool',
        stepIndex: 3,
        content: 'out',
        tool: {
          call: { id: 'a', name: 'run_code', arguments: '{}' },
          sideEffects: 'idempotent',
          source: 'builtin',
          idempotencyKey: 'k',
          ok: true,
          durationMs: 1,
        },
      }),
    );
    // The agent's next call carries the exchange, and no more tools (its turn used its calls).
    const follow = requestFor(s, nextAction(s)!);
    expect(follow).toMatchObject({ kind: 'agent', agent: 'coder', stepIndex: 4, instruction: 'code it' });
    expect(follow.tools).toBeUndefined();
    expect(follow.toolTurn![0]!.results.a).toEqual({ content: 'out', ok: true, step: 4 });
    s = reduce(s, step({ stepIndex: 4, content: 'done' }));
    expect([s.phase, s.turn, s.usage.llmCalls, s.steps]).toEqual(['evaluating', null, 2, 5]);
  });
});
