/**
 * One agent step without Temporal: one Chat Completions call, its answer validated. `callAgent` wraps it in an
 * activity; the benchmarks run the very same function in a plain loop and in LangGraph.
 *
 * Who speaks, with which model and prompt, comes from the step's request (the run's own team, recorded in its
 * input). Runs started without a team (e.g. `temporal workflow start --input '{"task": …}'`) are served by
 * the team this worker was configured with.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { APIError, type OpenAI } from 'openai';
import {
  MAX_ANSWER_CHARS,
  type SpeakerSpec,
  type StepRequest,
  type StepResult,
  type TeamMessage,
  type ToolRequest,
} from '../workflows/types';
import type { ToolDefinition } from './tools';
import type { createMcpClients } from './mcp';
import type { ReadSeed } from './seed';
import { ORCHESTRATOR, type AgentDefinition } from './agents';
import { LlmFailureType, classifyLlmError } from './errors';
import { ledgerJsonSchema, parseLedger } from './ledger';
import { buildMessages } from './prompts';

/**
 * Request headers that tell an OpenAI-compatible server (and its logs) which step a call belongs to. Values are
 * percent-encoded ({@link headerValue}): a workflow id, agent or task may hold any text, and a header only bytes.
 */
export const STEP_HEADERS = {
  agent: 'x-agent-team-agent',
  kind: 'x-agent-team-kind',
  workflowId: 'x-agent-team-workflow-id',
  runId: 'x-agent-team-run-id',
  round: 'x-agent-team-round',
  /** The step's number (from 1), as every command prints it. */
  step: 'x-agent-team-step',
  attempt: 'x-agent-team-attempt',
} as const;

/**
 * A header value for any text: percent-encoded as a URI component (UTF-8), so accents, emoji, right-to-left text,
 * quotes and line breaks all travel; plain ids (letters, digits, `-_.~`) are unchanged. `decodeURIComponent` reads it.
 */
export const headerValue = (text: string): string => encodeURIComponent(text);

export interface ActivityDependencies {
  /** The OpenAI client. Build it with `maxRetries: 0`: Temporal owns retries, so each attempt is visible. */
  openai: OpenAI;
  /**
   * The endpoint answered a check before this worker started (the CLI's workers probe it; the offline model is
   * started by the process itself). Until it has answered (this or any response), a refused connection to a
   * loopback endpoint fails the step at once as a misconfiguration; after, it is an outage, retried. @default false
   */
  endpointChecked?: boolean;
  /**
   * The team that serves runs whose input carries none (started by `temporal workflow start` with a bare task,
   * or recorded before runs carried their team). Runs with a team of their own never use it.
   */
  agents?: readonly AgentDefinition[];
  /** Sampling temperature for runs served by `agents`. @default 0 */
  temperature?: number;
  /**
   * Fetches a run's conversation so far (the worker asks the workflow with the `transcript` query). Needed
   * for every step whose input does not carry the transcript, which is every step of current runs.
   */
  loadTranscript?: (workflowId: string, runId: string) => Promise<TeamMessage[]>;
  /** Reads a seed too large for a workflow input from its source run (`loadSeedPiece`; createAgentTeamWorker gives it). */
  readSeed?: ReadSeed;
  /** Told of each step this worker completed (`agent-team worker` prints a line per step). */
  onStep?: (event: StepEvent) => void;
  /**
   * Asks Temporal to cancel a run, with a reason: how a run a person rejected ends CANCELED (a workflow cannot
   * cancel itself). Without it, a rejected run ends FAILED with the type `Rejected`.
   */
  requestCancel?: (workflowId: string, runId: string, reason: string) => Promise<void>;
  /** Tools defined in TypeScript that runs may call (besides the built-in ones), by name. */
  tools?: readonly ToolDefinition<never>[];
  /** Told as each tool call starts and ends on this worker. */
  onToolCall?: (event: ToolCallEvent) => void;
  /** The worker's MCP connections (one per server; made on first use when left out). */
  mcp?: ReturnType<typeof createMcpClients>;
}

/** A tool call starting or ending on a worker. */
export interface ToolCallEvent {
  phase: 'start' | 'end';
  workflowId: string;
  runId: string;
  request: ToolRequest;
  attempt: number;
  /** When it ended. */
  result?: StepResult;
}

