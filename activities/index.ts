/**
 * The activities, built by a factory that receives their dependencies: the worker passes the real
 * `openai` client (for OpenAI, any compatible endpoint, or the offline model server), tests pass one that
 * points elsewhere. There is one activity, `callAgent`: every agent is data plus this call.
 */
import { Context, ApplicationFailure } from '@temporalio/activity';
import type OpenAI from 'openai';
import { inTranscript, messageOf } from '../workflows/state';
import { MAX_ANSWER_CHARS, type StepRequest, type StepResult, type TeamMessage } from '../workflows/types';
import { ORCHESTRATOR, type AgentDefinition } from './agents';
import { LlmFailureType, classifyLlmError } from './errors';
import { ledgerJsonSchema, parseLedger } from './ledger';
import { buildMessages } from './prompts';

export { DEFAULT_AGENTS, ORCHESTRATOR, type AgentDefinition } from './agents';
export { LlmFailureType, classifyLlmError, retryAfterMs } from './errors';

/** Request headers that tell an OpenAI-compatible server (and its logs) which step a call belongs to. */
export const STEP_HEADERS = {
  agent: 'x-agent-team-agent',
  kind: 'x-agent-team-kind',
  workflowId: 'x-agent-team-workflow-id',
  runId: 'x-agent-team-run-id',
  round: 'x-agent-team-round',
  step: 'x-agent-team-step',
  attempt: 'x-agent-team-attempt',
} as const;

export interface ActivityDependencies {
  /** The OpenAI client. Build it with `maxRetries: 0`: Temporal owns retries, so each attempt is visible. */
  openai: OpenAI;
  /** The team: must include the orchestrator. */
  agents: readonly AgentDefinition[];
  /** Sampling temperature for every call. @default 0 */
  temperature?: number;
  /**
   * Fetches a run's conversation so far (the worker asks the workflow with the `transcript` query). Needed
   * for every step whose input does not carry the transcript, which is every step of current runs.
   */
  loadTranscript?: (workflowId: string, runId: string) => Promise<TeamMessage[]>;
}

