/**
 * The team's state machine, as pure functions. The workflow runs it live; the checkpoint adapter folds
 * history with the very same `reduce` to show the state at any checkpoint. One implementation, used twice:
 * a change here changes both, and the replay tests guard that old histories still fold the same way.
 *
 * No I/O, no clock, no randomness: this module is bundled into the workflow sandbox.
 */
import { applyAnswer, budgetExceeded, costOf } from './gates';
import {
  DEFAULT_SETTINGS,
  MAX_TASK_CHARS,
  TOOL_MAX_ATTEMPTS,
  type BudgetSettings,
  type Decision,
  type GateSettings,
  type ModelPrice,
  type RequestKind,
  type StepKind,
  type StepRequest,
  type StepResult,
  type TeamInput,
  type TeamMessage,
  type TeamResult,
  type TeamSettings,
  type ProgressLedger,
  type TeamDefinition,
  type TokenUsage,
  type ToolCall,
  type ToolExchange,
  type ToolRequest,
  type ToolSettings,
  type ToolSpec,
  type McpServerSpec,
} from './types';

/** Where the loop stands: which kind of step comes next. */
export type Phase = 'planning' | 'replanning' | 'evaluating' | 'delegating' | 'acting' | 'finalizing' | 'done';

/** An agent's turn with tools: the calls it asked for, their results, and what is still running. */
export interface AgentTurn {
  agent: string;
  round: number;
  instruction: string;
  /** Each round trip of the turn: the calls the model asked for, and the results so far. */
  exchanges: ToolExchange[];
  /** Tool calls run (or refused for the limit) in this turn. */
  callsUsed: number;
  /** The calls of the last exchange that run, with the step number each was given (results may come in any order). */
  running: { call: ToolCall; stepIndex: number }[];
}

/** The complete state of a run at one point: what `loadCheckpoint` returns. */
export interface TeamState {
  task: string;
  settings: TeamSettings;
  phase: Phase;
  /** The orchestrator's current plan (task ledger); null before the first plan. */
  plan: string | null;
  /** Every step's output, in order. */
  messages: TeamMessage[];
  /** Rounds started (one progress ledger each). */
  round: number;
  stallCount: number;
  replans: number;
  /** Completed steps. */
  steps: number;
  lastLedger: ProgressLedger | null;
  finalAnswer: string | null;
  cutShort: boolean;
  /** What cut the run short, when something did. */
  cutShortBy: 'max_rounds' | 'budget' | null;
  /** Tokens, calls and their cost at the run's prices (`cachedPromptTokens`: of the prompt tokens, cached). */
  usage: Required<TokenUsage> & { llmCalls: number; costUsd: number };
  /** Where the gates stand (see ./gates). */
  gates: {
    /** `steps` when the current plan, the next step, the final answer were approved. */
    planApprovedAt: number | null;
    stepApprovedAt: number | null;
    finalApprovedAt: number | null;
    /** A reviewer's request for changes, for the next plan or final answer. */
    feedback: string | null;
    /** Budget added by answers. */
    budgetAdded: { usd: number; tokens: number };
    /** An answer (or `on_exceed: stop`) said to stop at the budget. */
    stopForBudget: boolean;
  };
  /** Every answer the run took, in order: the audit trail of its gates. */
  answers: AnswerRecord[];
  /** Set when a person rejected the run (the run then ends). */
  rejected: { kind: RequestKind; reason: string; by: string | null } | null;
  /** The agent turn that is calling tools (phase `acting`); null otherwise. */
  turn: AgentTurn | null;
  /** Set once the run's MCP servers' tools are read (and in the team): the run's first activity when it has servers. */
  mcpReady: boolean;
}

/** An answer as the state records it. */
export interface AnswerRecord {
  requestId: string;
  kind: RequestKind;
  /** Steps completed when it was asked. */
  step: number;
  decision: Decision;
  feedback?: string;
  reason?: string;
  addUsd?: number;
  addTokens?: number;
  answeredBy: string | null;
  timedOut?: boolean;
}

