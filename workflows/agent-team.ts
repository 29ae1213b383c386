/**
 * `agentTeamWorkflow`: a Magentic-style team of LLM agents as a durable Temporal workflow.
 *
 * The orchestrator plans, then each round returns a progress ledger naming the next speaker; a stall
 * (no progress, or a loop) counts up, and past `maxStalls` the orchestrator replans; the run ends when
 * the ledger says the task is done or after `maxRounds`, always with the orchestrator's final answer.
 * Every decision is in the pure state machine of ./state; every LLM call is the `callAgent` activity,
 * so history holds each step's input and result: the checkpoints.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  defineUpdate,
  isCancellation,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type { createActivities } from '../activities';
import { checkAnswer, pendingRequest, timeoutAnswer, uselessAnswer } from './gates';
import { InvalidTeamInput } from './input';
import { stepSummary, toolSummary } from './labels';
import type { NextAction, TeamState } from './model';
import { replayFor, requestFor, toolRequestFor, transcriptOf, transcriptPage, type TranscriptPage } from './requests';
import { takeMessages } from './messages';
import { CONTINUE_AS_NEW_PATCH, LinkRecord } from './continue';
import { loadSeedPieces } from './seed';
import { apply, initialState, nextAction, resultOf, seedSteps, toolActions } from './state';
import {
  TOOL_MAX_ATTEMPTS,
  WAITING_ATTRIBUTE,
  type HumanAnswer,
  type HumanRequest,
  type StepResult,
  type TeamInput,
  type TeamMessage,
  type TeamResult,
} from './types';

type Activities = ReturnType<typeof createActivities>;

/** Query: the live state of the run (the same shape `loadCheckpoint` returns). */
export const stateQuery = defineQuery<TeamState>('state');

/** Query: the conversation so far, which `callAgent` fetches instead of receiving it in its input. */
export const transcriptQuery = defineQuery<TeamMessage[]>('transcript');

/**
 * Query: a page of the conversation (from message `from`, at most `maxBytes` of JSON): how `callAgent` fetches a
 * conversation too large for one query result (Temporal refuses results over 2 MB).
 */
export const transcriptPageQuery = defineQuery<TranscriptPage, [{ from: number; maxBytes: number }]>('transcriptPage');

/** Query: what the run waits on (a gate's request), or null. */
export const pendingQuery = defineQuery<HumanRequest | null>('pending');

/** What the `answer` Update returns once the answer is taken. */
export interface AnswerAck {
  requestId: string;
  decision: HumanAnswer['decision'];
}

/**
 * Update: the answer to what the run waits on. Its validator refuses, changing nothing, an answer that is stale
 * (for another request), malformed, or second to one already taken.
 */
export const answerUpdate = defineUpdate<AnswerAck, [HumanAnswer]>('answer');

/** The search attribute a run waiting on a person sets to the request's kind. */
const WAITING_KEY = defineSearchAttributeKey(WAITING_ATTRIBUTE, 'KEYWORD');

/** The patch id guarding tool calls (agents that act); runs whose agents have no tools never reach it. */
export const AGENT_TOOLS_PATCH = 'agent-tools';

/** The patch id guarding the gates (people in the loop); runs without gates never reach it. */
export const HUMAN_GATES_PATCH = 'human-gates';

/** The patch id guarding automatic resumes (see `patched` in the Temporal docs on versioning). */
export const AUTO_RESUME_PATCH = 'auto-resume-on-failure';

/** The patch id guarding the record a cancelled run leaves of where it stopped. */
export const RECORD_STOP_PATCH = 'record-where-cancelled';

/** Where a cancelled run stopped, as its memo (`stoppedAt`) records it. */
export interface StopRecord {
  /** Steps completed: checkpoint @<step> is the last one, from which `resume` continues. */
  step: number;
  round: number;
  reason: 'cancelled' | 'rejected';
  /** For a run a person rejected: at which gate, why, and who. */
  rejected?: { kind: HumanRequest['kind']; reason: string; by: string | null };
}

/** One automatic resume, as the run's memo lists it. */
export interface AutoResumeRecord {
  /** The step that failed (its number, from 1). */
  step: number;
  agent: string;
  round: number;
  attempt: number;
  delayMs: number;
  cause: string;
}

/** A step failure that can clear: its retries ran out on a retryable error or a timeout. */
function canClear(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const cause = err.cause;
  if (cause instanceof TimeoutFailure) return true;
  return cause instanceof ApplicationFailure && !cause.nonRetryable;
}

