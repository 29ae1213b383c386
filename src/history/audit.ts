/**
 * The audit trail of a workflow, read from Temporal history: every run of its reset chain, oldest first,
 * with each step's instruction, answer, model, tokens, attempts and timestamps, each reset with its reason
 * and who asked, automatic resumes, and the step a run failed at. `history` prints it, `timeline` draws it.
 */
import type { Client } from '@temporalio/client';
import type {
  HumanAnswer,
  HumanRequest,
  PersonMessage,
  StepKind,
  StepRequest,
  TokenUsage,
  ToolCall,
  ToolOutcome,
} from '../../workflows/types';
import { checkpointsOf, resetOriginOf, seededSteps, type RestoreOrigin } from '../checkpoints/derive';
import { toIso } from '../shared/util';
import { decodeValue } from './decode';
import type { HistoryEvent } from './json';
import { readRuns, type RunHistory, type RunStatus } from './reader';

export interface AuditStep {
  /** The step's number, from 1 (seeded steps of a restored run count). */
  step: number;
  kind: StepKind;
  /** Set on a `plan` step that is a replan. */
  replan?: boolean;
  agent: string;
  round: number;
  instruction?: string;
  answer: string;
  model: string;
  usage: TokenUsage;
  /** USD at the run's prices (0 without a price table). */
  costUsd: number;
  /** Attempts the step took (1 = first try). */
  attempts: number;
  scheduledAt: string | null;
  completedAt: string | null;
  /** The step's span: from scheduling to completion, queueing and retries included. */
  durationMs: number | null;
  /** The model's answer time: the successful LLM call alone. */
  latencyMs: number;
  /** True for steps a reset kept from the run it was made from (not executed again in this run). */
  kept: boolean;
  /** The checkpoint right after the step (null when the run closed in the same workflow task). */
  checkpointId: string | null;
  /** `agent` steps that asked for tools: the calls. */
  toolCalls?: ToolCall[];
  /** `tool` steps: the call (arguments), side-effect class, idempotency key, and whether it worked. */
  tool?: ToolOutcome;
}

/** A step that did not complete: its retries ran out (or it failed for good). */
export interface FailedStep {
  /** The step's number, from 1. */
  step: number;
  kind: StepKind;
  agent: string;
  round: number;
  attempts: number;
  scheduledAt: string | null;
  failedAt: string | null;
  message: string;
}

export interface AuditReset {
  /** The run it branched from, and the checkpoint (event) it branched at. */
  fromRunId: string;
  eventId: number;
  /** Steps kept from the base run. */
  keptSteps: number;
  reason: string;
  /** Who asked (the user before the colon, as `temporal workflow reset` and `agent-team resume` write it). */
  requestedBy: string | null;
  at: string | null;
}

export interface AuditRun {
  runId: string;
  status: RunStatus;
  startedAt: string | null;
  closedAt: string | null;
  resetFrom?: AuditReset;
  restoredFrom?: RestoreOrigin;
  steps: AuditStep[];
  failedStep?: FailedStep;
  /** How a run that did not complete was stopped: the terminate's or cancel's reason and who asked. */
  stopped?: { how: 'terminated' | 'canceled'; reason: string; requestedBy: string | null; at: string | null };
  /** Automatic resumes of failed steps (their timers' summaries). */
  autoResumes: string[];
  /** The questions the run asked a person (gates, budget), each with its answer once given. */
  gates: AuditGate[];
  /** The messages people sent the run (`tell`), each with the step count it followed. */
  messages: (PersonMessage & { afterStep: number })[];
  /** Usage of the steps this run executed (kept and seeded steps excluded). */
  usage: TokenUsage & { llmCalls: number; costUsd: number };
}

