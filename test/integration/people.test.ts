/**
 * People in the loop (issue 14), as users drive it: `run --detach` leaves a run waiting with no worker up, and
 * the answer comes from another process (`approve`, `revise`, `reject`, `budget`), from `temporal workflow
 * update execute`, from a fresh worker after a SIGKILL, after a server restart, or from a gate's timeout. The
 * offline model's request log says which steps were sent. Real CLI processes on real Temporal servers.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { RunOutcome } from '../../src';
import type { AnswerReceipt, PendingRun } from '../../src/client';
import type { AuditTrail } from '../../src/history/audit';
import { readOfflineLlmLog } from '../../src/llm/offline-server';
import type { HumanRequest } from '../../workflows/types';
import { cleanEnv, cli, collect, spawnCli, temporal, waitForOutput, writeConfig } from '../cli-helpers';
import { ownServer, testAddress, uniqueId, until } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;

interface Setup {
  config: string;
  log: string;
  env: NodeJS.ProcessEnv;
  workflowId: string;
}

/** A config with `yaml` (gates, budget) on a task queue of its own, a request log, and a workflow id. */
function setup(yaml: string, address = testAddress()): Setup {
  const base = uniqueId('people');
  const log = join(dir(), `${uniqueId('llm')}.jsonl`);
  return {
    config: writeConfig(dir(), `temporal:\n  task_queue: ${base}\nllm:\n  initial_retry_ms: 50\n${yaml}`),
    log,
    env: cleanEnv({ TEMPORAL_ADDRESS: address, OFFLINE_LLM_LOG: log }),
    workflowId: uniqueId('wf'),
  };
}

/** `agent-team <args> --config … --json` in a process of its own; its exit code and parsed stdout. */
async function agentTeam<T>(s: Setup, args: string[]): Promise<{ code: number | null; out: T; stderr: string }> {
  const r = await cli([...args, '--config', s.config, '--json'], s.env);
  let out = null as T;
  try {
    out = JSON.parse(r.stdout) as T;
  } catch {
    // not JSON: a refusal (stderr says why)
  }
  return { code: r.code, out, stderr: r.stderr };
}

interface Left {
  workflowId: string;
  status: string;
  waiting: HumanRequest;
}

/** `run --detach`: the run starts and this process leaves once it waits on a person. */
async function runUntilAsked(s: Setup): Promise<HumanRequest> {
  const r = await agentTeam<Left>(s, ['run', TASK, '--workflow-id', s.workflowId, '--detach']);
  expect({ code: r.code, status: r.out?.status }).toEqual({ code: 0, status: 'RUNNING' });
  return r.out.waiting;
}

/**
 * `follow --detach`: serves the run's next steps until it asks again (the request) or ends (the outcome). With
 * `asPrinted`, exactly as the hints print it: without --config (the run's task queue is its own all the same).
 */
async function followOn(s: Setup, asPrinted = false): Promise<{ asked?: HumanRequest; outcome?: RunOutcome }> {
  const r = asPrinted
    ? await (async () => {
        const res = await cli(['follow', s.workflowId, '--detach', '--json'], s.env);
        return { out: JSON.parse(res.stdout) as Left | RunOutcome };
      })()
    : await agentTeam<Left | RunOutcome>(s, ['follow', s.workflowId, '--detach']);
  if (r.out && 'waiting' in r.out) return { asked: r.out.waiting };
  return { outcome: r.out as RunOutcome };
}

const history = async (s: Setup): Promise<AuditTrail> =>
  (await agentTeam<AuditTrail>(s, ['history', s.workflowId])).out;

/** The number of events in the run's history (`temporal workflow show`). */
async function eventCount(s: Setup, address = testAddress()): Promise<number> {
  const r = await temporal(['workflow', 'show', '--address', address, '-w', s.workflowId, '-o', 'json']);
  return (JSON.parse(r.stdout) as { events: unknown[] }).events.length;
}

/** The answer through plain Temporal, as the README shows it: `temporal workflow update execute --name answer`. */
const answerWithTemporal = (s: Setup, answer: object) =>
  temporal([
    ...['workflow', 'update', 'execute', '--address', testAddress(), '-w', s.workflowId],
    ...['--name', 'answer', '--input', JSON.stringify(answer)],
  ]);

