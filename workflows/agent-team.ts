/**
 * `agentTeamWorkflow`: a Magentic-style team of LLM agents as a durable Temporal workflow.
 *
 * The orchestrator plans, then each round returns a progress ledger naming the next speaker; a stall
 * (no progress, or a loop) counts up, and past `maxStalls` the orchestrator replans; the run ends when
 * the ledger says the task is done or after `maxRounds`, always with the orchestrator's final answer.
 * Every decision is in the pure state machine of ./state; every LLM call is the `callAgent` activity,
 * so history holds each step's input and result: the checkpoints.
 */
import { ApplicationFailure, defineQuery, proxyActivities, setCurrentDetails, setHandler } from '@temporalio/workflow';
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
import type { TeamInput, TeamMessage, TeamResult } from './types';

type Activities = ReturnType<typeof createActivities>;

/** Query: the live state of the run (the same shape `loadCheckpoint` returns). */
export const stateQuery = defineQuery<TeamState>('state');

/** Query: the conversation so far, which `callAgent` fetches instead of receiving it in its input. */
export const transcriptQuery = defineQuery<TeamMessage[]>('transcript');

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

  for (let action = nextAction(state); action; action = nextAction(state)) {
    setCurrentDetails(
      `**Round ${action.round}/${state.settings.maxRounds}** · stalls ${state.stallCount}/${state.settings.maxStalls} · ` +
        `next: ${stepSummary(action)}`,
    );
    const result = await callAgent.executeWithOptions({ summary: stepSummary(action) }, [requestFor(state, action)]);
    state = reduce(state, result);
  }
  setCurrentDetails(
    `Done after ${state.round} rounds, ${state.steps} steps${state.cutShort ? ' (cut short by max_rounds)' : ''}`,
  );
  return resultOf(state);
}