/** A question a run asked at a gate, and the answer: who gave it and when (or that none came in time). */
export interface AuditGate {
  requestId: string;
  kind: HumanRequest['kind'];
  /** Steps completed when it was asked. */
  afterStep: number;
  question: string;
  askedAt: string | null;
  /** True for a question a reset kept from the run it was made from. */
  kept: boolean;
  answer?: Omit<HumanAnswer, 'requestId'> & { at: string | null };
}

export interface AuditTrail {
  workflowId: string;
  namespace: string;
  task: string;
  runs: AuditRun[];
}

const ms = (a: string | null, b: string | null): number | null =>
  a && b ? new Date(b).getTime() - new Date(a).getTime() : null;

/** Splits "user: reason" (the Temporal CLI's convention) into who asked and why. */
export function splitReason(message: string): { requestedBy: string | null; reason: string } {
  const match = /^([\w.@-]+): (.*)$/s.exec(message);
  return match ? { requestedBy: match[1]!, reason: match[2]! } : { requestedBy: null, reason: message };
}

/** The audit record of one run, from its history. */
export async function auditRun(client: Client, namespace: string, run: RunHistory): Promise<AuditRun> {
  const byId = new Map(run.events.map((e) => [Number(e.eventId), e]));
  const checkpoints = checkpointsOf(run, namespace);
  const seeded = seededSteps(run).length;
  let resetFrom: AuditReset | undefined;
  const origin = resetOriginOf(run, namespace);
  if (origin) {
    const event = byId.get(origin.eventId);
    const { requestedBy, reason } = splitReason(origin.reason);
    resetFrom = {
      fromRunId: origin.runId,
      eventId: origin.eventId,
      keptSteps: run.steps.filter((s) => s.completedEventId < origin.eventId).length,
      reason,
      requestedBy,
      at: toIso(event?.eventTime),
    };
  }
  const steps: AuditStep[] = run.steps.map((s, i) => {
    const r = s.result;
    const scheduledAt = toIso(byId.get(s.scheduledEventId)?.eventTime);
    const completedAt = s.completedAt?.toISOString() ?? null;
    const checkpoint = checkpoints.find((c) => c.step === seeded + i + 1);
    return {
      // A tool step keeps the number it was given (parallel calls complete in any order).
      step: r.kind === 'tool' ? r.stepIndex + 1 : seeded + i + 1,
      kind: r.kind,
      ...(r.toolCalls ? { toolCalls: r.toolCalls } : {}),
      ...(r.tool ? { tool: r.tool } : {}),
      ...(r.replan ? { replan: true } : {}),
      agent: r.agent,
      round: r.round,
      ...(r.instruction !== undefined ? { instruction: r.instruction } : {}),
      answer: r.content,
      model: r.model,
      usage: r.usage,
      costUsd: s.costUsd,
      attempts: r.attempt,
      scheduledAt,
      completedAt,
      durationMs: ms(scheduledAt, completedAt),
      latencyMs: r.latencyMs,
      kept: resetFrom !== undefined && s.completedEventId < resetFrom.eventId,
      checkpointId: checkpoint?.checkpointId ?? null,
    };
  });
  const executed = steps.filter((s) => !s.kept);
  const usage = {
    promptTokens: executed.reduce((n, s) => n + s.usage.promptTokens, 0),
    completionTokens: executed.reduce((n, s) => n + s.usage.completionTokens, 0),
    llmCalls: executed.filter((s) => s.kind !== 'tool').length,
    costUsd: executed.reduce((n, s) => n + s.costUsd, 0),
  };
  const resetAt = resetFrom?.eventId ?? 0;
  const gates: AuditGate[] = run.requests.map(({ request, eventId, at }) => {
    const answered = run.answers.find((a) => a.answer.requestId === request.id && a.eventId > eventId);
    const { requestId: _, ...answer } = answered?.answer ?? { requestId: '' };
    return {
      requestId: request.id,
      kind: request.kind,
      afterStep: request.step,
      question: request.question,
      askedAt: at?.toISOString() ?? null,
      kept: eventId < resetAt,
      ...(answered
        ? { answer: { ...(answer as Omit<HumanAnswer, 'requestId'>), at: answered.at?.toISOString() ?? null } }
        : {}),
    };
  });
  return {
    runId: run.runId,
    status: run.status,
    startedAt: run.createdAt?.toISOString() ?? null,
    closedAt: run.closeEvent ? toIso(run.closeEvent.eventTime) : null,
    ...stoppedOf(run),
    ...(resetFrom ? { resetFrom } : {}),
    ...(checkpoints[0]?.restoredFrom ? { restoredFrom: checkpoints[0].restoredFrom } : {}),
    steps,
    ...(await failedStepOf(client, run, byId, seeded)),
    autoResumes: run.autoResumes,
    gates,
    messages: run.told.map((t) => ({
      ...t.message,
      afterStep: seeded + run.steps.filter((x) => x.completedEventId < t.eventId).length,
    })),
    usage,
  };
}