const sentSteps = (s: Setup): number[] => readOfflineLlmLog(s.log).map((e) => e.step ?? -1);

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('plan review', () => {
  it('revise (the replanned plan carries the feedback), concurrent answers (one wins), a malformed and a duplicate answer refused with nothing changed, approve from `temporal workflow update execute`, resume from before the gate asks again', async () => {
    const s = setup('gates:\n  plan_review: true\n');
    const first = await runUntilAsked(s);
    expect(first).toMatchObject({ kind: 'plan_review', step: 1, decisions: ['approve', 'revise', 'reject'] });
    expect(sentSteps(s)).toEqual([1]); // only the plan: nothing runs before the review

    const revised = await agentTeam<AnswerReceipt>(s, ['revise', s.workflowId, '--feedback', 'add a benchmark step']);
    expect(revised.code).toBe(0);
    expect(revised.out).toMatchObject({ requestId: first.id, decision: 'revise' });

    // The orchestrator replans with the feedback (a new step, checkpointed) and the new plan is asked again.
    const { asked: second } = await followOn(s);
    expect(second).toMatchObject({ kind: 'plan_review', step: 2 });
    expect(second!.plan).toContain('add a benchmark step');
    expect(sentSteps(s)).toEqual([1, 2]);

    // The first answer again: stale, refused, nothing written to history.
    const before = await eventCount(s);
    const stale = await agentTeam(s, ['approve', s.workflowId, '--request', first.id]);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain(`${first.id} was answered already (revise by`);
    expect(await eventCount(s)).toBe(before);

    // Two answers at once from two processes: exactly one is taken, the other told why not.
    const [a, b] = await Promise.all([
      agentTeam(s, ['revise', s.workflowId, '--request', second!.id, '--feedback', 'shorter']),
      agentTeam(s, ['revise', s.workflowId, '--request', second!.id, '--feedback', 'longer']),
    ]);
    expect([a.code, b.code].sort()).toEqual([0, 2]);
    expect((a.code === 2 ? a : b).stderr).toContain('was answered already');

    // The third plan, approved from plain Temporal while a `follow` (without a terminal) serves the run.
    const follower = spawnCli(['follow', s.workflowId, '--config', s.config, '--json'], s.env);
    started.push(follower);
    const following = collect(follower); // all its output, from the start
    await waitForOutput(follower, new RegExp(`approve ${s.workflowId}`));
    const third = await until('the third request in `pending` (visibility is updated a moment later)', async () =>
      (await agentTeam<PendingRun[]>(s, ['pending'])).out.find(
        (p) => p.workflowId === s.workflowId && p.request.id !== second!.id,
      ),
    );
    expect(third?.request).toMatchObject({ kind: 'plan_review', step: 3 });
    const before3 = await eventCount(s);
    // A malformed answer through plain Temporal (a worker serves the run: the `follow`): the validator refuses it, nothing is written.
    const malformed = await answerWithTemporal(s, { requestId: third.request.id, decision: 'maybe' });
    expect(malformed.code).not.toBe(0);
    expect(malformed.stderr + malformed.stdout).toMatch(/which takes approve, revise, reject, not "maybe"/);
    expect(await eventCount(s)).toBe(before3);
    const approved = await answerWithTemporal(s, {
      requestId: third.request.id,
      decision: 'approve',
      answeredBy: 'ops-team',
    });
    expect(approved.code).toBe(0);
    const followed = await following;
    expect(followed.code).toBe(0);
    const outcome = JSON.parse(followed.stdout) as RunOutcome;
    expect(outcome.status).toBe('COMPLETED');
    expect(followed.stderr).toContain('✔ answered: approve by ops-team'); // the watcher sees the answer
    // plan, replan, replan, then the usual 8 steps; each sent once.
    expect(sentSteps(s)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

    // The audit trail: every question, answer, who and when.
    const gates = (await history(s)).runs.at(-1)!.gates;
    expect(gates.map((g) => [g.afterStep, g.answer?.decision, g.answer?.answeredBy])).toEqual([
      [1, 'revise', expect.any(String)],
      [2, 'revise', expect.any(String)],
      [3, 'approve', 'ops-team'],
    ]);
    expect(gates.every((g) => g.askedAt && g.answer?.at)).toBe(true);

    // Resume from before the gate: the reset run asks again.
    const resumed = await agentTeam<Left>(s, ['resume', `${s.workflowId}@0`, '--detach']);
    expect(resumed.code).toBe(0);
    expect(resumed.out.waiting).toMatchObject({ kind: 'plan_review', step: 1 });
    await agentTeam(s, ['terminate', s.workflowId, '--reason', 'test over']);
  }, 120_000);

  it('reject, with no worker up: the run ends CANCELED with the reason, and says so everywhere', async () => {
    const s = setup('gates:\n  plan_review: true\n');
    await runUntilAsked(s);
    const rejected = await agentTeam<AnswerReceipt>(s, ['reject', s.workflowId, '--reason', 'wrong task']);
    expect(rejected.code).toBe(0);
    const shown = await agentTeam<RunOutcome>(s, ['follow', s.workflowId]);
    expect(shown.code).toBe(1);
    expect(shown.out.status).toBe('CANCELED');
    expect(shown.out.error).toMatchObject({ type: 'Rejected' });
    expect(shown.out.error?.message).toMatch(/rejected at plan review by .*: wrong task/);
    expect(sentSteps(s)).toEqual([1]);
    expect((await agentTeam(s, ['approve', s.workflowId])).stderr).toContain('CANCELED: it waits on no answer');
  });

  it('approve and reject at once: one wins, the other is refused, and the answering processes run no step', async () => {
    const s = setup('gates:\n  plan_review: true\n');
    await runUntilAsked(s);
    const [approved, rejected] = await Promise.all([
      agentTeam(s, ['approve', s.workflowId]),
      agentTeam(s, ['reject', s.workflowId, '--reason', 'no']),
    ]);
    expect([approved.code, rejected.code].sort()).toEqual([0, 2]);
    const loser = approved.code === 2 ? approved : rejected;
    expect(loser.stderr).toMatch(/answered already|ended CANCELED before this answer was taken: it was rejected by/);
    expect(sentSteps(s)).toEqual([1]); // neither answering process sent a step
    const status = (await agentTeam<RunOutcome>(s, ['follow', s.workflowId])).out.status;
    expect(status).toBe(approved.code === 0 ? 'COMPLETED' : 'CANCELED');
  });

  it('a gate timeout takes its configured default action (approve), recorded as answered by "timeout"', async () => {
    const s = setup('gates:\n  plan_review: true\n  timeout_ms: 1000\n  on_timeout: approve\n');
    const r = await agentTeam<RunOutcome>(s, ['run', TASK, '--workflow-id', s.workflowId]);
    expect(r.code).toBe(0);
    expect(r.out.status).toBe('COMPLETED');
    expect(r.stderr).toContain('Without an answer within 1 s (gates.timeout_ms), it will approve.');
    expect(r.stderr).toContain('✔ answered: approve (no answer in time)');
    const [gate] = (await history(s)).runs[0]!.gates;
    expect(gate).toMatchObject({ kind: 'plan_review', answer: { decision: 'approve', answeredBy: 'timeout' } });
  });
});

describe('step approval', () => {
  it("the coder's step waits before it is sent, showing its instruction; approved, it runs", async () => {
    const s = setup('gates:\n  approve_steps: [coder]\n');
    const asked = await runUntilAsked(s);
    expect(asked).toMatchObject({ kind: 'step_approval', agent: 'coder' });
    expect(asked.instruction).toBeTruthy();
    expect(readOfflineLlmLog(s.log).map((e) => e.agent)).not.toContain('coder');
    expect((await agentTeam(s, ['approve', s.workflowId])).code).toBe(0);
    const { outcome } = await followOn(s, true);
    expect(outcome?.status).toBe('COMPLETED');
    const log = readOfflineLlmLog(s.log);
    expect(log.filter((e) => e.agent === 'coder')).toHaveLength(1);
    expect(log.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('budget', () => {
  it('pauses before the step that would go past the limit (not sent), continues after `budget --add-usd`', async () => {
    const s = setup('budget:\n  max_usd: 0.0004\n  on_exceed: pause\n');
    const asked = await runUntilAsked(s);
    expect(asked.kind).toBe('budget');
    const pausedAfter = asked.step;
    // Sent: exactly the steps up to the pause; the next one waits.
    expect(sentSteps(s)).toEqual(Array.from({ length: pausedAfter }, (_, i) => i + 1));
    expect(asked.spent!.usd).toBeGreaterThanOrEqual(0.0004);
    // More budget that would not cover what was spent, or tokens for a USD budget: refused, nothing changed.
    const tooLittle = await agentTeam(s, ['budget', s.workflowId, '--add-usd', '0.00001']);
    expect(tooLittle.code).toBe(2);
    expect(tooLittle.stderr).toMatch(/the run has spent \$0\.000\d+ of \$0\.000400: add more than/);
    expect((await agentTeam(s, ['budget', s.workflowId, '--add-tokens', '100'])).stderr).toContain('no token limit');
    expect((await agentTeam(s, ['pending', `${s.workflowId}-typo`])).code).toBe(2);

    expect((await agentTeam(s, ['budget', s.workflowId, '--add-usd', '0.05'])).code).toBe(0);
    const { outcome } = await followOn(s);
    expect(outcome?.status).toBe('COMPLETED');
    expect(outcome?.result?.cutShort).toBe(false);
    // Before the last step sent ahead of the pause, the run had spent less than its limit: checked before sending.
    const costs = outcome!.steps.map((step) => step.costUsd ?? 0);
    const spentBefore = costs.slice(0, pausedAfter - 1).reduce((x, y) => x + y, 0);
    expect(spentBefore).toBeLessThan(0.0004);
    expect(sentSteps(s)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(outcome!.usage.costUsd).toBeCloseTo(
      costs.reduce((x, y) => x + y, 0),
      9,
    );
  });

  it('on_exceed: stop ends with a final answer marked cut short by the budget', async () => {
    const s = setup('budget:\n  max_tokens: 800\n  on_exceed: stop\n');
    const r = await agentTeam<RunOutcome>(s, ['run', TASK, '--workflow-id', s.workflowId]);
    expect(r.code).toBe(0);
    expect(r.out.result).toMatchObject({ cutShort: true, cutShortBy: 'budget' });
    expect(r.stderr).toContain('cut short by the budget');
    const log = readOfflineLlmLog(s.log);
    expect(log.at(-1)).toMatchObject({ kind: 'final' });
    const before = log.slice(0, -2).reduce((t, e) => t + e.promptTokens + e.completionTokens, 0);
    expect(before).toBeLessThan(800); // the last step sent before the final one was sent under the limit
    expect(log.length).toBeLessThan(9);
  });
});

describe('waiting survives crashes', () => {
  it('the `run` process SIGKILLed while the run waits: answered from another process, a fresh worker finishes it, no step re-sent', async () => {
    const s = setup('gates:\n  plan_review: true\n');
    const run = spawnCli(['run', TASK, '--workflow-id', s.workflowId, '--config', s.config], s.env);
    started.push(run);
    await waitForOutput(run, /waits for you/);
    run.kill('SIGKILL');
    await collect(run);
    expect((await agentTeam(s, ['approve', s.workflowId])).code).toBe(0);
    const { outcome } = await followOn(s);
    expect(outcome?.status).toBe('COMPLETED');
    expect(sentSteps(s)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('the Temporal server restarted while the run waits: `pending` still lists it, and the answer continues it', async () => {
    const storage = join(dir(), uniqueId('waiting-restart'));
    const options = { storage: 'file' as const, dir: storage };
    let server = await ownServer('waiting-restart', options);
    const port = Number(server.address.split(':').at(-1));
    try {
      const s = setup('gates:\n  approve_final_answer: true\n', server.address);
      const asked = await runUntilAsked(s);
      expect(asked).toMatchObject({ kind: 'final_review', step: 9 });
      await server.stop();
      server = await ownServer('waiting-restart', { ...options, port });
      const pending = await agentTeam<PendingRun[]>(s, ['pending']);
      expect(pending.out.map((p) => [p.workflowId, p.request.id])).toEqual([[s.workflowId, asked.id]]);
      expect((await agentTeam(s, ['approve', s.workflowId])).code).toBe(0);
      const { outcome } = await followOn(s);
      expect(outcome?.status).toBe('COMPLETED');
      expect(sentSteps(s)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      await server.stop();
    }
  });
});