/** Where a step runs: for the request headers, the timeout and cancellation. */
export interface StepCall {
  workflowId: string;
  runId: string;
  attempt: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * The agents' work without Temporal: one Chat Completions call per step, its answer validated. `callAgent`
 * wraps it in an activity; the benchmarks run the very same function in a plain loop and in LangGraph.
 */
export function createAgentStep(deps: Pick<ActivityDependencies, 'openai' | 'agents' | 'temperature'>) {
  const byName = new Map(deps.agents.map((a) => [a.name, a]));
  const members = deps.agents.filter((a) => a.name !== ORCHESTRATOR);
  const speakers = members.map((a) => a.name);
  if (!byName.has(ORCHESTRATOR) || speakers.length === 0) {
    throw new Error(`the team needs an "${ORCHESTRATOR}" and at least one other agent`);
  }
  const speakerEnum = speakers as [string, ...string[]];

  /** Throws (non-retryable) for a step naming an agent this team does not have. */
  function check(req: StepRequest): AgentDefinition {
    const agent = byName.get(req.agent);
    if (!agent) {
      throw ApplicationFailure.nonRetryable(
        `round ${req.round}: no agent named "${req.agent}" on this worker (it has: ${[...byName.keys()].join(', ')})`,
        LlmFailureType.UnknownAgent,
      );
    }
    return agent;
  }

  async function run(req: StepRequest, transcript: TeamMessage[], call: StepCall): Promise<StepResult> {
    const agent = check(req);
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    let started: number;
    try {
      started = Date.now();
      completion = await deps.openai.chat.completions.create(
        {
          model: agent.model,
          temperature: deps.temperature ?? 0,
          messages: buildMessages(req, transcript, agent, members),
          ...(req.kind === 'ledger'
            ? {
                response_format: {
                  type: 'json_schema' as const,
                  json_schema: { name: 'progress_ledger', strict: true, schema: ledgerJsonSchema(speakerEnum) },
                },
              }
            : {}),
        },
        {
          timeout: call.timeoutMs,
          ...(call.signal ? { signal: call.signal } : {}),
          headers: {
            [STEP_HEADERS.agent]: req.agent,
            [STEP_HEADERS.kind]: req.kind,
            [STEP_HEADERS.workflowId]: call.workflowId,
            [STEP_HEADERS.runId]: call.runId,
            [STEP_HEADERS.round]: String(req.round),
            [STEP_HEADERS.step]: String(req.stepIndex),
            [STEP_HEADERS.attempt]: String(call.attempt),
          },
        },
      );
    } catch (err) {
      throw classifyLlmError(err, req.agent, req.round);
    }
    const full = completion.choices[0]?.message?.content ?? '';
    const truncated = full.length > MAX_ANSWER_CHARS;
    const content = truncated
      ? `${full.slice(0, MAX_ANSWER_CHARS)}\n[answer cut at ${MAX_ANSWER_CHARS} of ${full.length} characters]`
      : full;
    const result: StepResult = {
      kind: req.kind,
      agent: req.agent,
      round: req.round,
      stepIndex: req.stepIndex,
      ...(req.instruction !== undefined ? { instruction: req.instruction } : {}),
      ...(req.replan ? { replan: true } : {}),
      ...(req.cutShort !== undefined ? { cutShort: req.cutShort } : {}),
      content,
      model: completion.model,
      usage: {
        promptTokens: completion.usage?.prompt_tokens ?? 0,
        completionTokens: completion.usage?.completion_tokens ?? 0,
      },
      latencyMs: Date.now() - started,
      ...(truncated ? { truncatedFrom: full.length } : {}),
      attempt: call.attempt,
    };
    if (req.kind === 'ledger') {
      try {
        result.ledger = parseLedger(content, speakerEnum);
      } catch (err) {
        throw ApplicationFailure.retryable(
          `orchestrator (round ${req.round}) returned an invalid progress ledger (attempt ${call.attempt}): ${(err as Error).message}`,
          LlmFailureType.InvalidOutput,
        );
      }
    }
    return result;
  }

  return { check, run };
}

export function createActivities(deps: ActivityDependencies) {
  const step = createAgentStep(deps);

  async function loadTranscript(workflowId: string | undefined, runId: string | undefined): Promise<TeamMessage[]> {
    if (!deps.loadTranscript || !workflowId || !runId) {
      throw ApplicationFailure.nonRetryable(
        'this worker cannot fetch the conversation: build the activities with `loadTranscript` (createAgentTeamWorker does)',
        'MisconfiguredWorker',
      );
    }
    try {
      return await deps.loadTranscript(workflowId, runId);
    } catch (err) {
      throw ApplicationFailure.retryable(
        `could not fetch the conversation of ${workflowId}: ${(err as Error).message}`,
        'TranscriptUnavailable',
      );
    }
  }

  /**
   * The conversation each run will have before its next step, as this worker last saw it: the run's next step
   * usually comes back to the same worker (Temporal's sticky queue), and then needs no `transcript` query (a
   * round trip to the workflow, about 11 ms of every step on the dev server). Keyed by workflow *and run*,
   * valid only for the step index it was computed for: a retry, a reset (a new run), a step that ran on
   * another worker, or a restart all miss and query. Bounded; a run's entry is dropped after its final step.
   */
  const transcripts = new Map<string, { beforeStep: number; transcript: TeamMessage[] }>();
  const CACHED_RUNS = 1_000;
  function remember(key: string, beforeStep: number, transcript: TeamMessage[] | null): void {
    transcripts.delete(key);
    if (!transcript) return;
    transcripts.set(key, { beforeStep, transcript });
    if (transcripts.size > CACHED_RUNS) transcripts.delete(transcripts.keys().next().value!);
  }
  const next = (transcript: TeamMessage[], stepIndex: number, result: StepResult): TeamMessage[] =>
    inTranscript(result.kind) ? [...transcript, messageOf(stepIndex, result)] : transcript;

  /** One agent step: one Chat Completions call. Heartbeats while waiting, so a dead worker is noticed early. */
  async function callAgent(req: StepRequest): Promise<StepResult> {
    const ctx = Context.current();
    const { info } = ctx;
    // Heartbeat for the whole step: fetching the conversation can wait on Temporal (after a worker crash the
    // query waits for the server to move the run off the dead worker's sticky queue), the LLM call on the model.
    const heartbeatEvery = Math.max(100, Math.floor((info.heartbeatTimeoutMs ?? 20_000) / 2));
    const beat = setInterval(() => ctx.heartbeat(), heartbeatEvery);
    try {
      step.check(req);
      const workflowId = info.workflowExecution?.workflowId;
      const runId = info.workflowExecution?.runId;
      const key = `${workflowId}\n${runId}`;
      const cached = transcripts.get(key);
      // Nothing precedes a run's first step (a restored run's steps number on from its seed), so step 0 never asks.
      const transcript =
        req.transcript ??
        (req.stepIndex === 0
          ? []
          : cached && cached.beforeStep === req.stepIndex
            ? cached.transcript
            : await loadTranscript(workflowId, runId));
      const result = await step.run(req, transcript, {
        workflowId: info.workflowExecution?.workflowId ?? '',
        runId: info.workflowExecution?.runId ?? '',
        attempt: info.attempt,
        // The workflow's startToCloseTimeout is the configured LLM timeout plus a 5 s margin.
        timeoutMs: Math.max(1_000, (info.startToCloseTimeoutMs || 65_000) - 5_000),
        signal: ctx.cancellationSignal,
      });
      remember(key, req.stepIndex + 1, result.kind === 'final' ? null : next(transcript, req.stepIndex, result));
      ctx.log.info('Agent step completed', {
        agent: req.agent,
        round: req.round,
        kind: req.kind,
        step: req.stepIndex,
        promptTokens: result.usage.promptTokens,
        completionTokens: result.usage.completionTokens,
        latencyMs: result.latencyMs,
      });
      return result;
    } finally {
      clearInterval(beat);
    }
  }

  return { callAgent };
}