/** The next step to run, or null when the run is done. */
export interface NextAction {
  kind: StepKind;
  agent: string;
  round: number;
  instruction?: string;
  replan?: boolean;
  cutShort?: boolean;
  cutShortBy?: 'max_rounds' | 'budget';
  /** `tool` actions: the call, and the step number it was given when the model asked for it. */
  call?: ToolCall;
  stepIndex?: number;
}

/** Raised for a workflow input that can never succeed; the workflow turns it into a non-retryable failure. */
export class InvalidTeamInput extends Error {
  override readonly name = 'InvalidTeamInput';
}

function positiveInt(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidTeamInput(`${field} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks a workflow input and fills in the defaults. Throws {@link InvalidTeamInput} naming the bad field. */
export function resolveSettings(input: TeamInput): { task: string; settings: TeamSettings } {
  if (input === null || typeof input !== 'object') {
    throw new InvalidTeamInput('input must be an object like {"task": "…"}');
  }
  const task = typeof input.task === 'string' ? input.task.trim() : '';
  if (!task) throw new InvalidTeamInput('task must be a non-empty string');
  if (task.length > MAX_TASK_CHARS) {
    throw new InvalidTeamInput(`task is ${task.length} characters; the limit is ${MAX_TASK_CHARS}`);
  }
  const d = DEFAULT_SETTINGS;
  const llm = { ...d.llm, ...(input.llm ?? {}) };
  const autoResume = { ...d.autoResume, ...(input.autoResume ?? {}) };
  const settings: TeamSettings = {
    maxRounds: positiveInt(input.maxRounds ?? d.maxRounds, 'maxRounds', 1),
    maxStalls: positiveInt(input.maxStalls ?? d.maxStalls, 'maxStalls', 0),
    llm: {
      timeoutMs: positiveInt(llm.timeoutMs, 'llm.timeoutMs', 1),
      maxAttempts: positiveInt(llm.maxAttempts, 'llm.maxAttempts', 1),
      initialRetryMs: positiveInt(llm.initialRetryMs, 'llm.initialRetryMs', 1),
      maxRetryMs: positiveInt(llm.maxRetryMs, 'llm.maxRetryMs', 1),
      backoffCoefficient: llm.backoffCoefficient >= 1 ? llm.backoffCoefficient : 1,
      heartbeatMs: positiveInt(llm.heartbeatMs, 'llm.heartbeatMs', 1),
    },
    autoResume: {
      enabled: autoResume.enabled !== false,
      maxAttempts: positiveInt(autoResume.maxAttempts, 'autoResume.maxAttempts', 0),
      initialDelayMs: positiveInt(autoResume.initialDelayMs, 'autoResume.initialDelayMs', 1),
      maxDelayMs: positiveInt(autoResume.maxDelayMs, 'autoResume.maxDelayMs', 1),
    },
    team: input.team === undefined ? null : checkTeam(input.team),
    gates: checkGates({ ...d.gates, ...(input.gates ?? {}) }),
    budget: checkBudget({ ...d.budget, ...(input.budget ?? {}) }),
    pricing: checkPricing(input.pricing ?? {}),
    tools: checkTools({ ...d.tools, ...(input.tools ?? {}) }),
    mcpServers: checkMcpServers(input.mcpServers ?? []),
  };
  if (settings.team) checkAgentTools(settings.team, settings.mcpServers);
  return { task, settings };
}

function checkMcpServers(servers: McpServerSpec[]): McpServerSpec[] {
  if (!Array.isArray(servers)) throw new InvalidTeamInput('mcpServers must be a list');
  const names = new Set<string>();
  servers.forEach((s, i) => {
    if (!s || typeof s.name !== 'string' || !/^[a-zA-Z0-9_-]{1,32}$/.test(s.name)) {
      throw new InvalidTeamInput(`mcpServers[${i}].name must be 1-32 letters, digits, _ or -`);
    }
    if ((typeof s.command === 'string') === (typeof s.url === 'string')) {
      throw new InvalidTeamInput(`mcpServers[${i}] (${s.name}) needs a command or a url (one of them)`);
    }
    if (names.has(s.name)) throw new InvalidTeamInput(`mcpServers: "${s.name}" appears twice`);
    names.add(s.name);
  });
  return servers;
}

/** Every tool an agent names is in the team's tools, or is `mcp:<server>` of a configured server. */
function checkAgentTools(team: TeamDefinition, servers: McpServerSpec[]): void {
  const tools = new Set((team.tools ?? []).map((t) => t.name));
  team.agents.forEach((a, i) => {
    for (const name of a.tools ?? []) {
      const server = name.startsWith('mcp:') ? name.slice(4) : null;
      if (server !== null ? !servers.some((x) => x.name === server) : !tools.has(name)) {
        throw new InvalidTeamInput(
          `team.agents[${i}].tools: ` +
            (server !== null
              ? `no MCP server named "${server}" in mcpServers`
              : `no tool named "${name}" in team.tools`),
        );
      }
    }
  });
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

function checkTools(t: ToolSettings): ToolSettings {
  if (t.workspace !== null && (typeof t.workspace !== 'string' || !t.workspace)) {
    throw new InvalidTeamInput('tools.workspace must be a directory path, or null');
  }
  positiveInt(t.maxToolCallsPerStep, 'tools.maxToolCallsPerStep', 0);
  positiveInt(t.maxResultChars, 'tools.maxResultChars', 100);
  positiveInt(t.timeoutMs, 'tools.timeoutMs', 1);
  positiveInt(t.runCodeMemoryMb, 'tools.runCodeMemoryMb', 16);
  return t;
}

function checkGates(g: GateSettings): GateSettings {
  for (const key of ['planReview', 'approveFinalAnswer'] as const) {
    if (typeof g[key] !== 'boolean') throw new InvalidTeamInput(`gates.${key} must be true or false`);
  }
  if (!Array.isArray(g.approveSteps) || g.approveSteps.some((a) => typeof a !== 'string')) {
    throw new InvalidTeamInput('gates.approveSteps must be a list of agent names');
  }
  positiveInt(g.timeoutMs, 'gates.timeoutMs', 0);
  if (g.onTimeout !== 'approve' && g.onTimeout !== 'reject') {
    throw new InvalidTeamInput(`gates.onTimeout must be "approve" or "reject", got ${JSON.stringify(g.onTimeout)}`);
  }
  return g;
}

function checkBudget(b: BudgetSettings): BudgetSettings {
  for (const key of ['maxUsd', 'maxTokens'] as const) {
    const v = b[key];
    if (v !== null && !(typeof v === 'number' && v > 0)) {
      throw new InvalidTeamInput(`budget.${key} must be a number > 0, or null for no limit`);
    }
  }
  if (b.onExceed !== 'pause' && b.onExceed !== 'stop') {
    throw new InvalidTeamInput(`budget.onExceed must be "pause" or "stop", got ${JSON.stringify(b.onExceed)}`);
  }
  return b;
}

function checkPricing(pricing: Record<string, ModelPrice>): Record<string, ModelPrice> {
  if (pricing === null || typeof pricing !== 'object') throw new InvalidTeamInput('pricing must be an object');
  for (const [model, price] of Object.entries(pricing)) {
    for (const key of ['input', 'cachedInput', 'output'] as const) {
      if (!price || typeof price[key] !== 'number' || price[key] < 0) {
        throw new InvalidTeamInput(`pricing.${model}.${key} must be a number ≥ 0 (USD per million tokens)`);
      }
    }
  }
  return pricing;
}

/** The orchestrator: every team has one; it plans, judges progress and writes the final answer. */
export const ORCHESTRATOR = 'orchestrator';

function checkTeam(team: TeamDefinition): TeamDefinition {
  if (team === null || typeof team !== 'object' || !Array.isArray(team.agents)) {
    throw new InvalidTeamInput('team must be an object like {"agents": [...], "temperature": 0}');
  }
  const names = new Set<string>();
  team.agents.forEach((a, i) => {
    for (const field of ['name', 'description', 'model', 'prompt'] as const) {
      if (!a || typeof a[field] !== 'string' || !a[field]) {
        throw new InvalidTeamInput(`team.agents[${i}].${field} must be a non-empty string`);
      }
    }
    if (names.has(a.name)) throw new InvalidTeamInput(`team.agents: "${a.name}" appears twice`);
    names.add(a.name);
  });
  const tools = new Set<string>();
  (team.tools ?? []).forEach((t, i) => {
    if (!t || typeof t.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(t.name)) {
      throw new InvalidTeamInput(`team.tools[${i}].name must be 1-64 letters, digits, _ or -`);
    }
    if (!['none', 'idempotent', 'destructive'].includes(t.sideEffects)) {
      throw new InvalidTeamInput(`team.tools[${i}].sideEffects must be none, idempotent or destructive`);
    }
    if (tools.has(t.name)) throw new InvalidTeamInput(`team.tools: "${t.name}" appears twice`);
    tools.add(t.name);
  });
  if (!names.has(ORCHESTRATOR)) throw new InvalidTeamInput(`team.agents: the team needs an "${ORCHESTRATOR}"`);
  if (names.size < 2) throw new InvalidTeamInput('team.agents: the team needs a member besides the orchestrator');
  if (typeof team.temperature !== 'number' || !(team.temperature >= 0 && team.temperature <= 2)) {
    throw new InvalidTeamInput(
      `team.temperature must be a number from 0 to 2, got ${JSON.stringify(team.temperature)}`,
    );
  }
  return team;
}

const STEP_KINDS: readonly StepKind[] = ['plan', 'ledger', 'agent', 'final', 'tool'];

/**
 * The state a run starts from: before any agent ran (the entry checkpoint), or, for a run restored from a
 * checkpoint (`input.restore`), the state after the seeded steps, folded with {@link reduce}.
 */
export function initialState(input: TeamInput): TeamState {
  const { task, settings } = resolveSettings(input);
  const empty = emptyState(task, settings);
  const seed = input.restore;
  if (seed === undefined) return empty;
  if (seed === null || typeof seed !== 'object' || !Array.isArray(seed.steps)) {
    throw new InvalidTeamInput('restore must be an object with a steps array');
  }
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
  applySeedAnswers(0);
  seed.steps.forEach((step, i) => {
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
    applySeedAnswers(i + 1);
  });
  return state;
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
  switch (state.phase) {
    case 'planning':
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

/** A tool call's one-line summary for the Web UI: `step 5 · coder · tool run_code {"language":"javascript",…}`. */
export function toolSummary(req: ToolRequest): string {
  const args = req.call.arguments.replace(/\s+/g, ' ');
  return `step ${req.stepIndex + 1} · ${req.agent} · round ${req.round} · tool ${req.call.name} ${args.length > 60 ? `${args.slice(0, 59)}…` : args}`;
}

/** A tool of the run's team, by name. */
export const toolSpec = (state: TeamState, name: string): ToolSpec | undefined =>
  state.settings.team?.tools?.find((t) => t.name === name);

/**
 * The `callTool` input for a tool action. `runKey` (`<workflowId percent-encoded>/<runId>`) makes the idempotency key: the same
 * across the activity's retries, new in a run resumed from before the call.
 */
export function toolRequestFor(state: TeamState, action: NextAction, runKey: string): ToolRequest {
  const call = action.call!;
  const spec = toolSpec(state, call.name) ?? {
    name: call.name,
    description: '',
    parameters: {},
    sideEffects: 'destructive' as const,
    source: 'unknown',
  };
  return {
    agent: action.agent,
    round: action.round,
    stepIndex: action.stepIndex!,
    call,
    spec,
    idempotencyKey: `${runKey}/${action.stepIndex! + 1}/${call.id}`,
    settings: state.settings.tools,
    ...(spec.source.startsWith('mcp:')
      ? { mcpServer: state.settings.mcpServers.find((x) => `mcp:${x.name}` === spec.source)! }
      : {}),
    maxAttempts: spec.sideEffects === 'destructive' ? 1 : TOOL_MAX_ATTEMPTS,
  };
}

/**
 * The activity input for an action: the task, the plan and the step. The conversation is not in it (the
 * activity queries it, see {@link transcriptOf}): resending it with every step would make history grow
 * quadratically with the conversation.
 */
export function requestFor(state: TeamState, action: NextAction): StepRequest {
  const request: StepRequest = { ...action, stepIndex: state.steps, task: state.task, plan: state.plan };
  const feedback = state.gates.feedback;
  if (feedback !== null && (action.kind === 'plan' || action.kind === 'final')) request.feedback = feedback;
  const team = state.settings.team;
  if (!team) return request;
  const speaker = team.agents.find((a) => a.name === action.agent);
  if (speaker) request.speaker = { model: speaker.model, prompt: speaker.prompt, temperature: team.temperature };
  if (action.kind === 'agent' && speaker?.tools?.length) {
    const used = state.turn?.callsUsed ?? 0;
    // Past the limit the agent answers without tools.
    if (used < state.settings.tools.maxToolCallsPerStep) {
      request.tools = speaker.tools.map((name) => team.tools!.find((t) => t.name === name)!);
    }
    if (state.turn) request.toolTurn = state.turn.exchanges;
  }
  if (action.kind === 'plan' || action.kind === 'ledger') {
    request.members = team.agents
      .filter((a) => a.name !== ORCHESTRATOR)
      .map((a) => ({ name: a.name, description: a.description }));
  }
  return request;
}

/** The conversation the agents see: the plans and the members' answers (not the ledgers, nor tool calls and results). */
export function transcriptOf(state: TeamState): TeamMessage[] {
  return state.messages.filter((m) => inTranscript(m));
}

/** The message a completed step adds to the conversation (`stepIndex`: the step's 0-based index in the run). */
export function messageOf(stepIndex: number, step: StepResult): TeamMessage {
  return {
    step: stepIndex + 1,
    kind: step.kind,
    agent: step.agent,
    round: step.round,
    content: step.content,
    ...(step.instruction !== undefined ? { instruction: step.instruction } : {}),
    ...(step.toolCalls?.length ? { toolCalls: step.toolCalls.length } : {}),
  };
}

/**
 * Whether the agents see a step's output in their conversation (see {@link transcriptOf}): plans and members'
 * answers, not an answer that only asked for tools (the agent's final answer of the turn says what they gave).
 */
export const inTranscript = (m: { kind: StepKind; toolCalls?: unknown }): boolean =>
  m.kind === 'plan' || (m.kind === 'agent' && !(Array.isArray(m.toolCalls) ? m.toolCalls.length : m.toolCalls));

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
  switch (step.kind) {
    case 'plan':
      return {
        ...next,
        plan: step.content,
        phase: 'evaluating',
        stallCount: 0,
        replans: step.replan ? state.replans + 1 : state.replans,
      };
    case 'ledger': {
      const ledger = step.ledger;
      if (!ledger) throw new Error(`ledger step ${state.steps} carries no progress ledger`);
      const base = { ...next, round: step.round, lastLedger: ledger };
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

export {
  applyAnswer,
  budgetExceeded,
  checkAnswer,
  costOf,
  pendingRequest,
  timeoutAnswer,
  uselessAnswer,
} from './gates';

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

/** The name of a step's kind, as every command and the Web UI print it (a replan is a `plan` step). */
export const kindLabel = (s: { kind: StepKind; replan?: boolean }): string =>
  s.kind === 'plan' && s.replan ? 'replan' : s.kind;

/**
 * A one-line summary of a step, for the Temporal Web UI's timeline: `step 3 · researcher · round 1 · <instruction>`.
 * Step numbers count from 1 (`stepIndex` + 1), as every command prints them; checkpoint N is the state after step N.
 */
export function stepSummary(
  step: Pick<StepRequest, 'kind' | 'agent' | 'round' | 'instruction' | 'replan' | 'stepIndex'>,
): string {
  const what = step.kind === 'agent' ? (step.instruction ?? '').replace(/\s+/g, ' ').slice(0, 60) : kindLabel(step);
  return `step ${step.stepIndex + 1} · ${step.agent} · round ${step.round} · ${what}`;
}
