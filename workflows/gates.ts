/**
 * People in the loop, as pure functions of the team's state: what a run waits on (plan review, step approval,
 * final review, budget), whether an answer fits, and what it changes. The workflow waits on the `answer`
 * Update when {@link pendingRequest} names something; the checkpoint tools compute the same from any
 * checkpoint's state, so "waiting: plan review" is a property of a checkpoint, not a guess.
 *
 * No I/O, no clock, no randomness: bundled into the workflow sandbox with ./state. Prices are ./pricing's.
 */
import type { TeamState } from './model';
import { formatUsd } from './pricing';
import type { Decision, HumanAnswer, HumanRequest, RequestKind } from './types';

/** Spent so far against the budget: USD and tokens. */
export const spentOf = (state: TeamState): { usd: number; tokens: number } => ({
  usd: state.usage.costUsd,
  tokens: state.usage.promptTokens + state.usage.completionTokens,
});

/** True when the run has spent its budget (with what was added): no step is sent past it. */
export function budgetExceeded(state: TeamState): boolean {
  const { maxUsd, maxTokens } = state.settings.budget;
  const { usd, tokens } = spentOf(state);
  const added = state.gates.budgetAdded;
  return (maxUsd !== null && usd >= maxUsd + added.usd) || (maxTokens !== null && tokens >= maxTokens + added.tokens);
}

const DECISIONS: Record<RequestKind, Decision[]> = {
  plan_review: ['approve', 'revise', 'reject'],
  step_approval: ['approve', 'revise', 'reject'],
  final_review: ['approve', 'revise', 'reject'],
  budget: ['add_budget', 'stop'],
};

/**
 * What the run waits on in this state, or null. Checked before every step, in this order: a final answer to
 * review; the budget (before a step is sent); a new plan to review; a step to approve before it runs.
 */
export function pendingRequest(state: TeamState): HumanRequest | null {
  if (state.rejected) return null;
  const { gates, budget } = state.settings;
  const ask = (kind: RequestKind, question: string, extra: Partial<HumanRequest> = {}): HumanRequest => ({
    id: `${kind}@${state.steps}#${state.answers.length}`,
    kind,
    step: state.steps,
    question,
    decisions: DECISIONS[kind],
    ...(gates.timeoutMs > 0
      ? { timeout: { ms: gates.timeoutMs, decision: kind === 'budget' ? 'stop' : gates.onTimeout } }
      : {}),
    ...extra,
  });
  if (state.phase === 'done') {
    if (gates.approveFinalAnswer && state.finalAnswer !== null && state.gates.finalApprovedAt !== state.steps) {
      return ask('final_review', 'Approve the final answer, ask for a revision, or reject it?', {
        answer: state.finalAnswer,
      });
    }
    return null;
  }
  const stopping = state.gates.stopForBudget || budget.onExceed === 'stop';
  if (budgetExceeded(state) && !stopping) {
    const { usd, tokens } = spentOf(state);
    const added = state.gates.budgetAdded;
    return ask(
      'budget',
      `The run has spent its budget (${formatUsd(usd)}, ${tokens.toLocaleString('en-US')} tokens): add to it, or stop ` +
        '(the orchestrator then writes its final answer from what the team has)?',
      {
        spent: { usd, tokens },
        limit: {
          usd: budget.maxUsd === null ? null : budget.maxUsd + added.usd,
          tokens: budget.maxTokens === null ? null : budget.maxTokens + added.tokens,
        },
      },
    );
  }
  // A plan just written (its round not started yet); a revise sends the run to replanning, which asks anew.
  const last = state.messages[state.messages.length - 1];
  if (
    gates.planReview &&
    state.phase === 'evaluating' &&
    last?.kind === 'plan' &&
    state.gates.planApprovedAt !== state.steps
  ) {
    return ask(`plan_review`, 'Approve the plan, ask for a revision, or reject the run?', {
      plan: state.plan ?? '',
    });
  }
  if (state.phase === 'delegating' && state.lastLedger) {
    const agent = state.lastLedger.next_speaker.answer;
    if (gates.approveSteps.includes(agent) && state.gates.stepApprovedAt !== state.steps) {
      return ask('step_approval', `Let ${agent} run with this instruction, ask for a revised plan, or reject?`, {
        agent,
        instruction: state.lastLedger.instruction_or_question.answer,
      });
    }
  }
  return null;
}

/**
 * Why `answer` cannot be taken in this state (the Update's validator refuses it, changing nothing), or null.
 * Stale answers (for an earlier request) and malformed ones are refused with a message naming the problem.
 */
