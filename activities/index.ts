/**
 * The activities, built by a factory that receives their dependencies: the worker passes the real
 * `openai` client (for OpenAI, any compatible endpoint, or the offline model server), tests pass one that
 * points elsewhere. There is one activity, `callAgent`: every agent is data plus this call.
 */
import { trace } from '@opentelemetry/api';
import { Context, ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import type { Duration, RetryPolicy } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { inTranscript, messageOf } from '../workflows/requests';
import type { McpServerSpec, StepRequest, StepResult, TeamMessage, ToolRequest, ToolSpec } from '../workflows/types';
import { createMcpClients } from './mcp';
import { capped, createAgentStep, type ActivityDependencies } from './agent-step';
import { BUILTIN_TOOLS, ToolError, type ToolDefinition } from './tools';
import { createSeedLoader } from './seed';

export {
  createAgentStep,
  STEP_HEADERS,
  type ActivityDependencies,
  type StepCall,
  type StepEvent,
  type ToolCallEvent,
} from './agent-step';
export { BUILTIN_TOOLS, BUILTIN_TOOL_NAMES, ToolError, specOf, type ToolContext, type ToolDefinition } from './tools';
export { ORCHESTRATOR, type AgentDefinition } from './agents';
export { SeedGone, type ReadSeed } from './seed';
export { LlmFailureType, classifyLlmError, retryAfterMs } from './errors';

/** What a streaming step's heartbeats carry: the end of its text so far. */
export interface LiveText {
  step: number;
  agent: string;
  /** The length of the whole text so far. */
  chars: number;
  /** Its last {@link LIVE_TEXT_CHARS} characters. */
  text: string;
}

/** How much of a step's text in progress its heartbeats carry. */
export const LIVE_TEXT_CHARS = 4_000;

/** At most one heartbeat per this many ms from a streaming step's text (the SDK sends one per 500 ms at most). */
const LIVE_BEAT_MS = 250;

/** How often an activity heartbeats: twice per heartbeat timeout, so a dead worker is noticed in one timeout. */
const heartbeatInterval = (timeoutMs: number | undefined): number =>
  Math.max(100, Math.floor((timeoutMs ?? 20_000) / 2));

/**
 * When Temporal tries a failed attempt again, from the activity's retry policy (and a Retry-After the failure
 * carries), in words: "next try in 4 s (attempt 3 of 4)", or that this was the last try of the step.
 */
export function nextTry(
  info: { attempt: number; retryPolicy?: RetryPolicy | undefined },
  failure: ApplicationFailure,
): string {
  const policy = info.retryPolicy ?? {};
  const ms = (d: Duration | undefined, fallback: number): number => (d === undefined ? fallback : msToNumber(d));
  const max = policy.maximumAttempts ?? 0;
  if (failure.nonRetryable) return 'not retried (it cannot succeed as it is)';
  if (max > 0 && info.attempt >= max) return `that was its last try (${max} of ${max})`;
  const backoff = ms(policy.initialInterval, 1_000) * (policy.backoffCoefficient ?? 2) ** (info.attempt - 1);
  const delayMs =
    failure.nextRetryDelay !== undefined && failure.nextRetryDelay !== null
      ? ms(failure.nextRetryDelay, 0)
      : Math.min(backoff, ms(policy.maximumInterval, Infinity));
  const seconds = delayMs >= 10_000 ? Math.round(delayMs / 1000) : Math.round(delayMs / 100) / 10;
  return `next try in ${seconds} s (attempt ${info.attempt + 1}${max > 0 ? ` of ${max}` : ''})`;
}

/**
 * Says in the worker's log that a step's attempt failed: what, and when the next try is (or that there is none).
 * The SDK's own "Activity failed" line for these activities is left out (src/temporal/runtime.ts): this one says more.
 */
function logFailure(what: string, err: unknown): void {
  const ctx = Context.current();
  if (ctx.cancellationSignal.aborted) return;
  const failure =
    err instanceof ApplicationFailure
      ? err
      : ApplicationFailure.retryable(err instanceof Error ? err.message : String(err), 'Error');
  const next = nextTry(ctx.info, failure);
  const final = failure.nonRetryable || next.startsWith('that was');
  ctx.log.warn(`${what}: ${failure.message}; ${next}`, { nextTry: next, final });
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
        `could not fetch the conversation of ${workflowId}: ${err instanceof Error ? err.message : String(err)}`,
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
    inTranscript(result) ? [...transcript, messageOf(stepIndex, result)] : transcript;

  /** One agent step: one Chat Completions call. Heartbeats while waiting, so a dead worker is noticed early. */
  async function callAgent(req: StepRequest): Promise<StepResult> {
    const ctx = Context.current();
    const { info } = ctx;
    // Heartbeat for the whole step: fetching the conversation can wait on Temporal (after a worker crash the
    // query waits for the server to move the run off the dead worker's sticky queue), the LLM call on the model.
    // At least every second: a heartbeat is how a cancel (a person's `tell --interrupt`) reaches the step.
    const heartbeatEvery = Math.min(1_000, heartbeatInterval(info.heartbeatTimeoutMs));
    // Live output: the text so far rides on the heartbeats (Temporal throttles them; history never keeps them),
    // so any process that describes the run sees it, wherever this worker is.
    let live: LiveText | undefined;
    let lastLiveBeat = 0;
    const beat = setInterval(() => ctx.heartbeat(live), heartbeatEvery);
    traceStep(req, info.attempt);
    try {
      step.resolve(req);
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
      const result = await step
        .run(req, transcript, {
          workflowId: info.workflowExecution?.workflowId ?? '',
          runId: info.workflowExecution?.runId ?? '',
          attempt: info.attempt,
          // The workflow's startToCloseTimeout is the configured LLM timeout plus a 5 s margin.
          timeoutMs: Math.max(1_000, (info.startToCloseTimeoutMs || 65_000) - 5_000),
          signal: ctx.cancellationSignal,
          onText: (text) => {
            live = {
              step: req.stepIndex + 1,
              agent: req.agent,
              chars: text.length,
              text: text.slice(-LIVE_TEXT_CHARS),
            };
            // A model streams a chunk per token or so: each heartbeat encodes its details and crosses into the
            // SDK's core, which sends at most one every 500 ms anyway. So at most one per LIVE_BEAT_MS from
            // here; the interval's beat carries the text since.
            const now = Date.now();
            if (now - lastLiveBeat >= LIVE_BEAT_MS) {
              lastLiveBeat = now;
              ctx.heartbeat(live);
            }
          },
        })
        .catch((err: unknown) => {
          // Cancelled (a person's `tell --interrupt`, or the run's cancel): said as such, so Temporal records the
          // step as cancelled, not as a failure to retry; the aborted request is not sent again.
          if (ctx.cancellationSignal.aborted) throw new CancelledFailure(`step ${req.stepIndex + 1} was cancelled`);
          logFailure(`step ${req.stepIndex + 1} (${req.agent})`, err);
          throw err;
        });
      traceStep(req, info.attempt, result);
      // After a summary the conversation reads differently (the summary replaces the earlier turns): asked anew.
      const ends = result.kind === 'final' || result.kind === 'summary';
      remember(key, req.stepIndex + 1, ends ? null : next(transcript, req.stepIndex, result));
      deps.onStep?.({ workflowId: workflowId ?? '', runId: runId ?? '', result });
      ctx.log.info('Agent step completed', {
        agent: req.agent,
        round: req.round,
        kind: req.kind,
        step: req.stepIndex + 1,
        promptTokens: result.usage.promptTokens,
        completionTokens: result.usage.completionTokens,
        latencyMs: result.latencyMs,
      });
      return result;
    } finally {
      clearInterval(beat);
    }
  }

  /**
   * Ends the calling run as CANCELED, with `reason`: a person rejected it at a gate. The run requests its own
   * cancellation through this activity, since a workflow cannot cancel itself, and ends when the request arrives.
   */
  async function cancelRun(reason: string): Promise<void> {
    const { workflowExecution } = Context.current().info;
    if (!deps.requestCancel || !workflowExecution) {
      throw ApplicationFailure.nonRetryable('this worker cannot cancel runs (no requestCancel)', 'MisconfiguredWorker');
    }
    await deps.requestCancel(workflowExecution.workflowId, workflowExecution.runId, reason);
  }

  const mcp = deps.mcp ?? createMcpClients();

  /** The tools of a run's MCP servers, read when the run starts (history records them). */
  async function listMcpTools(servers: McpServerSpec[]): Promise<ToolSpec[]> {
    return mcp.listTools(servers);
  }

  const tools = new Map<string, ToolDefinition<never>>(
    [...BUILTIN_TOOLS, ...((deps.tools ?? []) as readonly ToolDefinition<never>[])].map((t) => [t.name, t]),
  );

  /**
   * One tool call an agent asked for. What the tool reports as an error comes back as a result the agent sees
   * (`ok: false`), after the call's retries when it may clear; the activity itself fails only for a retry
   * Temporal should make, or when the worker is lost (then Temporal's timeouts decide, by side-effect class).
   */
  async function callTool(req: ToolRequest): Promise<StepResult> {
    const ctx = Context.current();
    const { info } = ctx;
    const beat = setInterval(() => ctx.heartbeat(), heartbeatInterval(info.heartbeatTimeoutMs));
    const workflowId = info.workflowExecution?.workflowId ?? '';
    const runId = info.workflowExecution?.runId ?? '';
    const started = Date.now();
    const { name } = req.call;
    deps.onToolCall?.({ phase: 'start', workflowId, runId, request: req, attempt: info.attempt });
    traceStep({ ...req, kind: 'tool' }, info.attempt);
    const finish = (content: string, ok: boolean, retryable?: boolean): StepResult => {
      const { content: kept, truncatedFrom } = capped(content, req.settings.maxResultChars, 'result');
      const result: StepResult = {
        kind: 'tool',
        agent: req.agent,
        round: req.round,
        stepIndex: req.stepIndex,
        content: kept,
        model: '',
        usage: { promptTokens: 0, completionTokens: 0 },
        latencyMs: Date.now() - started,
        ...(truncatedFrom !== undefined ? { truncatedFrom } : {}),
        attempt: info.attempt,
        tool: {
          call: req.call,
          sideEffects: req.spec.sideEffects,
          source: req.spec.source,
          idempotencyKey: req.idempotencyKey,
          ok,
          ...(retryable !== undefined ? { retryable } : {}),
          durationMs: Date.now() - started,
          ...(req.replay && 'from' in req.replay ? { replayedFrom: req.replay.from } : {}),
          ...(req.replay && 'notRun' in req.replay ? { notRun: true as const } : {}),
        },
      };
      deps.onToolCall?.({ phase: 'end', workflowId, runId, request: req, attempt: info.attempt, result });
      traceStep({ ...req, kind: 'tool' }, info.attempt, result);
      return result;
    };
    try {
      // A replay branch: the source's result, or why the call is not run; the tool is not touched.
      if (req.replay)
        return 'from' in req.replay
          ? finish(req.replay.content, req.replay.ok)
          : finish(req.replay.notRun, false, false);
      const server = req.mcpServer;
      const tool = server ? null : tools.get(name);
      if (!server && !tool) return finish(`tool ${name}: this worker has no tool of that name`, false, false);
      let args: unknown;
      try {
        args = JSON.parse(req.call.arguments || '{}');
      } catch {
        return finish(`tool ${name}: the arguments are not JSON: ${req.call.arguments.slice(0, 200)}`, false, false);
      }
      let run: () => Promise<unknown>;
      if (server) {
        if (!args || typeof args !== 'object' || Array.isArray(args))
          return finish(`tool ${name}: the arguments must be a JSON object`, false, false);
        run = () =>
          mcp.call(server, req.spec.remoteName ?? name, args as Record<string, unknown>, req.idempotencyKey, {
            signal: ctx.cancellationSignal,
            timeoutMs: req.settings.timeoutMs,
          });
      } else {
        const parsed = tool!.input.safeParse(args);
        if (!parsed.success) {
          const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`);
          return finish(`tool ${name}: invalid arguments: ${problems.join('; ')}`, false, false);
        }
        run = () =>
          tool!.handler(parsed.data as never, {
            idempotencyKey: req.idempotencyKey,
            settings: req.settings,
            signal: ctx.cancellationSignal,
          });
      }
      try {
        const out = await run();
        return finish(typeof out === 'string' ? out : JSON.stringify(out, null, 2), true);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const retryable = !(err instanceof ToolError) || err.retryable;
        // Temporal retries it (the workflow allows one attempt to a destructive tool that is not idempotent).
        if (retryable && info.attempt < req.maxAttempts) {
          const failure = ApplicationFailure.retryable(
            `tool ${name} (attempt ${info.attempt}): ${message}`,
            'ToolFailed',
          );
          logFailure(`step ${req.stepIndex + 1} (${req.agent})`, failure);
          throw failure;
        }
        return finish(
          `tool ${name} failed${retryable ? ` (after ${info.attempt} attempt${info.attempt > 1 ? 's' : ''})` : ''}: ${message}`,
          false,
          retryable,
        );
      }
    } finally {
      clearInterval(beat);
    }
  }

  return { callAgent, callTool, listMcpTools, cancelRun, ...createSeedLoader(deps.readSeed) };
}

/**
 * Puts a step's attributes on the span of its activity attempt (Temporal's OpenTelemetry interceptor starts one
 * per attempt when traces are on; without them there is no active span and this does nothing).
 */
function traceStep(
  req: { stepIndex: number; agent: string; round: number; kind: string; call?: { name: string } },
  attempt: number,
  result?: StepResult,
): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  if (!result) {
    span.setAttributes({
      'agent_team.step': req.stepIndex + 1,
      'agent_team.agent': req.agent,
      'agent_team.round': req.round,
      'agent_team.kind': req.kind,
      'agent_team.attempt': attempt,
      ...(req.call ? { 'agent_team.tool': req.call.name } : {}),
    });
    return;
  }
  span.setAttributes({
    'agent_team.latency_ms': result.latencyMs,
    ...(result.model
      ? {
          'gen_ai.request.model': result.model,
          'gen_ai.usage.input_tokens': result.usage.promptTokens,
          'gen_ai.usage.output_tokens': result.usage.completionTokens,
        }
      : {}),
    ...(result.tool ? { 'agent_team.tool_ok': result.tool.ok } : {}),
    ...(result.toolCalls?.length ? { 'agent_team.tool_calls': result.toolCalls.length } : {}),
  });
}
