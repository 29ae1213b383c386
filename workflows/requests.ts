/**
 * What a step sends: the activity input for the next action (`callAgent`'s step request, `callTool`'s tool
 * request) and the conversation the agents see, all derived from the state.
 *
 * No I/O, no clock, no randomness: bundled into the workflow sandbox.
 */
import { ORCHESTRATOR } from './input';
import type { NextAction, TeamState } from './model';
import {
  TOOL_MAX_ATTEMPTS,
  type ForkOrigin,
  type StepKind,
  type StepRequest,
  type StepResult,
  type TeamMessage,
  type ToolRequest,
  type ToolSpec,
} from './types';

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
  if (action.kind === 'ledger' && state.note) request.note = state.note;
  if ((action.kind === 'ledger' || action.kind === 'plan') && state.inbox?.length) request.messages = state.inbox;
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

/**
 * The conversation the agents see: the plans and the members' answers (not the ledgers, nor tool calls and results).
 * In a follow-up turn, the earlier turns come first, each as what was asked and the team's final answer (`asked`
 * set), then this turn's plans and answers: the work behind an earlier answer is in its checkpoints, not resent.
 */
export function transcriptOf(state: TeamState): TeamMessage[] {
  const turns = state.turns ?? [];
  if (turns.length === 0) return state.messages.filter((m) => inTranscript(m));
  const since = turns[turns.length - 1]!.step;
  const summary = state.summary;
  return [
    // The summary of the first turns (a step of its own), then the turns since it, each as asked and answered.
    ...(summary
      ? [{ step: summary.step, kind: 'summary' as const, agent: ORCHESTRATOR, round: 0, content: summary.text }]
      : []),
    ...turns.slice(summary?.turns ?? 0).map((t): TeamMessage => ({
      step: t.step,
      kind: 'final',
      agent: ORCHESTRATOR,
      round: 0,
      content: t.answer ?? '(no final answer: the person followed up before the team answered)',
      asked: t.task,
    })),
    ...state.messages.filter((m) => m.step > since && inTranscript(m)),
  ];
}

/** One page of the conversation (see the `transcriptPage` query): messages from `from` that fit in `maxBytes`. */
export interface TranscriptPage {
  messages: TeamMessage[];
  /** How many messages the whole conversation has. */
  total: number;
  /** The step count it is the conversation before: a page of another moment is not mixed with this one. */
  steps: number;
}

/**
 * A page of {@link transcriptOf}: from message `from`, as many as fit in `maxBytes` of JSON (at least one), so that
 * a conversation of any size is fetched under Temporal's 2 MB limit on a query's result.
 */
export function transcriptPage(state: TeamState, from: number, maxBytes: number): TranscriptPage {
  const all = transcriptOf(state);
  const messages: TeamMessage[] = [];
  let bytes = 0;
  for (let i = Math.max(0, from); i < all.length; i++) {
    const size = utf8Length(JSON.stringify(all[i]));
    if (messages.length > 0 && bytes + size > maxBytes) break;
    messages.push(all[i]!);
    bytes += size;
  }
  return { messages, total: all.length, steps: state.steps };
}

/** The UTF-8 length of a string (the workflow sandbox has no Buffer). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? 4 : c >= 0xdc00 && c < 0xe000 ? 0 : 3;
  }
  return n;
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

/** Arguments as a canonical string (keys sorted): two calls match when their tool and this are equal. */
function canonicalArguments(text: string): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  try {
    return JSON.stringify(sort(JSON.parse(text || '{}')));
  } catch {
    return text;
  }
}

/**
 * In a replay branch, what a tool call gets instead of running: the source's result of the first unused recorded
 * call with the same tool and arguments (marked used in `used`), or, for an unmatched call to a tool that is not
 * read-only, a result saying it was not run. Undefined: the call runs (a live branch, or a read-only tool).
 */
export function replayFor(
  fork: ForkOrigin | undefined,
  request: ToolRequest,
  used: Set<number>,
): ToolRequest['replay'] | undefined {
  if (fork?.tools !== 'replay') return undefined;
  const args = canonicalArguments(request.call.arguments);
  const recorded = fork.recordedTools ?? [];
  const match = recorded.findIndex(
    (r, i) => !used.has(i) && r.name === request.call.name && canonicalArguments(r.arguments) === args,
  );
  if (match >= 0) {
    used.add(match);
    const r = recorded[match]!;
    return { content: r.content, ok: r.ok, from: r.from };
  }
  if (request.spec.sideEffects === 'none') return undefined;
  return {
    notRun:
      `tool ${request.call.name} was not run: this is a replay branch (a fork that changes nothing outside), and ` +
      `the source made no call to it with these arguments; its side effects (${request.spec.sideEffects}) are not ` +
      'repeated here. Answer without its result.',
  };
}
