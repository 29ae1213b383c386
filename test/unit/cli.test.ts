/**
 * The CLI without a server: how it writes commands to paste, how it renders a run's events and errors (on the
 * right stream), how it parses its arguments, and the event stream the library hands out.
 */
import { EventStream, type RunEvent, type RunOutcome } from '../../src/client';
import type { RecordedStep } from '../../src/history/reader';
import { action } from '../../src/cli/common';
import { Hints, cliCommand } from '../../src/cli/hints';
import { buildProgram } from '../../src/cli/main';
import { FollowSession } from '../../src/cli/session';
import { NotFoundError, RunStillRunningError } from '../../src/shared/errors';
import type { StepResult } from '../../workflows/types';

/** What `body` writes on stdout and stderr (the process's own streams, as the CLI writes them). */
async function captured(body: () => unknown): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const [writeOut, writeErr] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
  process.stdout.write = ((chunk: string) => ((out.stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((out.stderr += chunk), true)) as typeof process.stderr.write;
  try {
    await body();
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
  return out;
}

describe('commands to paste (src/cli/hints.ts)', () => {
  it('are the CLI as the user runs it', () => {
    expect(cliCommand({ npm_lifecycle_event: 'start', npm_package_name: 'durable-agent-team' })).toBe('npm start --');
    expect(cliCommand({ npm_command: 'exec' })).toBe('npx agent-team');
    expect(cliCommand({})).toBe('agent-team');
  });

  it('quote each word for a shell where it needs it, and carry the -c that chose the server', () => {
    const hints = new Hints({ config: 'other dir/workflow.yaml', env: {} });
    expect(hints.command('approve', "it's équipe 🚀")).toBe(
      "agent-team approve 'it'\\''s équipe 🚀' -c 'other dir/workflow.yaml'",
    );
    expect(hints.command('resume', { placeholder: '<workflowId>@<step>' })).toBe(
      "agent-team resume <workflowId>@<step> -c 'other dir/workflow.yaml'",
    );
    expect(new Hints({ env: { npm_command: 'exec' } }).command('follow', 'team-1')).toBe(
      'npx agent-team follow team-1',
    );
  });

  it('turn next steps into lines', () => {
    const err = new RunStillRunningError('running', {
      next: [
        { purpose: 'see it through', args: ['follow', 'wf 1'] },
        { purpose: 'or cancel it first', args: ['cancel', 'wf 1'] },
      ],
    });
    expect(new Hints({ env: {} }).lines(err.next)).toEqual([
      "  → see it through: agent-team follow 'wf 1'",
      "  → or cancel it first: agent-team cancel 'wf 1'",
    ]);
  });
});

describe('errors (action in src/cli/common.ts)', () => {
  afterEach(() => {
    process.exitCode = 0;
  });

  it('print the message and its next steps on stderr, exit 2 for bad input, nothing on stdout', async () => {
    const failing = action(async () => {
      throw new NotFoundError('wf-x', 'default');
    });
    const { stdout, stderr } = await captured(() => failing({ config: 'c.yaml' }));
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'agent-team: no workflow "wf-x" in namespace "default" (TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE choose the server)\n' +
        '  → list the runs here: agent-team checkpoints list -c c.yaml\n',
    );
    expect(process.exitCode).toBe(2);
  });

  it('give the body the hints of the invocation, after its options', async () => {
    let seen = '';
    const body = action(async (id: string, _options: { config?: string }, hints: Hints) => {
      seen = hints.command('follow', id);
    });
    await body('wf', { config: 'x.yaml' });
    expect(seen).toBe('agent-team follow wf -c x.yaml');
  });
});

describe('a followed run on the terminal (FollowSession)', () => {
  const where = { address: '127.0.0.1:7233', namespace: 'default', webUiUrl: () => null };
  const result = (n: number, agent: string, kind: StepResult['kind']): StepResult => ({
    kind,
    agent,
    round: 1,
    stepIndex: n - 1,
    content: `${agent} answer`,
    model: 'offline',
    usage: { promptTokens: 10, completionTokens: 5 },
    latencyMs: 7,
    attempt: 1,
  });
  const step = (n: number, agent: string, kind: StepResult['kind']): RecordedStep => ({
    result: result(n, agent, kind),
    scheduledEventId: n * 6,
    completedEventId: n * 6 + 1,
    checkpointEventId: n * 6 + 4,
    completedAt: null,
    costUsd: 0,
  });

  it('renders each event as its line on stderr', async () => {
    const session = new FollowSession(where, new Hints({ env: {} }), { live: false });
    const events: RunEvent[] = [
      { type: 'started', workflowId: 'wf', runId: 'r1', taskQueue: 'agent-team/wf' },
      { type: 'hosting', taskQueue: 'agent-team/wf', reason: 'own-queue' },
      { type: 'step', step: step(1, 'orchestrator', 'plan'), reused: true },
      { type: 'auto-resume', note: 'auto-resume 1/3 · step 2' },
      { type: 'unserved', taskQueue: 'agent-team' },
    ];
    const { stdout, stderr } = await captured(() => events.forEach((e) => session.render(e)));
    expect(stdout).toBe('');
    expect(stderr.split('\n')).toEqual([
      '▶ agentTeamWorkflow wf (run r1)',
      '  on 127.0.0.1:7233, namespace default, task queue agent-team/wf',
      '  A worker here serves task queue "agent-team/wf": the run has a task queue of its own',
      '  #1   orchestrator  plan    round 1   10→5 tokens  model 7 ms  (reused from the checkpoint)',
      '  ↻ auto-resume 1/3 · step 2',
      '  ⚠ No worker polls task queue "agent-team": nothing runs this run\'s steps until one does.',
      '    Serve it from another shell: agent-team worker --task-queue agent-team',
      '',
    ]);
  });

  it('reports the outcome: the answer on stdout, the report and the resume command on stderr', async () => {
    const session = new FollowSession(where, new Hints({ config: 'c.yaml', env: {} }));
    const checkpoint = {
      workflowId: 'wf',
      runId: 'r1',
      runStatus: 'FAILED',
      step: 1,
      shortId: 'wf@1',
      checkpointId: 'cp2_x',
      eventId: 10,
      agent: 'orchestrator',
      kind: 'plan',
      round: 0,
      createdAt: null,
      usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15, llmCalls: 1, costUsd: 0 },
    };
    const failed = {
      workflowId: 'wf',
      runId: 'r1',
      status: 'FAILED',
      result: null,
      error: { message: 'coder (round 2): HTTP 400', type: 'LlmRequestRejected' },
      steps: [{ step: 1 }],
      usage: { totalTokens: 15, llmCalls: 1, costUsd: 0 },
      checkpoints: [],
      autoResumes: [],
    } as unknown as RunOutcome;
    const withCheckpoint = { ...failed, checkpoints: [checkpoint] } as unknown as RunOutcome;
    let code = 0;
    const { stdout, stderr } = await captured(() => (code = session.report({ ...withCheckpoint })));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('✖ FAILED after 1 completed step (15 tokens in 1 LLM call):\n  coder (round 2): HTTP 400');
    expect(stderr).toContain('  Resume it from its last checkpoint:\n    agent-team resume wf@1 -c c.yaml\n');
    const done = { ...failed, status: 'COMPLETED', result: { answer: 'the answer' }, error: undefined };
    const completed = await captured(() => (code = session.report(done as unknown as RunOutcome)));
    expect([code, completed.stdout]).toEqual([0, 'the answer\n']);
  });
});

