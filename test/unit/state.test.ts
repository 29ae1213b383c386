import { InvalidTeamInput } from '../../workflows/input';
import { type TeamState } from '../../workflows/model';
import { requestFor, transcriptOf } from '../../workflows/requests';
import { apply, initialState, nextAction, reduce, resultOf, withTurn } from '../../workflows/state';
import type { ProgressLedger, StepResult } from '../../workflows/types';

const usage = { promptTokens: 10, completionTokens: 5 };

function ledger(opts: { done?: boolean; stalled?: boolean; next?: string } = {}): ProgressLedger {
  return {
    is_request_satisfied: { reason: '', answer: opts.done ?? false },
    is_in_loop: { reason: '', answer: opts.stalled ?? false },
    is_progress_being_made: { reason: '', answer: !(opts.stalled ?? false) },
    next_speaker: { reason: '', answer: opts.next ?? 'researcher' },
    instruction_or_question: { reason: '', answer: `do it, ${opts.next ?? 'researcher'}` },
  };
}

/** Completes the next action with the given content/ledger, as the activity would (`log`: gets the result). */
function step(state: TeamState, extra: Partial<StepResult> = {}, log?: StepResult[]): TeamState {
  const action = nextAction(state);
  if (!action) throw new Error('no next action');
  const req = requestFor(state, action);
  const result: StepResult = {
    kind: req.kind,
    agent: req.agent,
    round: req.round,
    stepIndex: req.stepIndex,
    ...(req.instruction !== undefined ? { instruction: req.instruction } : {}),
    ...(req.replan ? { replan: true } : {}),
    ...(req.cutShort !== undefined ? { cutShort: req.cutShort } : {}),
    content: `${req.agent} says hi`,
    model: 'm',
    usage,
    latencyMs: 1,
    attempt: 1,
    ...extra,
  };
  log?.push(result);
  return reduce(state, result);
}

