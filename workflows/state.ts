/**
 * The team's state machine, as pure functions. The workflow runs it live; the checkpoint adapter folds
 * history with the very same `reduce` to show the state at any checkpoint. One implementation, used twice:
 * a change here changes both, and the replay tests guard that old histories still fold the same way.
 *
 * No I/O, no clock, no randomness: this module is bundled into the workflow sandbox.
 */
import { applyAnswer, budgetExceeded } from './gates';
import { InvalidTeamInput, ORCHESTRATOR, resolveSettings } from './input';
import type { AgentTurn, NextAction, TeamState, TurnRecord } from './model';
import { costOf } from './pricing';
import { messageOf, toolSpec } from './requests';
import type {
  FollowUp,
  HumanAnswer,
  PersonMessage,
  RestoreSeed,
  StepKind,
  StepResult,
  TeamInput,
  TeamResult,
  TeamSettings,
  ToolExchange,
  ToolSpec,
} from './types';

export type { AgentTurn, AnswerRecord, NextAction, Phase, TeamState } from './model';

/**
 * Something history records that changes the state: a step's result, an answer a person gave (or a gate's
 * timeout), or the tools the run's MCP servers offered when it started.
 */
export type RecordedEvent =
  { step: StepResult } | { answer: HumanAnswer } | { mcpTools: ToolSpec[] } | { message: PersonMessage };

/**
 * Applies one recorded event to the state: the one function the workflow (live) and the checkpoint tools (folding
 * history in its order) both apply, so the state at a checkpoint is the state the workflow had there.
 */
export function apply(state: TeamState, event: RecordedEvent): TeamState {
  if ('step' in event) return reduce(state, event.step);
  if ('answer' in event) return applyAnswer(state, event.answer);
  if ('message' in event) return withMessage(state, event.message);
  return withMcpTools(state, event.mcpTools);
}

/**
 * The state once a person's message is taken: in the inbox until a plan or progress ledger reads it (its result
 * names what it read, see `heard`); one that interrupts makes the next step a replan.
 */
export function withMessage(state: TeamState, message: PersonMessage): TeamState {
  return {
    ...state,
    inbox: [...(state.inbox ?? []), message],
    told: [...(state.told ?? []), message],
    ...(message.interrupt ? { replanFor: message.id } : {}),
  };
}

/**
 * The state once the run's MCP servers' tools are read (the `listMcpTools` activity's result, which history
 * records): they join the team's tools, and an agent's `mcp:<server>` stands for every tool of that server.
 */
export function withMcpTools(state: TeamState, specs: ToolSpec[]): TeamState {
  const team = state.settings.team;
  if (!team) return { ...state, mcpReady: true };
  const agents = team.agents.map((a) =>
    a.tools
      ? {
          ...a,
          tools: a.tools.flatMap((t) =>
            t.startsWith('mcp:') ? specs.filter((x) => x.source === t).map((x) => x.name) : [t],
          ),
        }
      : a,
  );
  return {
    ...state,
    mcpReady: true,
    settings: { ...state.settings, team: { ...team, agents, tools: [...(team.tools ?? []), ...specs] } },
  };
}

const STEP_KINDS: readonly StepKind[] = ['plan', 'ledger', 'agent', 'final', 'tool', 'summary'];

/**
 * The state a run starts from: before any agent ran (the entry checkpoint), or, for a run restored from a
 * checkpoint (`input.restore`), the state after the seeded steps, folded with {@link reduce}.
 */