describe('parsing (buildProgram)', () => {
  const parse = async (...args: string[]): Promise<{ code: string | null; stderr: string }> => {
    const program = buildProgram({ helpWidth: 80 });
    const { stderr } = await captured(async () => {
      try {
        // Every command is checked before its action runs: a usage error never reaches the server.
        for (const c of program.commands) c.exitOverride().action(() => {});
        await program.parseAsync(['node', 'agent-team', ...args]);
      } catch (e) {
        parse.code = (e as { code?: string }).code ?? null;
      }
    });
    const code = parse.code;
    parse.code = null;
    return { code, stderr };
  };
  parse.code = null as string | null;

  it.each([
    [['run', '--workflow-id'], 'commander.optionMissingArgument'],
    [['checkpoints', 'list', '--status', 'sleeping'], 'commander.invalidArgument'],
    [['checkpoints', 'list', '--limit', '0'], 'commander.invalidArgument'],
    [['approve'], 'commander.missingArgument'],
    [['fly'], 'commander.unknownCommand'],
  ])('%j is refused before anything runs (%s)', async (args, code) => {
    expect((await parse(...args)).code).toBe(code);
  });
});

describe('events as an AsyncIterable (EventStream)', () => {
  it('yields what was pushed, in order, and ends when closed, or throws what it failed with', async () => {
    const stream = new EventStream<number>();
    stream.push(1);
    setTimeout(() => {
      stream.push(2);
      stream.close();
    }, 5);
    const seen: number[] = [];
    for await (const n of stream) seen.push(n);
    expect(seen).toEqual([1, 2]);

    const failing = new EventStream<number>();
    failing.push(1);
    failing.fail(new Error('detached'));
    const read: number[] = [];
    await expect(
      (async () => {
        for await (const n of failing) read.push(n);
      })(),
    ).rejects.toThrow('detached');
    expect(read).toEqual([1]);
  });
});
