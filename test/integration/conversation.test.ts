/**
 * Conversations with a run (docs/conversations.md): `tell` sends a running run a message its orchestrator reads at
 * the next plan or progress ledger; `--interrupt` stops the model step in flight (its request aborted: the offline
 * model logs 499 and answers nothing) and has the orchestrator replan with it. The request log shows which request
 * carried each message, and that no step was answered twice.
 */
import { join } from 'node:path';
import type { AuditTrail } from '../../src/history/audit';
import { readOfflineLlmLog, type OfflineLlmLogEntry } from '../../src/llm/offline-server';
import type { TurnSummary } from '../../src/conversation/turns';
import { cleanEnv, cli, pipeCli, writeConfig } from '../cli-helpers';
import { testAddress, uniqueId, until } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;

describe('tell', () => {
  const queue = uniqueId('tell');
  const config = writeConfig(dir(), `temporal:\n  task_queue: ${queue}\n`);
  const gated = writeConfig(dir(), `temporal:\n  task_queue: ${queue}\ngates:\n  plan_review: true\n`);
  const log = join(dir(), `${uniqueId('tell-llm')}.jsonl`);
  // Each model call takes 1.5 s: time to speak while a step is in flight.
  const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_LOG: log, OFFLINE_LLM_LATENCY_MS: '1500' });
  const run = (args: string[], file = config) => cli([...args, '--config', file], env);
  const sent = (workflowId: string): OfflineLlmLogEntry[] =>
    readOfflineLlmLog(log).filter((e) => e.workflowId === workflowId);
  /** Steps answered (HTTP 200): each once, whatever was interrupted. */
  const answered = (workflowId: string): (number | null)[] =>
    sent(workflowId)
      .filter((e) => e.status === 200)
      .map((e) => e.step);
  const started = (workflowId: string, steps: number) =>
    until(
      `${workflowId} to send step ${steps}`,
      async () => sent(workflowId).some((e) => e.step === steps),
      60_000,
      50,
    );

  it('the orchestrator reads a message at its next ledger; history records who sent it and when', async () => {
    const id = uniqueId('told');
    const running = run(['run', TASK, '--workflow-id', id, '--offline', '--json']);
    await started(id, 3); // the researcher's step is in flight
    const told = await run(['tell', id, 'Also consider timsort.', '--by', 'alice', '--json']);
    if (told.code !== 0) throw new Error(told.stderr);
    const receipt = JSON.parse(told.stdout) as { id: string; step: number; interrupted: number | null };
    expect(receipt).toMatchObject({ id: 'msg-1', interrupted: null });
    const done = await running;
    expect(JSON.parse(done.stdout)).toMatchObject({ status: 'COMPLETED' });
    expect(done.stderr).toContain('✉ msg-1 from alice (for the next plan or ledger): Also consider timsort.');
    // One request carried it: the first ledger after it was taken; nothing was sent twice.
    const carried = sent(id).filter((e) => e.told);
    expect(carried.map((e) => [e.kind, e.told])).toEqual([['ledger', ['Also consider timsort.']]]);
    expect(carried[0]!.step).toBeGreaterThan(receipt.step);
    expect(answered(id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const trail = JSON.parse((await run(['history', id, '--json'])).stdout) as AuditTrail;
    expect(trail.runs[0]!.messages).toMatchObject([
      { id: 'msg-1', by: 'alice', text: 'Also consider timsort.', afterStep: receipt.step },
    ]);
    expect(Date.parse(trail.runs[0]!.messages[0]!.at)).toBeGreaterThan(Date.now() - 120_000);
    // The checkpoints fold it as the run took it: in the audit list, out of the inbox once read.
    const last = JSON.parse((await run(['checkpoints', 'show', `${id}@9`, '--json'])).stdout) as {
      state: { told?: unknown[]; inbox?: unknown[] };
    };
    expect(last.state.told).toHaveLength(1);
    expect(last.state.inbox).toBeUndefined();
  }, 90_000);

  it('--interrupt stops the step in flight (its request aborted) and the orchestrator replans with the message', async () => {
    const id = uniqueId('interrupted');
    // The coder's first call never answers: the step is in flight until something stops it (its 60 s timeout).
    const hanging = cleanEnv({
      TEMPORAL_ADDRESS: testAddress(),
      OFFLINE_LLM_LOG: log,
      OFFLINE_LLM_FAULTS: 'coder:1:hang',
    });
    const running = cli(['run', TASK, '--workflow-id', id, '--offline', '--json', '--config', config], hanging);
    await until(`${id}'s coder step to hang`, async () => sent(id).some((e) => e.agent === 'coder'), 60_000, 50);
    const told = await run(['tell', id, 'Only stable sorts, please.', '--interrupt', '--json']);
    if (told.code !== 0) throw new Error(told.stderr);
    const receipt = JSON.parse(told.stdout) as { step: number; interrupted: number | null };
    const coder = sent(id).find((e) => e.agent === 'coder')!;
    expect(receipt).toMatchObject({ step: coder.step! - 1, interrupted: coder.step });
    const done = await running;
    expect(JSON.parse(done.stdout)).toMatchObject({ status: 'COMPLETED' });
    expect(done.stderr).toMatch(/#\d+ +orchestrator +replan/);
    // The stopped step was never answered; its number went to the replan, which carried the message; the coder
    // spoke again later, once. No step was answered twice.
    const at = sent(id).filter((e) => e.step === coder.step);
    expect(at.map((e) => [e.agent, e.kind, e.status, e.told ?? null])).toEqual([
      ['coder', 'agent', 0, null],
      ['orchestrator', 'plan', 200, ['Only stable sorts, please.']],
    ]);
    const steps = answered(id);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
    expect(sent(id).filter((e) => e.agent === 'coder' && e.status === 200)).toHaveLength(1);
  }, 90_000);

  it('a run waiting on a person takes a message and reads it after the answer', async () => {
    const id = uniqueId('waiting');
    expect((await run(['run', TASK, '--workflow-id', id, '--offline', '--detach'], gated)).code).toBe(0);
    const told = await run(['tell', id, 'Keep it short.'], gated);
    expect(told.code).toBe(0);
    expect(told.stdout).toContain(`✉ msg-1 taken by ${id} after step 1`);
    const approved = await run(['approve', id], gated);
    expect(approved.code).toBe(0);
    const followed = await run(['follow', id, '--offline', '--json'], gated);
    expect(JSON.parse(followed.stdout)).toMatchObject({ status: 'COMPLETED' });
    expect(
      sent(id)
        .filter((e) => e.told)
        .map((e) => [e.step, e.kind, e.told]),
    ).toEqual([[2, 'ledger', ['Keep it short.']]]);
  }, 90_000);

  it('a closed run, an unknown one, an empty message: refused with exit 2, saying why and what to do', async () => {
    const id = uniqueId('closed');
    expect((await run(['run', TASK, '--workflow-id', id, '--offline'])).code).toBe(0);
    const closed = await run(['tell', id, 'too late']);
    expect(closed.code).toBe(2);
    expect(closed.stderr).toContain(`message to "${id}" refused`);
    expect(closed.stderr).toContain('a closed run reads no messages');
    // The hint pasted back is a follow-up: the next turn.
    expect(closed.stderr).toContain(`agent-team ask ${id} 'too late'`);
    const unknown = await run(['tell', uniqueId('never-was'), 'hello']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no workflow');
    const empty = await run(['tell', id, '   ']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('must not be empty');
  }, 60_000);
});

describe('ask (follow-ups: the next turn of a conversation)', () => {
  const queue = uniqueId('ask');
  const config = writeConfig(dir(), `temporal:\n  task_queue: ${queue}\n`);
  const log = join(dir(), `${uniqueId('ask-llm')}.jsonl`);
  const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_LOG: log, OFFLINE_LLM_LATENCY_MS: '300' });
  const slow = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_LOG: log, OFFLINE_LLM_LATENCY_MS: '1500' });
  const run = (args: string[], file = config, e = env) => cli([...args, '--config', file], e);
  const sent = (workflowId: string): OfflineLlmLogEntry[] =>
    readOfflineLlmLog(log).filter((e) => e.workflowId === workflowId);
  const json = <T>(r: { code: number | null; stdout: string; stderr: string }): T => {
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };

  it('three turns with a message in the middle: earlier turns in view, steps numbered on, none sent twice', async () => {
    const id = uniqueId('conv');
    type Outcome = {
      status: string;
      runId: string;
      steps: { step: number }[];
      result: { turn?: number; steps: number };
    };
    const first = json<Outcome>(await run(['run', TASK, '--workflow-id', id, '--offline', '--json']));
    expect(first.steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(first.result.turn).toBeUndefined();

    // Turn 2, with a message while it works.
    // Its model takes 1.5 s a step: time for the message to arrive while it works, however busy the machine.
    const asking = run(
      ['ask', id, 'Now benchmark them in Rust.', '--by', 'alice', '--offline', '--json'],
      config,
      slow,
    );
    await until(`${id}'s turn 2 to send step 11`, async () => sent(id).some((e) => e.step === 11), 60_000, 50);
    const receipt = json<{ step: number }>(await run(['tell', id, 'Include radix sort.', '--by', 'bob', '--json']));
    const second = json<Outcome>(await asking);
    expect(second).toMatchObject({ status: 'COMPLETED', result: { turn: 2, steps: 18 } });
    expect(second.runId).not.toBe(first.runId);
    expect(second.steps.map((s) => s.step)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18]);

    const third = await run(['ask', id, 'Which one should a beginner use?', '--offline']);
    expect(third.code).toBe(0);
    expect(third.stderr).toContain(`↪ Turn 3 of ${id}, after turn 2 (step 18): 18 steps carried over`);
    expect(third.stderr).toMatch(
      /✔ COMPLETED: 9 steps, 4 rounds, [\d,]+ tokens in 9 LLM calls[^\n]*\n {2}Turn 3; the conversation: 27 steps/,
    );
    expect(third.stdout).toContain('Final answer on "Which one should a beginner use?"');

    // The request log: every step answered once, in order, across three runs; each turn's requests carried the
    // earlier turns' questions (the orchestrator planned with them in view); the message was read once, in turn 2.
    const answered = sent(id).filter((e) => e.status === 200);
    expect(answered.map((e) => e.step)).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
    expect(new Set(answered.map((e) => e.runId)).size).toBe(3);
    const earlier = (step: number) => answered.find((e) => e.step === step)!.earlier ?? [];
    expect(earlier(9)).toEqual([]);
    expect(earlier(10)).toEqual([TASK]);
    expect(earlier(19)).toEqual([TASK, 'Now benchmark them in Rust.']);
    expect(earlier(27)).toEqual([TASK, 'Now benchmark them in Rust.']);
    // The message was read once: by the first plan or ledger after it was taken (turn 3's plan, had turn 2 no
    // ledger left).
    const carried = answered.filter((e) => e.told);
    expect(carried.map((e) => e.told)).toEqual([['Include radix sort.']]);
    // (the step in flight when it came, receipt.step + 1, was asked before it).
    const at = carried[0]!.step!;
    expect(at).toBeGreaterThan(receipt.step);
    const skipped = answered.filter(
      (e) => (e.kind === 'ledger' || e.kind === 'plan') && e.step! > receipt.step + 1 && e.step! < at,
    );
    expect(skipped).toEqual([]);

    // The turns, each with its steps, who asked and what it cost; the three add up to the conversation.
    const { turns } = json<{ turns: TurnSummary[] }>(await run(['turns', id, '--json']));
    expect(turns.map((t) => [t.turn, t.task, t.by, t.fromStep, t.toStep])).toEqual([
      [1, TASK, null, 1, 9],
      [2, 'Now benchmark them in Rust.', 'alice', 10, 18],
      [3, 'Which one should a beginner use?', expect.any(String), 19, 27],
    ]);
    expect(turns.every((t) => t.answer?.startsWith('Final answer on'))).toBe(true);
    const tokens = (s: number, e: number) =>
      answered.filter((x) => x.step! >= s && x.step! <= e).reduce((n, x) => n + x.promptTokens + x.completionTokens, 0);
    expect(turns.map((t) => t.usage.promptTokens + t.usage.completionTokens)).toEqual([
      tokens(1, 9),
      tokens(10, 18),
      tokens(19, 27),
    ]);

    // Every step of every turn is a checkpoint: the short id finds the turn that took it.
    type Shown = { runId: string; step: number; state: { task: string; turns?: unknown[] } };
    const at5 = json<Shown>(await run(['checkpoints', 'show', `${id}@5`, '--json']));
    expect(at5).toMatchObject({ runId: first.runId, step: 5, state: { task: TASK } });
    const at14 = json<Shown>(await run(['checkpoints', 'show', `${id}@14`, '--json']));
    expect(at14).toMatchObject({ runId: second.runId, step: 14, state: { task: 'Now benchmark them in Rust.' } });
    expect(at14.state.turns).toHaveLength(1);
    // A fork from a checkpoint of turn 2 goes on with that turn, the first turn in view, and sends only what follows.
    const forkId = uniqueId('conv-fork');
    const fork = json<Outcome>(await run(['fork', `${id}@14`, '--workflow-id', forkId, '--offline', '--json']));
    expect(fork).toMatchObject({ status: 'COMPLETED', result: { turn: 2, steps: 18 } });
    expect(sent(forkId).map((e) => e.step)).toEqual([15, 16, 17, 18]);
    expect(sent(forkId).every((e) => JSON.stringify(e.earlier) === JSON.stringify([TASK]))).toBe(true);
  }, 240_000);

  it('refused with exit 2, nothing started: a running turn, a failed one, an empty follow-up, another workflow, an idle conversation', async () => {
    const id = uniqueId('conv-no');
    const running = run(['run', TASK, '--workflow-id', id, '--offline', '--json'], config, slow);
    await until(`${id} to send step 2`, async () => sent(id).some((e) => e.step === 2), 60_000, 50);
    const busy = await run(['ask', id, 'more please', '--offline']);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toContain(`follow-up to "${id}" refused: its run`);
    expect(busy.stderr).toContain('is still in a turn');
    expect(busy.stderr).toContain(`agent-team tell ${id} 'more please'`);
    expect(json<{ status: string }>(await running).status).toBe('COMPLETED');
    const empty = await run(['ask', id, '  ', '--offline']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('the follow-up must not be empty');
    const other = uniqueId('conv-other');
    expect((await run(['run', TASK, '--workflow-id', other, '--offline'])).code).toBe(0);
    const wrong = await run(['ask', id, 'more', '--from', `${other}@4`, '--offline']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`is a checkpoint of "${other}", not of "${id}"`);
    // A turn that failed (a fatal model error) has no answer to follow up: resume it, or follow up from a checkpoint.
    const failing = cleanEnv({
      TEMPORAL_ADDRESS: testAddress(),
      OFFLINE_LLM_LOG: log,
      OFFLINE_LLM_FAULTS: 'analyst:1:fatal',
    });
    const failed = await run(['ask', id, 'now in Rust', '--offline', '--json'], config, failing);
    expect(failed.code).toBe(1);
    const again = await run(['ask', id, 'now in Go', '--offline']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('is FAILED: the turn it was in has no answer to follow up');
    // Each hint pasted back works: the failed turn's last checkpoint.
    const resumeHint = new RegExp(`agent-team resume (${id}@\\d+)`).exec(again.stderr)![1]!;
    expect(again.stderr).toContain(`agent-team ask ${id} 'now in Go' --from ${resumeHint}`);
    // A message to the failed run says the same.
    const told = await run(['tell', id, 'also', 'in', 'Go']);
    expect(told.code).toBe(2);
    expect(told.stderr).toContain(`agent-team resume ${resumeHint}`);
    // From a checkpoint of the failed turn: its answers so far in view, the turn left unanswered.
    const from = json<{ status: string; result: { turn: number; steps: number } }>(
      await run(['ask', id, 'now in Go', '--from', `${id}@14`, '--offline', '--json']),
    );
    expect(from).toMatchObject({ status: 'COMPLETED', result: { turn: 3, steps: 23 } });
    const { turns } = json<{ turns: TurnSummary[] }>(await run(['turns', id, '--json']));
    expect(turns.map((t) => [t.task, t.fromStep, t.toStep, t.status])).toEqual([
      [TASK, 1, 9, 'answered'],
      ['now in Rust', 10, 14, 'left'],
      ['now in Go', 15, 23, 'answered'],
    ]);
    // session.idle_timeout: a conversation idle longer than that has ended. The setting is the conversation's (its
    // first run records it): a follow-up under another configuration is refused all the same.
    const idle = writeConfig(dir(), `temporal:\n  task_queue: ${queue}\nsession:\n  idle_timeout: 1s\n`);
    const idleId = uniqueId('conv-idle');
    expect((await run(['run', TASK, '--workflow-id', idleId, '--offline'], idle)).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1_500));
    const ended = await run(['ask', idleId, 'one more', '--offline']);
    expect(ended.code).toBe(2);
    expect(ended.stderr).toContain('the conversation ended');
    expect(ended.stderr).toContain('session.idle_timeout (1s, as the conversation');
    expect(ended.stderr).toMatch(new RegExp(`agent-team fork ${idleId}@\\d+`));
    const badConfig = writeConfig(dir(), `session:\n  idle_timeout: soon\n`);
    const bad = await run(['ask', id, 'one more', '--offline'], badConfig);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('session.idle_timeout');
  }, 240_000);

  it('earlier turns past session.summarize_after_chars: a summary step of its own, and the agents read it instead', async () => {
    const id = uniqueId('conv-sum');
    const short = writeConfig(dir(), `temporal:\n  task_queue: ${queue}\nsession:\n  summarize_after_chars: 300\n`);
    expect((await run(['run', TASK, '--workflow-id', id, '--offline'], short)).code).toBe(0);
    const second = await run(['ask', id, 'Now in Rust.', '--offline', '--json'], short);
    expect(json<{ steps: { step: number; kind: string }[] }>(second).steps.slice(0, 2)).toEqual([
      expect.objectContaining({ step: 10, kind: 'summary' }),
      expect.objectContaining({ step: 11, kind: 'plan' }),
    ]);
    const third = await run(['ask', id, 'And in Go?', '--offline'], short);
    expect(third.code).toBe(0);
    expect(third.stderr).toMatch(/#20 +orchestrator +summary/);
    const by = (step: number) => sent(id).find((e) => e.step === step && e.status === 200)!;
    // The summary read the turns; every request after it reads the summary instead of them.
    expect([by(10).kind, by(10).earlier]).toEqual(['summary', [TASK]]);
    expect(by(11).earlier).toEqual(['(summary)']);
    expect(by(19).earlier).toEqual(['(summary)']);
    // Turn 3: the summary and turn 2 outgrew it again: a new summary of both.
    expect([by(20).kind, by(20).earlier]).toEqual(['summary', ['(summary)', 'Now in Rust.']]);
    expect([by(21).kind, by(21).earlier]).toEqual(['plan', ['(summary)']]);
    // A checkpoint like any step: the state there holds it.
    type Shown = { state: { summary?: { step: number; turns: number; text: string } } };
    const at20 = json<Shown>(await run(['checkpoints', 'show', `${id}@20`, '--json'], short));
    expect(at20.state.summary).toMatchObject({ step: 20, turns: 2 });
    expect(at20.state.summary!.text).toContain('Summary of the conversation before "And in Go?"');
  }, 180_000);

  it('run --follow-up reads each follow-up from stdin, a turn each, until an empty line', async () => {
    const id = uniqueId('conv-piped');
    const done = await pipeCli(
      ['run', TASK, '--workflow-id', id, '--offline', '--follow-up', '--config', config],
      env,
      'Now in Rust.\nAnd in Go?\n\nnever asked\n',
    );
    expect(done.code).toBe(0);
    expect(done.stderr).toContain('↪ Follow-up: Now in Rust.');
    expect(done.stderr).toContain(`↪ Turn 3 of ${id}, after turn 2 (step 18)`);
    expect(done.stderr).not.toContain('never asked');
    expect(done.stdout).toContain('Final answer on "And in Go?"');
    expect(
      sent(id)
        .filter((e) => e.status === 200)
        .map((e) => e.step),
    ).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
    // With --json: an object per turn, a line each (JSON Lines).
    const jsonId = uniqueId('conv-lines');
    const out = await pipeCli(
      ['run', TASK, '--workflow-id', jsonId, '--offline', '--follow-up', '--json', '--config', config],
      env,
      'Now in Rust.\n',
    );
    expect(out.code).toBe(0);
    const objects = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { workflowId: string; result: { turn?: number; steps: number } });
    expect(objects.map((o) => [o.workflowId, o.result.turn ?? 1, o.result.steps])).toEqual([
      [jsonId, 1, 9],
      [jsonId, 2, 18],
    ]);
  }, 240_000);
});