/** A step a worker completed. */
export interface StepEvent {
  workflowId: string;
  runId: string;
  result: StepResult;
}

/** Where a step runs: for the request headers, the timeout and cancellation. */
export interface StepCall {
  workflowId: string;
  runId: string;
  attempt: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * Told the text so far as the model writes it: the step is then streamed (not progress ledgers, which are
   * JSON). The result is the same either way.
   */
  onText?: (text: string) => void;
}

type Member = { name: string; description: string };

/**
 * A text a step records, cut to `max` characters and marked when longer (`what`: answer, result), so that a long
 * answer or tool result never fails the step on Temporal's payload limit. `truncatedFrom`: the original length.
 */
export function capped(text: string, max: number, what: string): { content: string; truncatedFrom?: number } {
  if (text.length <= max) return { content: text };
  return {
    content: `${text.slice(0, max)}\n[${what} cut at ${max} of ${text.length} characters]`,
    truncatedFrom: text.length,
  };
}

/**
 * A streamed completion put back together (text, tool calls by index, usage from the last chunk), telling
 * `onText` the text so far as it grows.
 */
async function collect(
  stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>,
  onText: (text: string) => void,
): Promise<OpenAI.Chat.Completions.ChatCompletion> {
  let text = '';
  let model = '';
  let id = '';
  let finish: OpenAI.Chat.Completions.ChatCompletion.Choice['finish_reason'] = 'stop';
  let usage: OpenAI.Completions.CompletionUsage | undefined;
  const calls: { id: string; name: string; arguments: string }[] = [];
  for await (const chunk of stream) {
    id ||= chunk.id;
    model ||= chunk.model;
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    if (choice.finish_reason) finish = choice.finish_reason;
    for (const d of choice.delta.tool_calls ?? []) {
      const c = (calls[d.index] ??= { id: '', name: '', arguments: '' });
      if (d.id) c.id = d.id;
      if (d.function?.name) c.name += d.function.name;
      if (d.function?.arguments) c.arguments += d.function.arguments;
    }
    if (choice.delta.content) {
      text += choice.delta.content;
      onText(text);
    }
  }
  return {
    id,
    object: 'chat.completion',
    created: 0,
    model,
    choices: [
      {
        index: 0,
        finish_reason: finish,
        logprobs: null,
        message: {
          role: 'assistant',
          content: text || (calls.length ? null : ''),
          refusal: null,
          ...(calls.length
            ? {
                tool_calls: calls.map((c) => ({
                  id: c.id,
                  type: 'function' as const,
                  function: { name: c.name, arguments: c.arguments },
                })),
              }
            : {}),
        },
      },
    ],
    ...(usage ? { usage } : {}),
  };
}

