/**
 * People in the loop in the pure state machine: what a run waits on, which answers it takes, what they change,
 * and the cost a budget counts. The workflow and the checkpoint tools both use these functions.
 */
import { applyAnswer, checkAnswer, pendingRequest, timeoutAnswer, uselessAnswer } from '../../workflows/gates';
import { costOf } from '../../workflows/pricing';
import { type TeamState } from '../../workflows/model';
import { requestFor } from '../../workflows/requests';
import { initialState, nextAction, reduce } from '../../workflows/state';
import type { ProgressLedger, StepResult, TeamInput } from '../../workflows/types';

const PRICES = { 'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6 } };
const usage = { promptTokens: 1000, completionTokens: 500 };

function ledger(next = 'researcher', done = false): ProgressLedger {
  return {
    is_request_satisfied: { reason: '', answer: done },
    is_in_loop: { reason: '', answer: false },
    is_progress_being_made: { reason: '', answer: true },
    next_speaker: { reason: '', answer: next },
    instruction_or_question: { reason: '', answer: `go, ${next}` },
  };
}

/** Completes the next action as the activity would (with `ledger` for a ledger step). */
function step(state: TeamState, progress?: ProgressLedger): TeamState {
  const action = nextAction(state);
  if (!action) throw new Error('no step to run');
  const req = requestFor(state, action);
  const result: StepResult = {
    kind: req.kind,
    agent: req.agent,
    round: req.round,
    stepIndex: req.stepIndex,
    ...(req.instruction !== undefined ? { instruction: req.instruction } : {}),
    ...(req.replan ? { replan: true } : {}),
    ...(req.cutShort !== undefined ? { cutShort: req.cutShort } : {}),
    ...(req.cutShortBy !== undefined ? { cutShortBy: req.cutShortBy } : {}),
    content: req.kind === 'plan' ? `plan${req.feedback ? ` (${req.feedback})` : ''}` : `${req.agent} says hi`,
    ...(req.kind === 'ledger' ? { ledger: progress ?? ledger() } : {}),
    model: 'gpt-4o-mini',
    usage,
    latencyMs: 1,
    attempt: 1,
  };
  return reduce(state, result);
}

const start = (input: Partial<TeamInput>): TeamState =>
  initialState({ task: 'Compare quicksort and mergesort', pricing: PRICES, ...input });

describe('cost', () => {
  it('prices prompt, cached prompt and completion tokens; a dated model takes its base price; unknown is 0', () => {
    expect(costOf(usage, 'gpt-4o-mini', PRICES)).toBeCloseTo((1000 * 0.15 + 500 * 0.6) / 1e6, 12);
    const cached = { ...usage, cachedPromptTokens: 400 };
    expect(costOf(cached, 'gpt-4o-mini-2024-07-18', PRICES)).toBeCloseTo(
      (600 * 0.15 + 400 * 0.075 + 500 * 0.6) / 1e6,
      12,
    );
    expect(costOf(usage, 'my-local-model', PRICES)).toBe(0);
  });

  it("the state's cost is the sum of its steps' costs", () => {
    const s = step(step(start({})), ledger());
    expect(s.usage.costUsd).toBeCloseTo(2 * costOf(usage, 'gpt-4o-mini', PRICES), 12);
  });
});

describe('plan review', () => {
  const planned = step(start({ gates: { planReview: true } }));

  it('the plan waits for an answer (the workflow asks before it takes the next action)', () => {
    const request = pendingRequest(planned)!;
    expect(request).toMatchObject({ id: 'plan_review@1#0', kind: 'plan_review', step: 1, plan: 'plan' });
  });

  it('refuses malformed, stale, mistyped and unfit answers, naming the problem', () => {
    expect(checkAnswer(planned, 'yes')).toMatch(/an answer is an object/);
    expect(checkAnswer(planned, { requestId: 'plan_review@0#0', decision: 'approve' })).toMatch(/stale or mistyped/);
    expect(checkAnswer(planned, { requestId: 'plan_review@1#0', decision: 'maybe' })).toMatch(
      /takes approve, revise, reject, not "maybe"/,
    );
    expect(checkAnswer(planned, { requestId: 'plan_review@1#0', decision: 'revise' })).toMatch(/revise needs feedback/);
    expect(checkAnswer(planned, { requestId: 'plan_review@1#0', decision: 'add_budget', addUsd: 1 })).toMatch(
      /waits on plan review \(plan_review@1#0\), which takes approve, revise, reject, not "add_budget"/,
    );
    expect(() => applyAnswer(planned, { requestId: 'x', decision: 'approve' })).toThrow(/stale/);
  });

  it('approve: the round starts; the same answer again is refused as answered already', () => {
    const approved = applyAnswer(planned, { requestId: 'plan_review@1#0', decision: 'approve', answeredBy: 'ana' });
    expect(pendingRequest(approved)).toBeNull();
    expect(nextAction(approved)).toMatchObject({ kind: 'ledger' });
    expect(checkAnswer(approved, { requestId: 'plan_review@1#0', decision: 'approve' })).toBe(
      'plan_review@1#0 was answered already (approve by ana): nothing changed',
    );
  });

  it('revise: the orchestrator replans with the feedback, and the new plan is asked about anew', () => {
    const revised = applyAnswer(planned, {
      requestId: 'plan_review@1#0',
      decision: 'revise',
      feedback: 'add a benchmark step',
    });
    const action = nextAction(revised)!;
    expect(action).toMatchObject({ kind: 'plan' });
    expect(requestFor(revised, action).feedback).toBe('add a benchmark step');
    const replanned = step(revised);
    expect(pendingRequest(replanned)).toMatchObject({ id: 'plan_review@2#1', plan: 'plan (add a benchmark step)' });
  });

  it('reject: the run waits on nothing more and records who rejected and why', () => {
    const rejected = applyAnswer(planned, {
      requestId: 'plan_review@1#0',
      decision: 'reject',
      reason: 'wrong task',
      answeredBy: 'bo',
    });
    expect(rejected.rejected).toEqual({ kind: 'plan_review', reason: 'wrong task', by: 'bo' });
    expect(pendingRequest(rejected)).toBeNull();
  });

  it('a timeout takes the configured action (a budget question stops)', () => {
    const request = pendingRequest(planned)!;
    expect(timeoutAnswer(planned, request)).toMatchObject({ decision: 'reject', answeredBy: 'timeout' });
    const lenient = step(start({ gates: { planReview: true, onTimeout: 'approve', timeoutMs: 10 } }));
    expect(pendingRequest(lenient)!.timeout).toEqual({ ms: 10, decision: 'approve' });
    expect(pendingRequest(planned)!.timeout).toBeUndefined(); // waits for ever
    const answer = timeoutAnswer(lenient, pendingRequest(lenient)!);
    expect(answer).toMatchObject({ decision: 'approve', timedOut: true });
    expect(pendingRequest(applyAnswer(lenient, answer))).toBeNull();
  });
});

describe('step approval and final review', () => {
  it("only the listed agent's step waits, with the instruction it will get", () => {
    let s = step(start({ gates: { approveSteps: ['coder'] } }));
    s = step(s, ledger('researcher'));
    expect(pendingRequest(s)).toBeNull(); // the researcher runs unasked
    s = step(s);
    s = step(s, ledger('coder'));
    expect(pendingRequest(s)).toMatchObject({ kind: 'step_approval', agent: 'coder', instruction: 'go, coder' });
    s = applyAnswer(s, { requestId: pendingRequest(s)!.id, decision: 'approve' });
    expect(nextAction(s)).toMatchObject({ kind: 'agent', agent: 'coder' });
  });

  it('the final answer waits for approval before the run ends', () => {
    let s = step(start({ gates: { approveFinalAnswer: true } }));
    s = step(s, ledger('researcher', true));
    s = step(s); // the final answer
    expect(s.phase).toBe('done');
    const request = pendingRequest(s)!;
    expect(request).toMatchObject({ kind: 'final_review', answer: s.finalAnswer });
    expect(pendingRequest(applyAnswer(s, { requestId: request.id, decision: 'approve' }))).toBeNull();
  });
});

describe('budget', () => {
  const oneStep = costOf(usage, 'gpt-4o-mini', PRICES);

  it('pause: checked before a step is sent; the step past the limit waits for more budget or a stop', () => {
    let s = step(start({ budget: { maxUsd: oneStep * 2.5, onExceed: 'pause' } }));
    s = step(s, ledger());
    expect(pendingRequest(s)).toBeNull(); // 2 steps spent, under 2.5
    s = step(s);
    const request = pendingRequest(s)!; // 3 steps: over the limit, so the 4th is not sent
    expect(request).toMatchObject({ kind: 'budget', step: 3, decisions: ['add_budget', 'stop'] });
    expect(request.spent!.usd).toBeCloseTo(oneStep * 3, 12);
    expect(checkAnswer(s, { requestId: request.id, decision: 'add_budget', addUsd: -1 })).toMatch(/positive/);

    // Answers that fit but would not help are refused by the validator (and never by replay).
    expect(uselessAnswer(s, { requestId: request.id, decision: 'add_budget', addUsd: 1e-9 })).toMatch(
      /the run has spent \$0\.00\d+ of \$0\.00\d+: add more than \$0\.00\d+, not \$0\.000000/,
    );
    expect(uselessAnswer(s, { requestId: request.id, decision: 'add_budget', addTokens: 500 })).toMatch(
      /no token limit/,
    );
    expect(uselessAnswer(s, { requestId: request.id, decision: 'add_budget', addUsd: oneStep * 2 })).toBeNull();

    const more = applyAnswer(s, { requestId: request.id, decision: 'add_budget', addUsd: oneStep * 2 });
    expect(pendingRequest(more)).toBeNull();
    expect(nextAction(more)).toMatchObject({ kind: 'ledger' });

    const stopped = applyAnswer(s, { requestId: request.id, decision: 'stop' });
    expect(nextAction(stopped)).toMatchObject({ kind: 'final', cutShort: true, cutShortBy: 'budget' });
  });

  it('stop: no question; the next step is the final answer, marked cut short by the budget', () => {
    let s = step(start({ budget: { maxTokens: 4000, onExceed: 'stop' } }));
    s = step(s, ledger());
    expect(nextAction(s)).toMatchObject({ kind: 'agent' }); // 3000 tokens spent: under 4000
    s = step(s);
    expect(pendingRequest(s)).toBeNull();
    expect(nextAction(s)).toMatchObject({ kind: 'final', cutShortBy: 'budget' });
  });

  it('tokens are added in whole numbers, and only to a budget with a token limit', () => {
    let s = step(start({ budget: { maxTokens: 1000, onExceed: 'pause' } }));
    s = step(s, ledger());
    const request = pendingRequest(s)!;
    expect(request.kind).toBe('budget');
    const add = (extra: object) => uselessAnswer(s, { requestId: request.id, decision: 'add_budget', ...extra });
    expect(add({ addTokens: 1.5 })).toMatch(/whole number/);
    expect(add({ addUsd: 1 })).toMatch(/no USD limit/);
    expect(add({ addTokens: 2000 })).toMatch(/spent 3000 of 1000 tokens: add more than 2000, not 2000/);
    expect(add({ addTokens: 2001 })).toBeNull();
  });
});