function failureMessage(err: unknown): string {
  let leaf = err;
  while (leaf instanceof Error && leaf.cause instanceof Error) leaf = leaf.cause;
  return (leaf instanceof Error ? leaf.message : String(leaf)).replace(/\s+/g, ' ').slice(0, 160);
}

export async function agentTeamWorkflow(input: TeamInput): Promise<TeamResult> {
  let state: TeamState;
  const start = (loaded?: StepResult[]): TeamState => {
    try {
      return initialState(input, loaded);
    } catch (err) {
      if (err instanceof InvalidTeamInput) throw ApplicationFailure.nonRetryable(err.message, 'InvalidTeamInput');
      throw err;
    }
  };
  state = start();
  setHandler(stateQuery, () => state);
  setHandler(transcriptQuery, () => transcriptOf(state));
  setHandler(transcriptPageQuery, ({ from, maxBytes }) => transcriptPage(state, from, maxBytes));
  // A seed too large for the input comes in pieces, read by the first activities (none for other runs).
  const loaded = input.restore?.pieces ? await loadSeedPieces(input) : [];
  if (input.restore?.pieces) state = start(loaded);
  // What this run does, kept for the next link should it continue as new.
  const link = new LinkRecord(input, input.restore ? seedSteps(input.restore, loaded) : []);

  // People in the loop: an answer arrives by the `answer` Update, checked against the state by its validator.
  let received: HumanAnswer | null = null;
  setHandler(pendingQuery, () => (received ? null : pendingRequest(state)));
  setHandler(
    answerUpdate,
    (answer) => {
      received = answer;
      return { requestId: answer.requestId, decision: answer.decision };
    },
    {
      validator: (answer) => {
        if (received) {
          const by = received.answeredBy ? ` by ${received.answeredBy}` : '';
          throw new Error(`${received.requestId} was answered already (${received.decision}${by}): nothing changed`);
        }
        const problem = checkAnswer(state, answer) ?? uselessAnswer(state, answer);
        if (problem) throw new Error(problem);
      },
    },
  );

  /**
   * Waits (durably, at no cost) for the answer to `request`, or its timeout, and folds it into the state; says
   * what it waits on meanwhile. The answer is folded in the same step as `received` is cleared, so no second
   * answer can pass the validator against the state the first one changed.
   */
  const ask = async (request: HumanRequest): Promise<void> => {
    patched(HUMAN_GATES_PATCH);
    // Workflow time is deterministic: `askedAt` replays the same.
    upsertMemo({ pending: { ...request, askedAt: new Date().toISOString() } });
    if (input.waitingAttribute) upsertSearchAttributes([{ key: WAITING_KEY, value: request.kind }]);
    const id = workflowInfo().workflowId;
    // How to answer, with plain Temporal (the project's CLI says its own commands where it prints the question).
    setCurrentDetails(
      `**Waiting for a person** · ${request.kind.replace('_', ' ')} · ${request.question}\n\n` +
        `Answer (${request.decisions.join(', ')}) with the \`answer\` Update, e.g. ` +
        `\`temporal workflow update execute -w ${id} --name answer --input '{"requestId":"${request.id}","decision":"${request.decisions[0]}"}'\``,
    );
    const { timeoutMs } = state.settings.gates;
    if (timeoutMs > 0) await condition(() => received !== null, timeoutMs);
    else await condition(() => received !== null);
    const answer = received ?? timeoutAnswer(state, request);
    state = apply(state, { answer });
    link.answer(state.steps, answer);
    received = null;
    // The answer taken, in the memo: what the checkpoint tools fold, in order, with the steps.
    upsertMemo({ pending: null, lastAnswer: answer });
    if (input.waitingAttribute) upsertSearchAttributes([{ key: WAITING_KEY, value: null }]);
  };

  // People's messages (`tell`): an interrupting one cancels the model step in flight, which the loop then drops.
  let inFlight: { scope: CancellationScope; step: number } | null = null;
  let interrupted = false;
  takeMessages({
    state: () => state,
    setState: (next) => {
      state = next;
    },
    taken: (message, afterSteps) => link.message(afterSteps, message),
    interrupt: () => {
      if (!inFlight) return null;
      interrupted = true;
      inFlight.scope.cancel();
      return inFlight.step;
    },
  });

  const { llm } = state.settings;
  const { cancelRun } = proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    retry: { maximumAttempts: 5 },
  });
  const { callAgent } = proxyActivities<Activities>({
    // A margin over the HTTP timeout, so the client's own timeout fires first and is classified.
    startToCloseTimeout: llm.timeoutMs + 5_000,
    // A step a person interrupts ends (its HTTP request aborted) before the replan is sent: never billed twice.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    heartbeatTimeout: llm.heartbeatMs * 2,
    retry: {
      maximumAttempts: llm.maxAttempts,
      initialInterval: llm.initialRetryMs,
      maximumInterval: llm.maxRetryMs,
      backoffCoefficient: llm.backoffCoefficient,
    },
  });

  const toolOptions = {
    startToCloseTimeout: state.settings.tools.timeoutMs + 5_000,
    heartbeatTimeout: llm.heartbeatMs * 2,
  };
  const { callTool } = proxyActivities<Activities>({
    ...toolOptions,
    retry: {
      maximumAttempts: TOOL_MAX_ATTEMPTS,
      initialInterval: llm.initialRetryMs,
      maximumInterval: llm.maxRetryMs,
      backoffCoefficient: llm.backoffCoefficient,
    },
  });
  // A destructive tool is never run again automatically once it may have started.
  const { callTool: callToolOnce } = proxyActivities<Activities>({ ...toolOptions, retry: { maximumAttempts: 1 } });

  /** Runs one tool call the agent asked for, as its own activity, and folds its result as it arrives. */
  /** The source's recorded tool calls a replay branch has answered with (each at most once). */
  const replayed = new Set<number>();
  const runTool = async (action: NextAction): Promise<void> => {
    const info = workflowInfo();
    // The workflow id percent-encoded: a key stays plain ASCII (fit for a header or a file name) whatever the id.
    const request = toolRequestFor(state, action, `${encodeURIComponent(info.workflowId)}/${info.runId}`);
    // A replay branch answers a call from the source's record, or does not run it: still a step of its own.
    const replay = replayFor(input.fork, request, replayed);
    if (replay) request.replay = replay;
    const proxy = request.maxAttempts === 1 && !replay ? callToolOnce : callTool;
    let result: StepResult;
    try {
      result = await proxy.executeWithOptions({ summary: toolSummary(request) }, [request]);
    } catch (err) {
      if (request.maxAttempts === 1 && err instanceof ActivityFailure && !isCancellation(err)) {
        throw ApplicationFailure.create({
          type: 'SideEffectUncertain',
          nonRetryable: true,
          message:
            `tool ${request.call.name} (${request.spec.sideEffects}) at step ${request.stepIndex + 1} (${request.agent}) ` +
            `may have started and did not finish (${failureMessage(err)}); it is not run again automatically. ` +
            `Check what it did (idempotency key ${request.idempotencyKey}); to run it again, resume from the ` +
            `checkpoint before it (step ${request.stepIndex}), confirming the side effects`,
          details: [{ tool: request.call.name, step: request.stepIndex + 1, idempotencyKey: request.idempotencyKey }],
        });
      }
      throw err;
    }
    state = apply(state, { step: result });
    link.step(result);
  };

  try {
    const { autoResume } = state.settings;
    const autoResumes: AutoResumeRecord[] = [];
    // The run's MCP servers' tools, read once (history records them: the run's tools cannot change under it).
    if (!state.mcpReady) {
      patched(AGENT_TOOLS_PATCH);
      const { listMcpTools } = proxyActivities<Activities>({
        startToCloseTimeout: state.settings.tools.timeoutMs + 5_000,
        retry: { maximumAttempts: TOOL_MAX_ATTEMPTS, initialInterval: llm.initialRetryMs },
      });
      setCurrentDetails(`Reading the tools of ${state.settings.mcpServers.map((s) => s.name).join(', ')}`);
      state = apply(state, { mcpTools: await listMcpTools(state.settings.mcpServers) });
    }
    for (;;) {
      // Past the history bound (nothing in flight here): the next link goes on with everything done so far.
      if (link.due(state) && allHandlersFinished() && patched(CONTINUE_AS_NEW_PATCH)) {
        setCurrentDetails(`**Continuing as new** after step ${state.steps} (${workflowInfo().historyLength} events)`);
        // A fork says where it came from in every link (the forks of a workflow are found by their memo).
        const forkOf = workflowInfo().memo?.forkOf;
        await makeContinueAsNewFunc<typeof agentTeamWorkflow>(forkOf ? { memo: { forkOf } } : {})(link.nextInput());
      }
      const waiting = pendingRequest(state);
      if (waiting) {
        await ask(waiting);
        continue;
      }
      // An agent's tool calls: each its own activity, all at once; each result is folded as it comes in.
      const calls = toolActions(state);
      if (calls.length > 0) {
        patched(AGENT_TOOLS_PATCH);
        setCurrentDetails(
          `**Round ${state.round}/${state.settings.maxRounds}** · ${calls[0]!.agent} calls ` +
            calls.map((c) => c.call!.name).join(', '),
        );
        await Promise.all(calls.map(runTool));
        continue;
      }
      const action = nextAction(state);
      if (!action) break;
      const request = requestFor(state, action);
      setCurrentDetails(
        `**Round ${action.round}/${state.settings.maxRounds}** · stalls ${state.stallCount}/${state.settings.maxStalls} · ` +
          `next: ${stepSummary(request)}`,
      );
      let result: StepResult | undefined;
      for (let resumes = 0; !result; resumes++) {
        const scope = new CancellationScope();
        inFlight = { scope, step: request.stepIndex + 1 };
        try {
          result = await scope.run(() => callAgent.executeWithOptions({ summary: stepSummary(request) }, [request]));
        } catch (err) {
          // A person interrupted this step: it is dropped (whether it ended cancelled or failed as it was stopped),
          // and the orchestrator replans with their message. A cancel of the whole run is not this.
          if (interrupted && !CancellationScope.current().consideredCancelled) break;
          // Runs recorded before auto-resume existed fail here as they did (the patch marker is absent).
          if (
            !autoResume.enabled ||
            resumes >= autoResume.maxAttempts ||
            !canClear(err) ||
            !patched(AUTO_RESUME_PATCH)
          ) {
            throw err;
          }
          const delayMs = Math.min(autoResume.initialDelayMs * 2 ** resumes, autoResume.maxDelayMs);
          const cause = failureMessage(err);
          const note = `auto-resume ${resumes + 1}/${autoResume.maxAttempts} · step ${request.stepIndex + 1} · ${action.agent} · round ${action.round} · in ${delayMs} ms after: ${cause}`;
          autoResumes.push({
            step: request.stepIndex + 1,
            agent: action.agent,
            round: action.round,
            attempt: resumes + 1,
            delayMs,
            cause,
          });
          upsertMemo({ autoResumes });
          setCurrentDetails(`**Waiting to resume** · ${note}`);
          await sleep(delayMs, { summary: note.slice(0, 200) });
        } finally {
          inFlight = null;
        }
      }
      interrupted = false;
      if (result) {
        state = apply(state, { step: result });
        link.step(result);
      }
    }
  } catch (err) {
    // A cancel request (`agent-team cancel`, `temporal workflow cancel`, the Web UI): say where the run stopped,
    // so its last checkpoint is found at a glance; the run then ends CANCELED. Runs recorded before this
    // existed replay as they ran (the patch marker is absent).
    if (isCancellation(err) && patched(RECORD_STOP_PATCH)) {
      const stoppedAt: StopRecord = { step: state.steps, round: state.round, reason: 'cancelled' };
      upsertMemo({ stoppedAt });
      setCurrentDetails(
        `**Cancelled** after step ${state.steps}: it resumes from its last checkpoint, @${state.steps} or before`,
      );
    }
    throw err;
  }
  if (state.rejected) {
    // A person rejected the run: it ends CANCELED, with the reason. Only a cancel request can end a run so, and
    // a workflow cannot request its own: an activity asks the server for it, and the run ends when it arrives.
    const { kind, by, reason } = state.rejected;
    const message = `rejected at ${kind.replace('_', ' ')} by ${by ?? 'unknown'}${reason ? `: ${reason}` : ''}`;
    const stoppedAt: StopRecord = {
      step: state.steps,
      round: state.round,
      reason: 'rejected',
      rejected: state.rejected,
    };
    upsertMemo({ stoppedAt });
    setCurrentDetails(`**Rejected** · ${message}`);
    try {
      await cancelRun(message);
      await condition(() => false);
    } catch (err) {
      if (isCancellation(err)) throw err;
      // A worker that cannot request the cancel: the run fails, non-retryably, with the type Rejected.
      throw ApplicationFailure.create({ message, type: 'Rejected', nonRetryable: true, details: [state.rejected] });
    }
  }
  setCurrentDetails(
    `Done after ${state.round} rounds, ${state.steps} steps` +
      (state.cutShort ? ` (cut short by ${state.cutShortBy === 'budget' ? 'the budget' : 'max_rounds'})` : ''),
  );
  return resultOf(state);
}
