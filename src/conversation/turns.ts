/**
 * Conversations in turns: a follow-up (`agent-team ask`) is the next run of the same workflow id, whose input is
 * the earlier run's, its steps as a seed (folded, never sent again) and the follow-up (`TeamInput.followUp`); the
 * workflow's reducer opens the turn (`withTurn`). What here is pure: the follow-up's input, and the turns of a
 * conversation as its state records them.
 */
import type { TeamState } from '../../workflows/model';
import { turnRecordOf } from '../../workflows/state';
import type { FollowUp, TeamInput } from '../../workflows/types';
import { encodeCheckpointId } from '../checkpoints/ids';
import { seededSteps, type Checkpoint } from '../checkpoints/derive';
import { piecedWhenLarge, seedInput, type SeedPoint } from '../checkpoints/seed';
import type { RunHistory } from '../history/reader';

/** The point a follow-up continues from when it is the end of `run`: every step it has, every answer it took. */
export function endOf(run: RunHistory, namespace: string): SeedPoint {
  const tasks = run.events.filter((e) => e.workflowTaskCompletedEventAttributes);
  const lastTask = Number(tasks[tasks.length - 1]?.eventId ?? run.entryEventId ?? 0);
  return {
    checkpointId: encodeCheckpointId({ namespace, workflowId: run.workflowId, runId: run.runId, eventId: lastTask }),
    workflowId: run.workflowId,
    runId: run.runId,
    step: seededSteps(run).length + run.steps.length,
    eventId: Number.MAX_SAFE_INTEGER,
  };
}

/**
 * The input of the turn that follows up `run` at `from` (its end, or a checkpoint with `ask --from`): the run's
 * input with its steps up to there as the seed (read in pieces from `run` when too large to carry) and the follow-up.
 */
export function followUpInput(run: RunHistory, from: SeedPoint, followUp: FollowUp): TeamInput {
  return piecedWhenLarge({ ...seedInput(run, from), followUp }, run);
}

/** One turn of a conversation: what was asked, by whom, its steps, its answer and what it cost. */
export interface TurnSummary {
  /** From 1. */
  turn: number;
  task: string;
  by: string | null;
  at: string | null;
  /** Its steps: from `fromStep` to `toStep` (inclusive); for the turn in progress, up to the latest step. */
  fromStep: number;
  toStep: number;
  /** Its final answer; null while it works, or when a follow-up came before it answered. */
  answer: string | null;
  /**
   * `answered`; `left` (a follow-up came from a checkpoint before it answered, `ask --from`); for the latest turn
   * without an answer, its run's status: `running`, `failed`, `canceled`, `terminated`, `timed_out`.
   */
  status: 'answered' | 'left' | 'running' | 'failed' | 'canceled' | 'terminated' | 'timed_out';
  /** The summary step that opened it (its earlier turns summarised), when one did. */
  summaryStep?: number;
  /** This turn's own tokens, calls and cost (not the conversation's). */
  usage: TeamState['usage'];
}

/**
 * The turns of the conversation whose state is `state` (its last turn being the current one), oldest first;
 * `runStatus`: the status of the run the current turn is in.
 */
export function turnsOf(state: TeamState, runStatus = 'COMPLETED'): TurnSummary[] {
  const earlier = state.turns ?? [];
  const current = turnRecordOf(state);
  const summaries = state.messages.filter((m) => m.kind === 'summary').map((m) => m.step);
  return [...earlier, current].map((t, i, all) => {
    const before = all[i - 1];
    const last = i === all.length - 1;
    const from = (before?.step ?? 0) + 1;
    const summaryStep = summaries.find((s) => s === from);
    const latest = runStatus.toLowerCase() as TurnSummary['status'] | 'completed';
    const status: TurnSummary['status'] =
      t.answer !== null ? 'answered' : !last ? 'left' : latest === 'completed' ? 'answered' : latest;
    return {
      turn: i + 1,
      task: t.task,
      by: t.by,
      at: t.at,
      fromStep: (before?.step ?? 0) + 1,
      toStep: t.step,
      answer: t.answer,
      status,
      ...(summaryStep !== undefined ? { summaryStep } : {}),
      usage: usageBetween(before?.usage, t.usage),
    };
  });
}

function usageBetween(from: TeamState['usage'] | undefined, to: TeamState['usage']): TeamState['usage'] {
  if (!from) return { ...to };
  const round = (x: number): number => Math.round(x * 1e9) / 1e9;
  return {
    promptTokens: to.promptTokens - from.promptTokens,
    completionTokens: to.completionTokens - from.completionTokens,
    cachedPromptTokens: to.cachedPromptTokens - from.cachedPromptTokens,
    llmCalls: to.llmCalls - from.llmCalls,
    costUsd: round(to.costUsd - from.costUsd),
  };
}

/**
 * The run before `run` in its conversation's chain: the turn it follows up (`ask`), or the link it continues
 * (continue-as-new); with the steps it carries over. Null for a conversation's first run.
 */
export function previousTurnRun(run: RunHistory): { runId: string; step: number } | null {
  const input: TeamInput | null = run.input;
  if (!input?.restore || !(input.followUp || input.restore.continued)) return null;
  if (input.restore.workflowId !== run.workflowId) return null;
  return { runId: input.restore.runId, step: seededSteps(run).length };
}

export type { Checkpoint };