export function checkAnswer(state: TeamState, answer: unknown): string | null {
  if (answer === null || typeof answer !== 'object')
    return 'an answer is an object like {"requestId": …, "decision": …}';
  const a = answer as Partial<HumanAnswer>;
  const taken = state.answers.find((r) => r.requestId === a.requestId);
  if (taken) {
    return `${taken.requestId} was answered already (${taken.decision}${taken.answeredBy ? ` by ${taken.answeredBy}` : ''}): nothing changed`;
  }
  const pending = pendingRequest(state);
  if (!pending) return 'the run is not waiting for an answer';
  if (a.requestId !== pending.id) {
    return `the run waits on ${pending.id} (${pending.kind}), not ${JSON.stringify(a.requestId)}: the answer is stale or mistyped`;
  }
  if (!a.decision || !pending.decisions.includes(a.decision)) {
    return (
      `the run waits on ${pending.kind.replace('_', ' ')} (${pending.id}), which takes ` +
      `${pending.decisions.join(', ')}, not ${JSON.stringify(a.decision ?? null)}`
    );
  }
  if (a.decision === 'revise' && (typeof a.feedback !== 'string' || !a.feedback.trim() || a.feedback.length > 4000)) {
    return 'revise needs feedback: what to change (1 to 4000 characters)';
  }
  if (a.reason !== undefined && (typeof a.reason !== 'string' || a.reason.length > 4000)) {
    return 'reason must be text of at most 4000 characters';
  }
  if (a.decision === 'add_budget') {
    const usd = a.addUsd ?? 0;
    const tokens = a.addTokens ?? 0;
    if (typeof usd !== 'number' || typeof tokens !== 'number' || usd < 0 || tokens < 0 || usd + tokens <= 0) {
      return 'add_budget needs addUsd and/or addTokens: positive numbers';
    }
  }
  if (a.answeredBy !== undefined && (typeof a.answeredBy !== 'string' || a.answeredBy.length > 200)) {
    return 'answeredBy must be text of at most 200 characters';
  }
  return null;
}

/**
 * Why an answer that fits would still not help (the Update's validator refuses it; recorded answers are never
 * checked against this, so it can grow stricter without breaking replay): more budget that leaves the run
 * over its limit, tokens for a budget without a token limit (or USD without a USD limit), a fraction of a token.
 */
export function uselessAnswer(state: TeamState, answer: HumanAnswer): string | null {
  if (answer.decision !== 'add_budget') return null;
  const { maxUsd, maxTokens } = state.settings.budget;
  const { usd, tokens } = spentOf(state);
  const added = state.gates.budgetAdded;
  const addUsd = answer.addUsd ?? 0;
  const addTokens = answer.addTokens ?? 0;
  if (!Number.isInteger(addTokens)) return `addTokens must be a whole number, got ${addTokens}`;
  if (addUsd > 0 && maxUsd === null) return 'the budget has no USD limit (budget.max_usd): add tokens instead';
  if (addTokens > 0 && maxTokens === null) return 'the budget has no token limit (budget.max_tokens): add USD instead';
  if (maxUsd !== null && usd >= maxUsd + added.usd + addUsd) {
    const limit = maxUsd + added.usd;
    return `the run has spent ${formatUsd(usd)} of ${formatUsd(limit)}: add more than ${formatUsd(usd - limit)}, not ${formatUsd(addUsd)}`;
  }
  if (maxTokens !== null && tokens >= maxTokens + added.tokens + addTokens) {
    const limit = maxTokens + added.tokens;
    return `the run has spent ${tokens} of ${limit} tokens: add more than ${tokens - limit}, not ${addTokens}`;
  }
  return null;
}

/** The decision a gate takes when no one answers in time: its configured action (a budget stops). */
export function timeoutAnswer(state: TeamState, request: HumanRequest): HumanAnswer {
  const decision: Decision = request.kind === 'budget' ? 'stop' : state.settings.gates.onTimeout;
  return {
    requestId: request.id,
    decision,
    timedOut: true,
    answeredBy: 'timeout',
    ...(decision === 'reject' ? { reason: `no answer within ${state.settings.gates.timeoutMs} ms` } : {}),
  };
}

/** Folds an answer into the state. Pure; throws for an answer that does not fit (the validator refuses those). */
export function applyAnswer(state: TeamState, answer: HumanAnswer): TeamState {
  const problem = checkAnswer(state, answer);
  if (problem) throw new Error(`answer ${answer.requestId}: ${problem}`);
  const request = pendingRequest(state)!;
  const next: TeamState = {
    ...state,
    answers: [
      ...state.answers,
      {
        requestId: request.id,
        kind: request.kind,
        step: state.steps,
        decision: answer.decision,
        ...(answer.feedback !== undefined ? { feedback: answer.feedback } : {}),
        ...(answer.reason !== undefined ? { reason: answer.reason } : {}),
        ...(answer.addUsd !== undefined ? { addUsd: answer.addUsd } : {}),
        ...(answer.addTokens !== undefined ? { addTokens: answer.addTokens } : {}),
        answeredBy: answer.answeredBy ?? null,
        ...(answer.timedOut ? { timedOut: true } : {}),
      },
    ],
  };
  const gates = next.gates;
  switch (answer.decision) {
    case 'approve':
      if (request.kind === 'plan_review') return { ...next, gates: { ...gates, planApprovedAt: state.steps } };
      if (request.kind === 'step_approval') return { ...next, gates: { ...gates, stepApprovedAt: state.steps } };
      return { ...next, gates: { ...gates, finalApprovedAt: state.steps } };
    case 'revise':
      // A new plan (or, for the final answer, a new final answer) written with the reviewer's feedback.
      return {
        ...next,
        phase: request.kind === 'final_review' ? 'finalizing' : 'replanning',
        gates: { ...gates, feedback: answer.feedback ?? null },
      };
    case 'reject':
      return {
        ...next,
        phase: 'done',
        rejected: { kind: request.kind, reason: answer.reason ?? '', by: answer.answeredBy ?? null },
      };
    case 'add_budget':
      return {
        ...next,
        gates: {
          ...gates,
          budgetAdded: {
            usd: gates.budgetAdded.usd + (answer.addUsd ?? 0),
            tokens: gates.budgetAdded.tokens + (answer.addTokens ?? 0),
          },
        },
      };
    case 'stop':
      return { ...next, gates: { ...gates, stopForBudget: true } };
  }
}
