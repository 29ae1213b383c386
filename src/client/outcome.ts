/** What a run, a resume and a restore report (`--json` prints these), and how it is read from history. */
import { ApplicationFailure } from '@temporalio/client';
import type { TeamResult } from '../../workflows/types';
import { checkpointsOf, type Checkpoint } from '../checkpoints/derive';
import type { HistoryReader, RecordedStep, RunStatus } from '../history/reader';
import { rootCause } from '../shared/errors';
import { sumUsage, type Usage } from '../shared/usage';
import type { TokenUsage } from '../../workflows/types';

/** One step of a run, as `run --json` reports it. */
export interface StepSummary {
  /** Its number, from 1 (checkpoint N is the state after step N). */
  step: number;
  kind: RecordedStep['result']['kind'];
  agent: string;
  round: number;
  usage: TokenUsage;
  /** What the step cost in USD, at the run's prices (0 for a run started without a price table). */
  costUsd: number;
  attempt: number;
  /** The model's answer time (the successful call alone). */
  latencyMs: number;
}

/** Why a run failed, unwrapped from Temporal's failure chain. */
export interface RunError {
  message: string;
  type: string | null;
  agent?: string;
  round?: number;
  httpStatus?: number;
  /** The step it is about (a tool call that may have started and did not finish: `SideEffectUncertain`). */
  step?: number;
}

/** The outcome of a run: what `run --json` prints. */
export interface RunOutcome {
  workflowId: string;
  runId: string;
  status: RunStatus;
  result: TeamResult | null;
  error?: RunError;
  steps: StepSummary[];
  usage: Usage;
  /** Every checkpoint of this run, oldest first (step 0 is the entry checkpoint). */
  checkpoints: Checkpoint[];
  /** Automatic resumes of failed steps (auto_resume_on_failure), as their timers describe them. */
  autoResumes: string[];
}

/** What a resume or a restore carried over instead of paying for it again. */
export interface Reuse {
  /** Steps kept from before the checkpoint (not sent to the LLM again). */
  reusedSteps: number;
  /** Steps this run executed. */
  executedSteps: number;
  /** What the reused steps cost the first time: not paid again. */
  savedUsage: { totalTokens: number; llmCalls: number; costUsd: number };
}

/** The outcome of a resume: the new run, and what it reused from the checkpoint. */
export interface ResumeOutcome extends RunOutcome, Reuse {
  resumedFrom: Checkpoint;
  /** The equivalent Temporal CLI command. */
  resetCommand: string;
}

/** The outcome of `checkpoints import --restore`: the new run, and what it carried over from the export. */
export interface RestoreOutcome extends RunOutcome, Reuse {
  restoredFrom: Checkpoint;
}

/** The reuse of a run continued from `checkpoint` that executed `executedSteps` itself. */
export const reuseOf = (checkpoint: Checkpoint, executedSteps: number): Reuse => ({
  reusedSteps: checkpoint.step,
  executedSteps,
  savedUsage: {
    totalTokens: checkpoint.usage.totalTokens,
    llmCalls: checkpoint.usage.llmCalls,
    costUsd: checkpoint.usage.costUsd,
  },
});

function unwrapError(err: Error | undefined): RunError | undefined {
  if (!err) return undefined;
  const root = rootCause(err);
  const leaf = root instanceof Error ? root : err;
  const app = leaf instanceof ApplicationFailure ? leaf : undefined;
  const details = (app?.details?.[0] ?? {}) as { agent?: string; round?: number; status?: number; step?: number };
  return {
    message: leaf.message,
    type: app?.type ?? leaf.name ?? null,
    ...(details.agent ? { agent: details.agent } : {}),
    ...(typeof details.round === 'number' ? { round: details.round } : {}),
    ...(typeof details.status === 'number' ? { httpStatus: details.status } : {}),
    ...(typeof details.step === 'number' ? { step: details.step } : {}),
  };
}

/** `rejected at plan review by alice: the plan skips the tests`. */
export const rejectionMessage = (r: { kind: string; reason: string; by: string | null }): string =>
  `rejected at ${r.kind.replace('_', ' ')} by ${r.by ?? 'unknown'}${r.reason ? `: ${r.reason}` : ''}`;

/** Summarises a closed run from its history. */
export async function summarize(reader: HistoryReader, namespace: string): Promise<RunOutcome> {
  const { run } = reader;
  const steps: StepSummary[] = run.steps.map((s) => ({
    step: s.result.stepIndex + 1,
    kind: s.result.kind,
    agent: s.result.agent,
    round: s.result.round,
    usage: s.result.usage,
    costUsd: s.costUsd,
    attempt: s.result.attempt,
    latencyMs: s.result.latencyMs,
  }));
  const terminated = run.closeEvent?.workflowExecutionTerminatedEventAttributes;
  const rejected = run.status === 'CANCELED' ? run.stoppedAt?.rejected : undefined;
  const error = terminated
    ? { message: `terminated: ${terminated.reason || 'no reason given'}`, type: 'Terminated' }
    : rejected
      ? { message: rejectionMessage(rejected), type: 'Rejected' }
      : unwrapError(await reader.failure());
  return {
    workflowId: run.workflowId,
    runId: run.runId,
    status: run.status,
    result: await reader.result<TeamResult>(),
    ...(error ? { error } : {}),
    steps,
    usage: sumUsage(steps),
    // A run that was just started, reset or followed is its workflow's latest.
    checkpoints: checkpointsOf(run, namespace, { latest: true }),
    autoResumes: run.autoResumes,
  };
}