describe('the team state machine', () => {
  it('plans, delegates each round, and finishes when the ledger says so', () => {
    let s = initialState({ task: '  sort things  ' });
    expect(s.task).toBe('sort things');
    expect(nextAction(s)).toEqual({ kind: 'plan', agent: 'orchestrator', round: 0 });
    s = step(s);
    expect(s.plan).toBe('orchestrator says hi');
    expect(nextAction(s)).toEqual({ kind: 'ledger', agent: 'orchestrator', round: 1 });
    s = step(s, { ledger: ledger({ next: 'coder' }) });
    expect(nextAction(s)).toMatchObject({ kind: 'agent', agent: 'coder', round: 1, instruction: 'do it, coder' });
    s = step(s);
    s = step(s, { ledger: ledger({ done: true }) });
    expect(nextAction(s)).toMatchObject({ kind: 'final', cutShort: false });
    s = step(s, { content: 'the answer' });
    expect(nextAction(s)).toBeNull();
    expect(resultOf(s)).toEqual({
      task: 'sort things',
      answer: 'the answer',
      cutShort: false,
      rounds: 2,
      replans: 0,
      steps: 5,
      usage: { promptTokens: 50, completionTokens: 25, llmCalls: 5 },
    });
    expect(s.messages.map((m) => `${m.step}:${m.kind}:${m.agent}`)).toEqual([
      '1:plan:orchestrator',
      '2:ledger:orchestrator',
      '3:agent:coder',
      '4:ledger:orchestrator',
      '5:final:orchestrator',
    ]);
  });

  it('counts stalls, replans past max_stalls, and resets the count after a replan', () => {
    let s = step(initialState({ task: 't', maxStalls: 1 }));
    s = step(s, { ledger: ledger({ stalled: true }) });
    expect(s.stallCount).toBe(1);
    expect(nextAction(s)?.kind).toBe('agent');
    s = step(s);
    s = step(s, { ledger: ledger({ stalled: true }) });
    expect(s.stallCount).toBe(2);
    expect(nextAction(s)).toEqual({ kind: 'plan', agent: 'orchestrator', round: 2, replan: true });
    s = step(s);
    expect(s.replans).toBe(1);
    expect(s.stallCount).toBe(0);
    expect(nextAction(s)).toEqual({ kind: 'ledger', agent: 'orchestrator', round: 3 });
  });

  it('progress lowers the stall count but never below zero', () => {
    let s = step(initialState({ task: 't' }));
    s = step(s, { ledger: ledger({ stalled: true }) });
    s = step(s);
    s = step(s, { ledger: ledger() });
    expect(s.stallCount).toBe(0);
    s = step(s);
    s = step(s, { ledger: ledger() });
    expect(s.stallCount).toBe(0);
  });

  it('ends with a final answer marked cut short at max_rounds', () => {
    let s = step(initialState({ task: 't', maxRounds: 1 }));
    s = step(s, { ledger: ledger() });
    s = step(s);
    expect(nextAction(s)).toEqual({ kind: 'final', agent: 'orchestrator', round: 1, cutShort: true });
    s = step(s);
    expect(resultOf(s)).toMatchObject({ cutShort: true, rounds: 1 });
  });

  it('agents see the plans and answers, not the ledgers; the step input does not carry them', () => {
    let s = step(initialState({ task: 't' }));
    s = step(s, { ledger: ledger() });
    expect(transcriptOf(s).map((m) => m.kind)).toEqual(['plan']);
    const req = requestFor(s, nextAction(s)!);
    expect(req).not.toHaveProperty('transcript'); // history stays linear in the conversation
    expect(req.stepIndex).toBe(2);
  });

  it('never mutates the state it is given', () => {
    const s0 = step(initialState({ task: 't' }));
    const frozen = JSON.stringify(s0);
    step(s0, { ledger: ledger() });
    expect(JSON.stringify(s0)).toBe(frozen);
  });

  it.each([
    [{ task: '' }, 'task must be a non-empty string'],
    [{ task: '   ' }, 'task must be a non-empty string'],
    [{ task: 'x'.repeat(40_000) }, 'task is 40000 characters; the limit is 32000'],
    [{ task: 't', maxRounds: 0 }, 'maxRounds must be an integer ≥ 1, got 0'],
    [{ task: 't', maxStalls: -1 }, 'maxStalls must be an integer ≥ 0, got -1'],
    [{ task: 't', llm: { maxAttempts: 1.5 } }, 'llm.maxAttempts must be an integer ≥ 1, got 1.5'],
  ])('rejects input %j', (input, message) => {
    expect(() => initialState(input as never)).toThrow(new InvalidTeamInput(message));
  });

  it('fills defaults for a bare {task} (what `temporal workflow start` sends)', () => {
    expect(initialState({ task: 't' }).settings).toMatchObject({
      maxRounds: 10,
      maxStalls: 3,
      llm: { maxAttempts: 4 },
    });
  });

  describe('a run restored from a checkpoint (input.restore)', () => {
    /** Runs `n` steps from scratch, keeping each step's result as history would. */
    function recorded(n: number): { results: StepResult[]; state: TeamState } {
      const results: StepResult[] = [];
      let state = initialState({ task: 't' });
      const ledgers = [undefined, ledger({ next: 'coder' }), undefined, ledger({ done: true }), undefined];
      for (let i = 0; i < n; i++) {
        const before = state;
        state = step(state, ledgers[i] ? { ledger: ledgers[i] } : {});
        const m = state.messages[state.messages.length - 1]!;
        const action = nextAction(before)!;
        results.push({
          kind: m.kind,
          agent: m.agent,
          round: m.round,
          stepIndex: i,
          ...(m.instruction !== undefined ? { instruction: m.instruction } : {}),
          ...(action.cutShort !== undefined ? { cutShort: action.cutShort } : {}),
          content: m.content,
          ...(ledgers[i] ? { ledger: ledgers[i] } : {}),
          model: 'm',
          usage,
          latencyMs: 1,
          attempt: 1,
        });
      }
      return { results, state };
    }
    const seed = (steps: StepResult[]) => ({ checkpointId: 'cp1_x', workflowId: 'w', runId: 'r', steps });

    it('starts from the state after the seeded steps, the same state running them gave', () => {
      const { results, state } = recorded(3);
      const restored = initialState({ task: 't', restore: seed(results) });
      expect(restored).toEqual(state);
      expect(restored.steps).toBe(3);
      expect(nextAction(restored)).toEqual({ kind: 'ledger', agent: 'orchestrator', round: 2 });
      expect(requestFor(restored, nextAction(restored)!).stepIndex).toBe(3);
    });

    it('refuses seeds that do not fit the run, naming the step', () => {
      const { results } = recorded(3);
      expect(() => initialState({ task: 't', restore: seed([results[1]!]) })).toThrow(
        new InvalidTeamInput('restore.steps[0] is a ledger step, but the run expects a plan step there'),
      );
      const noLedger = { ...results[1]!, ledger: undefined } as unknown as StepResult;
      expect(() => initialState({ task: 't', restore: seed([results[0]!, noLedger]) })).toThrow(
        new InvalidTeamInput('restore.steps[1]: ledger step 1 carries no progress ledger'),
      );
      expect(() => initialState({ task: 't', restore: { steps: 'no' } as never })).toThrow(
        new InvalidTeamInput('restore must be an object with a steps array'),
      );
      expect(() => initialState({ task: 't', restore: seed([{ kind: 'nap' } as never]) })).toThrow(
        new InvalidTeamInput('restore.steps[0] is not a step result'),
      );
    });
  });
});

