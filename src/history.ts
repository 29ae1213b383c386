/**
 * Reading a run's Temporal history: its input, its completed agent steps (each with the event ids that make
 * it a checkpoint), and how it ended. The same reader serves live progress (`followRun`, a long poll) and
 * the run summary; the checkpoint adapter builds on it.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import {
  decodeFromPayloadsAtIndex,
  decodeOptionalFailureToOptionalError,
  decodeOptionalSinglePayload,
} from '@temporalio/common/lib/internal-non-workflow';
import type { StepResult, TeamInput } from '../workflows/types';
import { explainDecodeError } from './codec';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A completed agent step as history records it. */
export interface RecordedStep {
  result: StepResult;
  scheduledEventId: number;
  completedEventId: number;
  /** The WorkflowTaskCompleted event right after the step: the checkpoint's reset point. Null while pending. */
  checkpointEventId: number | null;
  completedAt: Date | null;
}

/** How a run closed. */
export type RunStatus =
  'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED' | 'TERMINATED' | 'TIMED_OUT' | 'CONTINUED_AS_NEW';

export interface RunHistory {
  workflowId: string;
  runId: string;
  input: TeamInput | null;
  /** The first WorkflowTaskCompleted: the entry checkpoint (before any agent ran). */
  entryEventId: number | null;
  startedAt: Date | null;
  steps: RecordedStep[];
  /** Automatic resumes (the summaries of their timers), in order. */
  autoResumes: string[];
  status: RunStatus;
  closeEvent: HistoryEvent | null;
  events: HistoryEvent[];
}

const toNumber = (id: unknown): number => Number(id ?? 0);
const toDate = (ts: temporal.api.history.v1.IHistoryEvent['eventTime']): Date | null =>
  ts ? new Date(Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)) : null;

function closeStatus(event: HistoryEvent): RunStatus | null {
  if (event.workflowExecutionCompletedEventAttributes) return 'COMPLETED';
  if (event.workflowExecutionFailedEventAttributes) return 'FAILED';
  if (event.workflowExecutionCanceledEventAttributes) return 'CANCELED';
  if (event.workflowExecutionTerminatedEventAttributes) return 'TERMINATED';
  if (event.workflowExecutionTimedOutEventAttributes) return 'TIMED_OUT';
  if (event.workflowExecutionContinuedAsNewEventAttributes) return 'CONTINUED_AS_NEW';
  return null;
}

/** Incrementally folds history events into a {@link RunHistory}; feed it events in order. */
export class HistoryReader {
  readonly run: RunHistory;
  private pending: RecordedStep[] = [];

  constructor(
    private readonly client: Client,
    workflowId: string,
    runId: string,
    /** Called with the summary of each automatic resume as it is read. */
    private readonly onAutoResume: (note: string) => void = () => {},
  ) {
    this.run = {
      workflowId,
      runId,
      input: null,
      entryEventId: null,
      startedAt: null,
      steps: [],
      autoResumes: [],
      status: 'RUNNING',
      closeEvent: null,
      events: [],
    };
  }

  /** Adds one event; returns the step it completed, if any. */
  async add(event: HistoryEvent): Promise<RecordedStep | null> {
    try {
      return await this.fold(event);
    } catch (err) {
      throw explainDecodeError(err);
    }
  }

  private async fold(event: HistoryEvent): Promise<RecordedStep | null> {
    const converter = this.client.options.loadedDataConverter;
    const id = toNumber(event.eventId);
    this.run.events.push(event);
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) {
      this.run.input = await decodeFromPayloadsAtIndex<TeamInput>(converter, 0, started.input?.payloads);
      this.run.startedAt = toDate(event.eventTime);
    }
    if (event.workflowTaskCompletedEventAttributes) {
      if (this.run.entryEventId === null) this.run.entryEventId = id;
      for (const step of this.pending) step.checkpointEventId = id;
      this.pending = [];
    }
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      const result = await decodeFromPayloadsAtIndex<StepResult>(converter, 0, completed.result?.payloads);
      const step: RecordedStep = {
        result,
        scheduledEventId: toNumber(completed.scheduledEventId),
        completedEventId: id,
        checkpointEventId: null,
        completedAt: toDate(event.eventTime),
      };
      this.run.steps.push(step);
      this.pending.push(step);
      return step;
    }
    const timer = event.timerStartedEventAttributes;
    if (timer && event.userMetadata?.summary) {
      const note = await decodeOptionalSinglePayload<string>(converter, event.userMetadata.summary);
      if (typeof note === 'string' && note.startsWith('auto-resume')) {
        this.run.autoResumes.push(note);
        this.onAutoResume(note);
      }
    }
    const status = closeStatus(event);
    if (status) {
      this.run.status = status;
      this.run.closeEvent = event;
    }
    return null;
  }

  /** The workflow's return value (decoded), if it completed. */
  async result<T>(): Promise<T | null> {
    const completed = this.run.closeEvent?.workflowExecutionCompletedEventAttributes;
    if (!completed) return null;
    return decodeFromPayloadsAtIndex<T>(this.client.options.loadedDataConverter, 0, completed.result?.payloads);
  }

  /** The failure that closed the run (decoded), if it failed. */
  async failure(): Promise<Error | undefined> {
    const failure = this.run.closeEvent?.workflowExecutionFailedEventAttributes?.failure;
    return decodeOptionalFailureToOptionalError(this.client.options.loadedDataConverter, failure);
  }
}

/** Reads a run's whole history (closed or not). */
export async function readRun(client: Client, workflowId: string, runId?: string): Promise<HistoryReader> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const resolvedRunId = runId ?? (await handle.describe()).runId;
  const reader = new HistoryReader(client, workflowId, resolvedRunId);
  const history = await client.workflow.getHandle(workflowId, resolvedRunId).fetchHistory();
  for (const event of history.events ?? []) await reader.add(event);
  return reader;
}

/**
 * Follows a run as it happens (long-polling its history), calling `onStep` for each completed agent step,
 * and resolves with the reader once the run closes.
 */
export async function followRun(
  client: Client,
  workflowId: string,
  runId: string,
  onStep: (step: RecordedStep) => void,
  onAutoResume?: (note: string) => void,
): Promise<HistoryReader> {
  const reader = new HistoryReader(client, workflowId, runId, onAutoResume);
  let nextPageToken: Uint8Array | undefined;
  let lastEventId = 0;
  for (;;) {
    const response = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      waitNewEvent: true,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    for (const event of response.history?.events ?? []) {
      // A poll that restarts from the first page must not add events twice.
      if (toNumber(event.eventId) <= lastEventId) continue;
      lastEventId = toNumber(event.eventId);
      const step = await reader.add(event);
      if (step) onStep(step);
    }
    if (reader.run.closeEvent) return reader;
    nextPageToken = response.nextPageToken && response.nextPageToken.length > 0 ? response.nextPageToken : undefined;
  }
}
