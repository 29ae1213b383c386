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
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertMemo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import {
  InvalidTeamInput,
  initialState,
  nextAction,
  reduce,
  requestFor,
  resultOf,
  stepSummary,
  transcriptOf,
  type TeamState,
} from './state';
import type { StepResult, TeamInput, TeamMessage, TeamResult } from './types';

type Activities = ReturnType<typeof createActivities>;

/** Query: the live state of the run (the same shape `loadCheckpoint` returns). */
export const stateQuery = defineQuery<TeamState>('state');

/** Query: the conversation so far, which `callAgent` fetches instead of receiving it in its input. */
export const transcriptQuery = defineQuery<TeamMessage[]>('transcript');

/** The patch id guarding automatic resumes (see `patched` in the Temporal docs on versioning). */
export const AUTO_RESUME_PATCH = 'auto-resume-on-failure';

/** The patch id guarding the record a cancelled run leaves of where it stopped. */
export const RECORD_STOP_PATCH = 'record-where-cancelled';

/** Where a cancelled run stopped, as its memo (`stoppedAt`) records it. */
export interface StopRecord {
  /** Steps completed: checkpoint @<step> is the last one, from which `resume` continues. */
  step: number;
  round: number;
  reason: 'cancelled';
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
  try {
    state = initialState(input);
  } catch (err) {
    if (err instanceof InvalidTeamInput) throw ApplicationFailure.nonRetryable(err.message, 'InvalidTeamInput');
    throw err;
  }
  setHandler(stateQuery, () => state);
  setHandler(transcriptQuery, () => transcriptOf(state));

  const { llm } = state.settings;
  const { callAgent } = proxyActivities<Activities>({
    // A margin over the HTTP timeout, so the client's own timeout fires first and is classified.
    startToCloseTimeout: llm.timeoutMs + 5_000,
    heartbeatTimeout: llm.heartbeatMs * 2,
    retry: {
      maximumAttempts: llm.maxAttempts,
      initialInterval: llm.initialRetryMs,
      maximumInterval: llm.maxRetryMs,
      backoffCoefficient: llm.backoffCoefficient,
    },
  });

  try {
    const { autoResume } = state.settings;
    const autoResumes: AutoResumeRecord[] = [];
    for (let action = nextAction(state); action; action = nextAction(state)) {
      const request = requestFor(state, action);
      setCurrentDetails(
        `**Round ${action.round}/${state.settings.maxRounds}** · stalls ${state.stallCount}/${state.settings.maxStalls} · ` +
          `next: ${stepSummary(request)}`,
      );
      let result: StepResult | undefined;
      for (let resumes = 0; !result; resumes++) {
        try {
          result = await callAgent.executeWithOptions({ summary: stepSummary(request) }, [request]);
        } catch (err) {
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
        }
      }
      state = reduce(state, result);
    }
  } catch (err) {
    // A cancel request (`agent-team cancel`, `temporal workflow cancel`, the Web UI): say where the run stopped,
    // so its last checkpoint is found at a glance; the run then ends CANCELED. Runs recorded before this
    // existed replay as they ran (the patch marker is absent).
    if (isCancellation(err) && patched(RECORD_STOP_PATCH)) {
      const stoppedAt: StopRecord = { step: state.steps, round: state.round, reason: 'cancelled' };
      upsertMemo({ stoppedAt });
      setCurrentDetails(
        `**Cancelled** after step ${state.steps}: resume from its last checkpoint (@${state.steps}) with \`agent-team resume\``,
      );
    }
    throw err;
  }
  setCurrentDetails(
    `Done after ${state.round} rounds, ${state.steps} steps${state.cutShort ? ' (cut short by max_rounds)' : ''}`,
  );
  return resultOf(state);
}