export function createAgentStep(
  deps: Pick<ActivityDependencies, 'openai' | 'agents' | 'temperature' | 'endpointChecked'>,
) {
  // Whether the endpoint has answered (any status) since this worker started: see `endpointChecked`.
  let answered = deps.endpointChecked ?? false;
  const configured = new Map((deps.agents ?? []).map((a) => [a.name, a]));
  const configuredMembers = (deps.agents ?? []).filter((a) => a.name !== ORCHESTRATOR);
  if (deps.agents && (!configured.has(ORCHESTRATOR) || configuredMembers.length === 0)) {
    throw new Error(`the team needs an "${ORCHESTRATOR}" and at least one other agent`);
  }

  /**
   * The speaker and the members the orchestrator may direct, from the request (the run's team) or, for runs
   * without a team, from this worker's. Throws (non-retryable) when neither knows the agent.
   */
  function resolve(req: StepRequest): { speaker: SpeakerSpec; members: readonly Member[] } {
    if (req.speaker) return { speaker: req.speaker, members: req.members ?? [] };
    const agent = configured.get(req.agent);
    if (!agent) {
      const has = [...configured.keys()];
      throw ApplicationFailure.nonRetryable(
        `round ${req.round}: no agent named "${req.agent}": the run carries no team, and ` +
          (has.length ? `this worker's team has ${has.join(', ')}` : 'this worker has none configured'),
        LlmFailureType.UnknownAgent,
      );
    }
    return {
      speaker: { model: agent.model, prompt: agent.prompt, temperature: deps.temperature ?? 0 },
      members: configuredMembers,
    };
  }

  async function run(req: StepRequest, transcript: TeamMessage[], call: StepCall): Promise<StepResult> {
    const { speaker, members } = resolve(req);
    const speakers = members.map((m) => m.name);
    if (req.kind === 'ledger' && speakers.length === 0) {
      throw ApplicationFailure.nonRetryable(
        `round ${req.round}: a progress ledger needs the team's members, and this step carries none`,
        LlmFailureType.UnknownAgent,
      );
    }
    const speakerEnum = speakers as [string, ...string[]];
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    let started: number;
    try {
      started = Date.now();
      const body = {
        model: speaker.model,
        temperature: speaker.temperature,
        messages: buildMessages(req, transcript, speaker.prompt, members),
        ...(req.tools?.length
          ? {
              tools: req.tools.map((t) => ({
                type: 'function' as const,
                function: { name: t.name, description: t.description, parameters: t.parameters },
              })),
            }
          : {}),
        ...(req.kind === 'ledger'
          ? {
              response_format: {
                type: 'json_schema' as const,
                json_schema: { name: 'progress_ledger', strict: true, schema: ledgerJsonSchema(speakerEnum) },
              },
            }
          : {}),
      };
      const options = {
        timeout: call.timeoutMs,
        ...(call.signal ? { signal: call.signal } : {}),
        headers: {
          [STEP_HEADERS.agent]: headerValue(req.agent),
          [STEP_HEADERS.kind]: headerValue(req.kind),
          [STEP_HEADERS.workflowId]: headerValue(call.workflowId),
          [STEP_HEADERS.runId]: headerValue(call.runId),
          [STEP_HEADERS.round]: String(req.round),
          [STEP_HEADERS.step]: String(req.stepIndex + 1),
          [STEP_HEADERS.attempt]: String(call.attempt),
        },
      };
      completion =
        call.onText && req.kind !== 'ledger'
          ? await collect(
              await deps.openai.chat.completions.create(
                { ...body, stream: true, stream_options: { include_usage: true } },
                options,
              ),
              call.onText,
            )
          : await deps.openai.chat.completions.create(body, options);
    } catch (err) {
      if (err instanceof APIError && typeof err.status === 'number') answered = true;
      throw classifyLlmError(err, req.agent, req.round, deps.openai.baseURL, { answered });
    }
    answered = true;
    const message = completion.choices[0]?.message;
    const full = message?.content ?? '';
    // The functions it asked to call (the workflow runs those it was offered, and answers the others with a refusal).
    const toolCalls = (message?.tool_calls ?? []).flatMap((c) =>
      c.type === 'function' ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }] : [],
    );
    const { content, truncatedFrom } = capped(full, MAX_ANSWER_CHARS, 'answer');
    const result: StepResult = {
      kind: req.kind,
      agent: req.agent,
      round: req.round,
      stepIndex: req.stepIndex,
      ...(req.instruction !== undefined ? { instruction: req.instruction } : {}),
      ...(req.replan ? { replan: true } : {}),
      ...(req.cutShort !== undefined ? { cutShort: req.cutShort } : {}),
      ...(req.cutShortBy !== undefined ? { cutShortBy: req.cutShortBy } : {}),
      content,
      model: completion.model,
      usage: {
        promptTokens: completion.usage?.prompt_tokens ?? 0,
        completionTokens: completion.usage?.completion_tokens ?? 0,
        // Prompt tokens the endpoint served from its cache (billed lower), when it says.
        ...(completion.usage?.prompt_tokens_details?.cached_tokens
          ? { cachedPromptTokens: completion.usage.prompt_tokens_details.cached_tokens }
          : {}),
      },
      latencyMs: Date.now() - started,
      ...(truncatedFrom !== undefined ? { truncatedFrom } : {}),
      attempt: call.attempt,
      ...(toolCalls.length ? { toolCalls } : {}),
      // The people's messages the orchestrator was given: read, so the run does not send them again.
      ...(req.messages?.length ? { heard: req.messages.map((m) => m.id) } : {}),
    };
    if (req.kind === 'ledger') {
      try {
        result.ledger = parseLedger(content, speakerEnum);
      } catch (err) {
        throw ApplicationFailure.retryable(
          `orchestrator (round ${req.round}) returned an invalid progress ledger (attempt ${call.attempt}): ${err instanceof Error ? err.message : String(err)}`,
          LlmFailureType.InvalidOutput,
        );
      }
    }
    return result;
  }

  return { resolve, run };
}