export function initialState(input: TeamInput, loaded?: readonly StepResult[]): TeamState {
  const { task, settings } = resolveSettings(input);
  const empty = emptyState(task, settings);
  const seed = input.restore;
  if (seed === undefined) {
    if (input.followUp) throw new InvalidTeamInput('followUp needs a seed (restore): the conversation it continues');
    return empty;
  }
  if (seed === null || typeof seed !== 'object' || !Array.isArray(seed.steps)) {
    throw new InvalidTeamInput('restore must be an object with a steps array');
  }
  const steps = seed.pieces ? seedSteps(seed, loaded ?? []) : seed.steps;
  let state = empty;
  const answers = Array.isArray(seed.answers) ? seed.answers : [];
  const applySeedAnswers = (afterSteps: number): void => {
    for (const [i, a] of answers.entries()) {
      if (a?.afterSteps !== afterSteps) continue;
      try {
        state = applyAnswer(state, a.answer);
      } catch (err) {
        throw new InvalidTeamInput(`restore.answers[${i}]: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  // The messages people sent (`tell`), each after the step count it followed, as the run took them.
  const told = Array.isArray(seed.messages) ? seed.messages : [];
  const applySeedMessages = (afterSteps: number): void => {
    for (const [i, m] of told.entries()) {
      if (m?.afterSteps !== afterSteps) continue;
      if (!m.message || typeof m.message.text !== 'string' || typeof m.message.id !== 'string') {
        throw new InvalidTeamInput(`restore.messages[${i}] is not a message`);
      }
      state = withMessage(state, m.message);
    }
  };
  // The follow-ups the conversation took (earlier turns), each after the step count it followed.
  const turns = Array.isArray(seed.turns) ? seed.turns : [];
  const applySeedTurns = (afterSteps: number): void => {
    for (const [i, t] of turns.entries()) {
      if (t?.afterSteps !== afterSteps) continue;
      try {
        state = withTurn(state, t.followUp);
      } catch (err) {
        throw new InvalidTeamInput(`restore.turns[${i}]: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  // What people did after a step count: answers, then messages, then a follow-up that opened the next turn.
  const applySeedEvents = (afterSteps: number): void => {
    applySeedAnswers(afterSteps);
    applySeedMessages(afterSteps);
    applySeedTurns(afterSteps);
  };
  applySeedEvents(0);
  steps.forEach((step, i) => {
    if (!step || typeof step !== 'object' || !STEP_KINDS.includes(step.kind) || typeof step.content !== 'string') {
      throw new InvalidTeamInput(`restore.steps[${i}] is not a step result`);
    }
    const expected = nextAction(state);
    if (!expected || expected.kind !== step.kind) {
      throw new InvalidTeamInput(
        `restore.steps[${i}] is a ${step.kind} step, but the run expects ${expected ? `a ${expected.kind} step` : 'no more steps'} there`,
      );
    }
    try {
      state = reduce(state, step);
    } catch (err) {
      throw new InvalidTeamInput(`restore.steps[${i}]: ${err instanceof Error ? err.message : String(err)}`);
    }
    applySeedEvents(i + 1);
  });
  if (input.followUp) state = withTurn(state, input.followUp);
  const note = input.fork?.note;
  return typeof note === 'string' && note.trim() ? { ...state, note } : state;
}

/**
 * The state once a follow-up opens the next turn: the turn so far joins `turns`, the follow-up is the task, and
 * the loop starts again from a plan (rounds counted per turn); the conversation, its steps, usage and budget go on.
 * Messages people sent (`tell`) that the last turn did not read go on to this one.
 */
export function withTurn(state: TeamState, followUp: FollowUp): TeamState {
  const task = typeof followUp?.task === 'string' ? followUp.task.trim() : '';
  if (!task) throw new InvalidTeamInput('followUp.task is empty');
  const turns = [...(state.turns ?? []), turnRecordOf(state)];
  const limit = followUp.summarizeAfterChars;
  const due = typeof limit === 'number' && limit > 0 && earlierChars(state.summary, turns) > limit;
  const { summaryDue: _was, ...rest } = state;
  return {
    ...rest,
    ...(due ? { summaryDue: true as const } : {}),
    turns,
    asked: { by: followUp.by ?? null, at: String(followUp.at ?? '') },
    task,
    phase: 'planning',
    plan: null,
    round: 0,
    stallCount: 0,
    lastLedger: null,
    finalAnswer: null,
    cutShort: false,
    cutShortBy: null,
    turn: null,
    rejected: null,
    gates: { ...state.gates, feedback: null, stopForBudget: false },
  };
}

/** The turn a state is in, as a record: what was asked, by whom, its answer (if it has one), its step and usage. */
export function turnRecordOf(state: TeamState): TurnRecord {
  return {
    task: state.task,
    by: state.asked?.by ?? null,
    at: state.asked?.at ?? null,
    answer: state.phase === 'done' && !state.rejected ? state.finalAnswer : null,
    step: state.steps,
    usage: { ...state.usage },
  };
}

/** What the agents would read of the earlier turns: the summary, and the questions and answers of turns since. */
function earlierChars(summary: TeamState['summary'], turns: readonly TurnRecord[]): number {
  return turns
    .slice(summary?.turns ?? 0)
    .reduce((n, t) => n + t.task.length + (t.answer?.length ?? 0), summary?.text.length ?? 0);
}

/**
 * The steps a seed carries: inline (`restore.steps`), or, for one read in pieces, the pieces `loaded` so far with
 * the fork's edits in place (see {@link RestoreSeed.pieces}).
 */
export function seedSteps(seed: RestoreSeed, loaded: readonly StepResult[]): StepResult[] {
  if (!seed.pieces) return seed.steps;
  const steps = [...loaded];
  for (const r of seed.pieces.replace ?? []) if (r.index < steps.length) steps[r.index] = r.result;
  return steps;
}

function emptyState(task: string, settings: TeamSettings): TeamState {
  return {
    task,
    settings,
    phase: 'planning',
    plan: null,
    messages: [],
    round: 0,
    stallCount: 0,
    replans: 0,
    steps: 0,
    lastLedger: null,
    finalAnswer: null,
    cutShort: false,
    cutShortBy: null,
    usage: { promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0, llmCalls: 0, costUsd: 0 },
    gates: {
      planApprovedAt: null,
      stepApprovedAt: null,
      finalApprovedAt: null,
      feedback: null,
      budgetAdded: { usd: 0, tokens: 0 },
      stopForBudget: false,
    },
    answers: [],
    rejected: null,
    turn: null,
    mcpReady: settings.mcpServers.length === 0,
  };
}

/**
 * What runs next, derived from the state alone (the workflow first asks {@link pendingRequest} whether it must
 * wait for a person). Past the budget, with a stop decided, the next step is the final answer, cut short.
 */
export function nextAction(state: TeamState): NextAction | null {
  if (
    state.phase !== 'done' &&
    budgetExceeded(state) &&
    (state.gates.stopForBudget || state.settings.budget.onExceed === 'stop')
  ) {
    return { kind: 'final', agent: ORCHESTRATOR, round: state.round, cutShort: true, cutShortBy: 'budget' };
  }
  // A person interrupted: the orchestrator replans with their message (once the tool calls in flight are in).
  if (state.replanFor && state.phase !== 'done' && toolActions(state).length === 0) {
    return { kind: 'plan', agent: 'orchestrator', round: state.round, replan: true };
  }
  switch (state.phase) {
    case 'planning':
      // A follow-up whose earlier turns outgrew the threshold: their summary first, then the plan.
      if (state.summaryDue) return { kind: 'summary', agent: ORCHESTRATOR, round: 0 };
      return { kind: 'plan', agent: 'orchestrator', round: state.round };
    case 'replanning':
      return { kind: 'plan', agent: 'orchestrator', round: state.round, replan: true };
    case 'evaluating':
      if (state.round >= state.settings.maxRounds) {
        return { kind: 'final', agent: 'orchestrator', round: state.round, cutShort: true };
      }
      return { kind: 'ledger', agent: 'orchestrator', round: state.round + 1 };
    case 'delegating': {
      const ledger = state.lastLedger;
      if (!ledger) throw new Error('delegating without a progress ledger');
      return {
        kind: 'agent',
        agent: ledger.next_speaker.answer,
        round: state.round,
        instruction: ledger.instruction_or_question.answer,
      };
    }
    case 'acting': {
      const turn = state.turn;
      if (!turn) throw new Error('acting without an agent turn');
      const waiting = toolActions(state);
      if (waiting.length > 0) return waiting[0]!;
      // Every call of the last exchange has its result: the agent's next model call, with them.
      return { kind: 'agent', agent: turn.agent, round: turn.round, instruction: turn.instruction };
    }
    case 'finalizing':
      return { kind: 'final', agent: 'orchestrator', round: state.round, cutShort: state.cutShort };
    case 'done':
      return null;
  }
}

/** The tool calls of the agent turn that still wait for their result: they run at once, in parallel. */
export function toolActions(state: TeamState): NextAction[] {
  const turn = state.turn;
  if (state.phase !== 'acting' || !turn) return [];
  const results = turn.exchanges[turn.exchanges.length - 1]?.results ?? {};
  return turn.running
    .filter((r) => !(r.call.id in results))
    .map((r) => ({
      kind: 'tool' as const,
      agent: turn.agent,
      round: turn.round,
      call: r.call,
      stepIndex: r.stepIndex,
    }));
}

/** Folds one completed step into the state. Pure: returns a new state, never mutates. */
export function reduce(state: TeamState, step: StepResult): TeamState {
  // A tool step keeps the number it was given when the model asked for it (parallel calls end in any order).
  const message = messageOf(step.kind === 'tool' ? step.stepIndex : state.steps, step);
  const messages = [...state.messages, message].sort((a, b) => a.step - b.step);
  const next: TeamState = {
    ...state,
    steps: state.steps + 1,
    messages,
    usage: {
      promptTokens: state.usage.promptTokens + step.usage.promptTokens,
      cachedPromptTokens: state.usage.cachedPromptTokens + (step.usage.cachedPromptTokens ?? 0),
      completionTokens: state.usage.completionTokens + step.usage.completionTokens,
      llmCalls: state.usage.llmCalls + (step.kind === 'tool' ? 0 : 1),
      costUsd: state.usage.costUsd + costOf(step.usage, step.model, state.settings.pricing),
    },
    // A plan or final answer written with a reviewer's feedback has used it.
    gates: step.kind === 'plan' || step.kind === 'final' ? { ...state.gates, feedback: null } : state.gates,
  };
  // The people's messages this plan or ledger read leave the inbox (others may have come in meanwhile).
  if (step.heard?.length) {
    const inbox = (state.inbox ?? []).filter((m) => !step.heard!.includes(m.id));
    if (inbox.length) next.inbox = inbox;
    else delete next.inbox;
  }
  switch (step.kind) {
    case 'plan': {
      // The replan a person's message asked for (it read that message) ends the agent turn it interrupted. The
      // check is by id: a message that came in with this plan's result still gets its own replan.
      const asked = state.replanFor !== undefined && (step.heard ?? []).includes(state.replanFor);
      const { replanFor: _done, ...planned } = next;
      return {
        ...(asked ? { ...planned, turn: null } : next),
        plan: step.content,
        phase: 'evaluating',
        stallCount: 0,
        replans: step.replan ? state.replans + 1 : state.replans,
      };
    }
    case 'ledger': {
      const ledger = step.ledger;
      if (!ledger) throw new Error(`ledger step ${state.steps} carries no progress ledger`);
      // A person's note goes with one ledger: this one read it.
      const { note: _read, ...rest } = next;
      const base = { ...rest, round: step.round, lastLedger: ledger };
      if (ledger.is_request_satisfied.answer) return { ...base, phase: 'finalizing', cutShort: false };
      const stalled = ledger.is_in_loop.answer || !ledger.is_progress_being_made.answer;
      const stallCount = stalled ? state.stallCount + 1 : Math.max(0, state.stallCount - 1);
      if (stallCount > state.settings.maxStalls) return { ...base, stallCount, phase: 'replanning' };
      return { ...base, stallCount, phase: 'delegating' };
    }
    case 'agent':
      if (step.toolCalls?.length) return { ...next, phase: 'acting', turn: startExchange(state, step) };
      return { ...next, phase: 'evaluating', turn: null };
    case 'tool': {
      const turn = state.turn;
      const call = step.tool?.call;
      if (!turn || !call || !turn.running.some((r) => r.call.id === call.id)) {
        throw new Error(`tool step ${step.stepIndex + 1} answers no call the run is waiting on`);
      }
      const exchanges = [...turn.exchanges];
      const last = exchanges[exchanges.length - 1]!;
      exchanges[exchanges.length - 1] = {
        ...last,
        results: { ...last.results, [call.id]: { content: step.content, ok: step.tool!.ok, step: step.stepIndex + 1 } },
      };
      return { ...next, turn: { ...turn, exchanges } };
    }
    case 'summary': {
      // It covers every earlier turn: the agents read it instead of them from now on.
      const { summaryDue: _done, ...summarized } = next;
      return { ...summarized, summary: { text: step.content, step: state.steps + 1, turns: state.turns?.length ?? 0 } };
    }
    case 'final':
      return {
        ...next,
        phase: 'done',
        finalAnswer: step.content,
        cutShort: step.cutShort ?? false,
        cutShortBy: step.cutShort ? (step.cutShortBy ?? 'max_rounds') : null,
      };
  }
}

/**
 * The exchange an agent's tool calls open: each call within the turn's limit runs (as its own step, numbered
 * right after the agent's); a call past it gets a result saying so without running.
 */
function startExchange(state: TeamState, step: StepResult): AgentTurn {
  const calls = step.toolCalls!;
  const turn: AgentTurn = state.turn ?? {
    agent: step.agent,
    round: step.round,
    instruction: step.instruction ?? '',
    exchanges: [],
    callsUsed: 0,
    running: [],
  };
  const allowed = Math.max(0, state.settings.tools.maxToolCallsPerStep - turn.callsUsed);
  const results: ToolExchange['results'] = {};
  const running: AgentTurn['running'] = [];
  const offered = state.settings.team?.agents.find((a) => a.name === step.agent)?.tools ?? [];
  calls.forEach((call) => {
    if (!offered.includes(call.name) || !toolSpec(state, call.name)) {
      results[call.id] = {
        content: `not run: no tool named "${call.name}" is offered to ${step.agent}`,
        ok: false,
        step: null,
      };
    } else if (running.length < allowed) {
      running.push({ call, stepIndex: state.steps + 1 + running.length });
    } else {
      results[call.id] = {
        content: `not run: this turn reached max_tool_calls_per_step (${state.settings.tools.maxToolCallsPerStep}); answer with what you have`,
        ok: false,
        step: null,
      };
    }
  });
  return {
    ...turn,
    exchanges: [...turn.exchanges, { calls, results }],
    callsUsed: turn.callsUsed + calls.length,
    running,
  };
}

/** The workflow's return value for a finished state. */
export function resultOf(state: TeamState): TeamResult {
  const { promptTokens, completionTokens, llmCalls, cachedPromptTokens, costUsd } = state.usage;
  return {
    task: state.task,
    answer: state.finalAnswer ?? '',
    cutShort: state.cutShort,
    ...(state.cutShortBy === 'budget' ? { cutShortBy: 'budget' as const } : {}),
    rounds: state.round,
    replans: state.replans,
    steps: state.steps,
    // A follow-up's turn (a conversation's first turn, and every older result, leaves it out).
    ...(state.turns?.length ? { turn: state.turns.length + 1 } : {}),
    // Runs priced (every run `agent-team run` starts) report their cost; the shape of older results is kept.
    usage: {
      promptTokens,
      completionTokens,
      llmCalls,
      ...(cachedPromptTokens ? { cachedPromptTokens } : {}),
      ...(Object.keys(state.settings.pricing).length ? { costUsd } : {}),
    },
  };
}