describe("people's messages (tell)", () => {
  const msg = (n: number, interrupt = false) => ({
    id: `msg-${n}`,
    text: `message ${n}`,
    by: 'alice',
    at: '2026-12-03T10:00:00.000Z',
    ...(interrupt ? { interrupt: true } : {}),
  });
  /** The step's result as the activity returns it: it names the messages its request carried. */
  const heard = (state: TeamState, extra: Partial<StepResult> = {}): TeamState => {
    const req = requestFor(state, nextAction(state)!);
    return step(state, { ...(req.messages?.length ? { heard: req.messages.map((m) => m.id) } : {}), ...extra });
  };

  it('a message waits in the inbox for the next plan or ledger, which carries it once', () => {
    let s = step(initialState({ task: 't' })); // plan
    s = apply(s, { message: msg(1) });
    expect(requestFor(s, nextAction(s)!)).toMatchObject({ kind: 'ledger', messages: [msg(1)] });
    s = heard(s, { ledger: ledger() });
    expect(s.inbox).toBeUndefined();
    expect(s.told).toEqual([msg(1)]);
    expect(requestFor(s, nextAction(s)!).messages).toBeUndefined();
  });

  it('an interrupting message makes the next step a replan that carries it; a message taken with a result still counts', () => {
    let s = heard(step(initialState({ task: 't' })), { ledger: ledger() }); // plan, ledger: the researcher is next
    s = apply(s, { message: msg(1, true) });
    expect(nextAction(s)).toEqual({ kind: 'plan', agent: 'orchestrator', round: 1, replan: true });
    // The plan taken with the message was asked before it: it read nothing, so the replan is still owed.
    const before = step(s);
    expect(before.replanFor).toBe('msg-1');
    s = heard(s);
    expect(s.replanFor).toBeUndefined();
    expect(s.inbox).toBeUndefined();
    expect(s.replans).toBe(1);
    expect(nextAction(s)).toMatchObject({ kind: 'ledger' });
  });

  it('a message and a step result taken in one workflow task fold to the same state in either order', () => {
    const s = heard(step(initialState({ task: 't' })), { ledger: ledger() });
    // The researcher's result, asked before the message came (as history records it).
    const req = requestFor(s, nextAction(s)!);
    const result: StepResult = { ...req, content: 'research', model: 'm', usage, latencyMs: 1, attempt: 1 };
    for (const m of [msg(1), msg(1, true)]) {
      const messageFirst = apply(apply(s, { message: m }), { step: result });
      const stepFirst = apply(apply(s, { step: result }), { message: m });
      expect(messageFirst).toEqual(stepFirst);
    }
  });
});