/** A terminate's reason (as `agent-team terminate` and `temporal workflow terminate` record it), or a cancel's. */
function stoppedOf(run: RunHistory): { stopped?: AuditRun['stopped'] } {
  const terminated = run.closeEvent?.workflowExecutionTerminatedEventAttributes;
  if (terminated) {
    const { requestedBy, reason } = splitReason(terminated.reason ?? '');
    return {
      stopped: {
        how: 'terminated',
        reason,
        requestedBy: requestedBy ?? (terminated.identity || null),
        at: toIso(run.closeEvent?.eventTime),
      },
    };
  }
  const requested = run.events.find((e) => e.workflowExecutionCancelRequestedEventAttributes);
  if (run.status === 'CANCELED' && requested) {
    const attrs = requested.workflowExecutionCancelRequestedEventAttributes!;
    // A rejection: the run asked for its own cancel; the person is who rejected.
    const rejected = run.stoppedAt?.rejected;
    return {
      stopped: {
        how: 'canceled',
        reason: attrs.cause || 'cancel requested',
        requestedBy: rejected ? rejected.by : attrs.identity || null,
        at: toIso(requested.eventTime),
      },
    };
  }
  return {};
}

/** The last activity that failed or timed out for good (the step the run stopped at). */
async function failedStepOf(
  client: Client,
  run: RunHistory,
  byId: Map<number, HistoryEvent>,
  seeded: number,
): Promise<{ failedStep?: FailedStep }> {
  if (run.status === 'COMPLETED' || run.status === 'RUNNING') return {};
  for (let i = run.events.length - 1; i >= 0; i--) {
    const event = run.events[i]!;
    const failed = event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
    if (!failed) continue;
    const scheduled = byId.get(Number(failed.scheduledEventId));
    const started = byId.get(Number((failed as { startedEventId?: unknown }).startedEventId ?? 0));
    const request = await decodeValue<StepRequest>(
      client.options.loadedDataConverter,
      scheduled?.activityTaskScheduledEventAttributes?.input?.payloads,
    );
    let leaf = failed.failure;
    while (leaf?.cause) leaf = leaf.cause;
    return {
      failedStep: {
        step: (request?.stepIndex ?? seeded + run.steps.length) + 1,
        kind: request.kind,
        agent: request.agent,
        round: request.round,
        attempts: started?.activityTaskStartedEventAttributes?.attempt ?? 1,
        scheduledAt: toIso(scheduled?.eventTime),
        failedAt: toIso(event.eventTime),
        message: leaf?.message ?? failed.failure?.message ?? 'failed',
      },
    };
  }
  return {};
}

/** The audit trail of every run of a workflow id, oldest first. */
export async function auditWorkflow(client: Client, namespace: string, workflowId: string): Promise<AuditTrail> {
  const runs: AuditRun[] = [];
  let task = '';
  for (const run of await readRuns(client, workflowId)) {
    task ||= run.input?.task ?? '';
    runs.push(await auditRun(client, namespace, run));
  }
  return { workflowId, namespace, task, runs };
}
