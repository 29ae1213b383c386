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

/** One automatic resume, as the run's memo lists it. */
export interface AutoResumeRecord {
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
  let leaf = err as Error;
  while (leaf.cause instanceof Error) leaf = leaf.cause;
  return leaf.message.replace(/\s+/g, ' ').slice(0, 160);
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

  const { autoResume } = state.settings;
  const autoResumes: AutoResumeRecord[] = [];
  for (let action = nextAction(state); action; action = nextAction(state)) {
    setCurrentDetails(
      `**Round ${action.round}/${state.settings.maxRounds}** · stalls ${state.stallCount}/${state.settings.maxStalls} · ` +
        `next: ${stepSummary(action)}`,
    );
    let result: StepResult | undefined;
    for (let resumes = 0; !result; resumes++) {
      try {
        result = await callAgent.executeWithOptions({ summary: stepSummary(action) }, [requestFor(state, action)]);
      } catch (err) {
        // Runs recorded before auto-resume existed fail here as they did (the patch marker is absent).
        if (!autoResume.enabled || resumes >= autoResume.maxAttempts || !canClear(err) || !patched(AUTO_RESUME_PATCH)) {
          throw err;
        }
        const delayMs = Math.min(autoResume.initialDelayMs * 2 ** resumes, autoResume.maxDelayMs);
        const cause = failureMessage(err);
        const note = `auto-resume ${resumes + 1}/${autoResume.maxAttempts} · ${action.agent} · round ${action.round} · in ${delayMs} ms after: ${cause}`;
        autoResumes.push({
          step: state.steps,
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
  setCurrentDetails(
    `Done after ${state.round} rounds, ${state.steps} steps${state.cutShort ? ' (cut short by max_rounds)' : ''}`,
  );
  return resultOf(state);
}