describe('follow-ups (the next turn of a conversation)', () => {
  /** A run to its final answer. */
  const answered = (): TeamState => {
    let s = step(initialState({ task: 'sort things' }));
    for (const next of ['researcher', 'coder', 'analyst']) s = step(step(s, { ledger: ledger({ next }) }));
    return step(step(s, { ledger: ledger({ done: true }) }));
  };

  it('opens a turn from a state that has answered: a plan next, step numbers and usage going on', () => {
    const done = answered();
    expect(done.phase).toBe('done');
    const s = withTurn(done, { task: '  now in Rust  ', by: 'alice', at: '2026-12-03T11:00:00Z' });
    expect(s.turns).toEqual([
      { task: 'sort things', by: null, at: null, answer: done.finalAnswer, step: done.steps, usage: done.usage },
    ]);
    expect(s.asked).toEqual({ by: 'alice', at: '2026-12-03T11:00:00Z' });
    expect(s).toMatchObject({ task: 'now in Rust', phase: 'planning', round: 0, finalAnswer: null, steps: 9 });
    expect(s.usage).toEqual(done.usage);
    expect(nextAction(s)).toEqual({ kind: 'plan', agent: 'orchestrator', round: 0 });
    expect(requestFor(s, nextAction(s)!).stepIndex).toBe(9);
  });

  it('refuses a follow-up without a seed, or an empty one', () => {
    expect(() => withTurn(answered(), { task: ' ', by: null, at: '' })).toThrow('followUp.task is empty');
    expect(() => initialState({ task: 'x', followUp: { task: 'more', by: null, at: '' } })).toThrow(
      'followUp needs a seed (restore)',
    );
  });

  it('a turn left before it answered (ask --from) is recorded without an answer; its unread messages go on', () => {
    let s = step(initialState({ task: 'sort things' }));
    s = step(s, { ledger: ledger({ next: 'researcher' }) });
    s = apply(s, { message: { id: 'msg-1', text: 'mind the memory', by: 'bob', at: '' } });
    const next = withTurn(s, { task: 'and in Go?', by: null, at: '' });
    expect(next.turns).toMatchObject([{ task: 'sort things', answer: null, step: 2 }]);
    expect(next.inbox!.map((m) => m.id)).toEqual(['msg-1']);
    expect(requestFor(next, nextAction(next)!).messages!.map((m) => m.text)).toEqual(['mind the memory']);
  });

  it('a seed with turns and messages folds to the state the conversation had (what a follow-up of a follow-up starts from)', () => {
    const results: StepResult[] = [];
    let first = step(initialState({ task: 'sort things' }), {}, results);
    first = step(step(first, { ledger: ledger({ done: true }) }, results), {}, results);
    expect(first.phase).toBe('done');
    const second = withTurn(first, { task: 'now in Rust', by: 'alice', at: 't1' });
    let s = step(second, {}, results);
    s = apply(s, { message: { id: 'msg-1', text: 'radix too', by: 'bob', at: 't2' } });
    s = step(step(s, { ledger: ledger({ done: true }), heard: ['msg-1'] }, results), {}, results);
    expect(s.phase).toBe('done');
    expect(results).toHaveLength(s.steps);
    const seeded = initialState({
      task: 'sort things',
      restore: {
        checkpointId: 'x',
        workflowId: 'w',
        runId: 'r',
        steps: results,
        turns: [{ afterSteps: first.steps, followUp: { task: 'now in Rust', by: 'alice', at: 't1' } }],
        messages: [{ afterSteps: first.steps + 1, message: { id: 'msg-1', text: 'radix too', by: 'bob', at: 't2' } }],
      },
      followUp: { task: 'and a beginner?', by: 'alice', at: 't3' },
    });
    expect(seeded.turns!.map((t) => [t.task, t.step])).toEqual([
      ['sort things', first.steps],
      ['now in Rust', s.steps],
    ]);
    expect(seeded.told).toEqual(s.told);
    expect(seeded.inbox).toBeUndefined();
    expect(transcriptOf(seeded).map((m) => m.asked ?? null)).toEqual(['sort things', 'now in Rust']);
  });

  it('earlier turns past the follow-up threshold: a summary step first, then the agents read it instead of them', () => {
    const done = answered();
    const long = withTurn(done, { task: 'now in Rust', by: null, at: '', summarizeAfterChars: 10 });
    expect(nextAction(long)).toEqual({ kind: 'summary', agent: 'orchestrator', round: 0 });
    const summarized = step(long, { content: 'They compared two sorts.' });
    expect(summarized).toMatchObject({ summary: { text: 'They compared two sorts.', step: 10, turns: 1 } });
    expect(summarized.summaryDue).toBeUndefined();
    expect(nextAction(summarized)).toEqual({ kind: 'plan', agent: 'orchestrator', round: 0 });
    expect(transcriptOf(summarized).map((m) => [m.kind, m.asked ?? null])).toEqual([['summary', null]]);
    // Under the threshold: no summary.
    const short = withTurn(done, { task: 'now in Rust', by: null, at: '', summarizeAfterChars: 100_000 });
    expect(nextAction(short)!.kind).toBe('plan');
  });
});
