/**
 * Reading a run's Temporal history: its input, its completed agent steps (each with the event ids that make
 * it a checkpoint), and how it ended. The same reader serves live progress (`followRun`, a long poll) and
 * the run summary; the checkpoint adapter builds on it.
 */
import type { Client } from '@temporalio/client';
import type { LoadedDataConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { costOf } from '../../workflows/pricing';
import type {
  HumanAnswer,
  HumanRequest,
  PersonMessage,
  StepResult,
  TeamInput,
  ToolRequest,
  ToolSpec,
} from '../../workflows/types';
import type { RunStatus } from '../shared/constants';
import { WORKFLOW_TYPE } from '../shared/constants';
import { isNotFound } from '../shared/grpc';
import { queryString, toDate, workflowIdClause } from '../shared/util';
import { decodeFailure, decodeOptionalValue, decodeValue } from './decode';

export type { RunStatus } from '../shared/constants';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A completed agent step as history records it. */
export interface RecordedStep {
  result: StepResult;
  scheduledEventId: number;
  completedEventId: number;
  /**
   * The WorkflowTaskCompleted event right after the step: the checkpoint's reset point. Null while pending, and
   * for a step whose result came in with a cancel request (see `cameWithCancel`).
   */
  checkpointEventId: number | null;
  /**
   * Set when a cancel request reached the run before the workflow task that took this step's result (it came
   * in with the result): a reset to that task would keep the request (it is before the reset point, so nothing
   * can leave it out) and the resumed run would be cancelled again at once. Such a step has no checkpoint.
   */
  cameWithCancel?: boolean;
  completedAt: Date | null;
  /** What the step cost in USD, at the run's prices (0 without a price table). */
  costUsd: number;
}

/** An answer a run took, as its memo recorded it when it did (`lastAnswer`). */
export interface RecordedAnswer {
  answer: HumanAnswer;
  eventId: number;
  at: Date | null;
}

export interface RunHistory {
  workflowId: string;
  runId: string;
  input: TeamInput | null;
  /** The first WorkflowTaskCompleted: the entry checkpoint (before any agent ran). */
  entryEventId: number | null;
  /** The WorkflowExecutionStarted event's time: for a run made by a reset, the first run's start (history copies it). */
  startedAt: Date | null;
  /** When this run came to be: its start, or for a run made by a reset, the reset. */
  createdAt: Date | null;
  /** For a run made by a reset: the run it was reset from (history names it). */
  baseRunId: string | null;
  steps: RecordedStep[];
  /** Automatic resumes (the summaries of their timers), in order. */
  autoResumes: string[];
  /** The answers the run took at its gates, in order, each with the event that recorded it. */
  answers: RecordedAnswer[];
  /** The messages people sent the run (`tell`), in the order it took them, each with the event that recorded it. */
  told: { message: PersonMessage; eventId: number; at: Date | null }[];
  /** The questions the run asked at its gates, in order, each with the event that recorded it. */
  requests: { request: HumanRequest; eventId: number; at: Date | null }[];
  /** What the run waits on now (a gate's request), as its memo last said; null when nothing. */
  pending: HumanRequest | null;
  /** Where a cancelled (or rejected) run stopped, as its memo says. */
  stoppedAt: {
    step: number;
    round: number;
    reason: 'cancelled' | 'rejected';
    rejected?: { kind: HumanRequest['kind']; reason: string; by: string | null };
  } | null;
  /** Every tool call the run scheduled, in order, with its result once it completed. */
  toolCalls: RecordedToolCall[];
  /**
   * For a run whose seed came in pieces (`input.restore.pieces`): the steps its `loadSeedPiece` activities
   * recorded, in order (the seed itself is `seededSteps(run)`, with a fork's edits in place).
   */
  seedPieces: StepResult[];
  /** The tools its MCP servers offered, as the run read them when it started (`listMcpTools`), with that event. */
  mcpTools: { eventId: number; specs: ToolSpec[] } | null;
  status: RunStatus;
  closeEvent: HistoryEvent | null;
  events: HistoryEvent[];
}

/** A tool call as history records it: scheduled (its request), and completed or not. */
export interface RecordedToolCall {
  request: ToolRequest;
  scheduledEventId: number;
  /** Null while it runs, or when it never completed (the run failed or was reset first). */
  completedEventId: number | null;
}

const toNumber = (id: unknown): number => Number(id ?? 0);

/** The activities whose results are steps: agent (model) calls and tool calls. */
const STEP_ACTIVITIES = new Set(['callAgent', 'callTool']);

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
  private cancelRequested = false;
  /** Scheduled events of activities that are not agent steps, with their activity type. */
  private readonly otherActivities = new Map<number, string>();

  constructor(
    /** Decodes payloads: a client's `options.loadedDataConverter` (it applies the codecs of encryption at rest). */
    private readonly converter: LoadedDataConverter,
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
      createdAt: null,
      baseRunId: null,
      steps: [],
      autoResumes: [],
      answers: [],
      told: [],
      requests: [],
      pending: null,
      stoppedAt: null,
      toolCalls: [],
      seedPieces: [],
      mcpTools: null,
      status: 'RUNNING',
      closeEvent: null,
      events: [],
    };
  }

  /** Adds one event; returns the step it completed, if any. */
  async add(event: HistoryEvent): Promise<RecordedStep | null> {
    const { converter } = this;
    const id = toNumber(event.eventId);
    this.run.events.push(event);
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) {
      this.run.input = await decodeValue<TeamInput>(converter, started.input?.payloads);
      this.run.startedAt = toDate(event.eventTime);
      this.run.createdAt ??= this.run.startedAt;
    }
    const resetFailure = event.workflowTaskFailedEventAttributes;
    if (resetFailure?.baseRunId && resetFailure.newRunId === this.run.runId) {
      this.run.createdAt = toDate(event.eventTime);
      this.run.baseRunId = resetFailure.baseRunId;
    }
    // A reset keeps every event before its point: once a cancel request is in, no later point is a checkpoint.
    if (event.workflowExecutionCancelRequestedEventAttributes) this.cancelRequested = true;
    if (event.workflowTaskCompletedEventAttributes) {
      // The entry checkpoint: the first workflow task, or, for a seed in pieces, the first once they are all in.
      const pieces = this.run.input?.restore?.pieces;
      const seeded = !pieces || this.run.seedPieces.length >= pieces.count;
      if (this.run.entryEventId === null && seeded) this.run.entryEventId = id;
      for (const step of this.pending) {
        if (this.cancelRequested) step.cameWithCancel = true;
        else step.checkpointEventId = id;
      }
      this.pending = [];
    }
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled && !STEP_ACTIVITIES.has(scheduled.activityType?.name ?? ''))
      this.otherActivities.set(id, scheduled.activityType?.name ?? '');
    if (scheduled?.activityType?.name === 'callTool') {
      const request = await decodeValue<ToolRequest>(converter, scheduled.input?.payloads);
      this.run.toolCalls.push({ request, scheduledEventId: id, completedEventId: null });
    }
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed && this.otherActivities.get(toNumber(completed.scheduledEventId)) === 'loadSeedPiece') {
      this.run.seedPieces.push(...(await decodeValue<StepResult[]>(converter, completed.result?.payloads)));
    }
    if (completed && this.otherActivities.get(toNumber(completed.scheduledEventId)) === 'listMcpTools') {
      this.run.mcpTools = { eventId: id, specs: await decodeValue<ToolSpec[]>(converter, completed.result?.payloads) };
    }
    // An agent step (not the activity that ends a rejected run).
    if (completed && !this.otherActivities.has(toNumber(completed.scheduledEventId))) {
      const result = await decodeValue<StepResult>(converter, completed.result?.payloads);
      const step: RecordedStep = {
        result,
        costUsd: costOf(result.usage, result.model, this.run.input?.pricing ?? {}),
        scheduledEventId: toNumber(completed.scheduledEventId),
        completedEventId: id,
        checkpointEventId: null,
        completedAt: toDate(event.eventTime),
      };
      this.run.steps.push(step);
      this.pending.push(step);
      const tool = this.run.toolCalls.find((t) => t.scheduledEventId === step.scheduledEventId);
      if (tool) tool.completedEventId = id;
      return step;
    }
    const memo = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields;
    if (memo?.lastAnswer) {
      const answer = await decodeOptionalValue<HumanAnswer>(converter, memo.lastAnswer);
      if (answer) this.run.answers.push({ answer, eventId: id, at: toDate(event.eventTime) });
    }
    if (memo?.lastMessage) {
      const message = await decodeOptionalValue<PersonMessage>(converter, memo.lastMessage);
      if (message) this.run.told.push({ message, eventId: id, at: toDate(event.eventTime) });
    }
    if (memo?.stoppedAt) {
      this.run.stoppedAt = (await decodeOptionalValue<RunHistory['stoppedAt']>(converter, memo.stoppedAt)) ?? null;
    }
    if (memo && 'pending' in memo) {
      this.run.pending = await decodeOptionalValue<HumanRequest | null>(converter, memo.pending);
      if (this.run.pending)
        this.run.requests.push({ request: this.run.pending, eventId: id, at: toDate(event.eventTime) });
    }
    const timer = event.timerStartedEventAttributes;
    if (timer && event.userMetadata?.summary) {
      const note = await decodeOptionalValue<string>(converter, event.userMetadata.summary);
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
    return decodeValue<T>(this.converter, completed.result?.payloads);
  }

  /** The failure that closed the run (decoded), if it failed. */
  async failure(): Promise<Error | undefined> {
    const failure = this.run.closeEvent?.workflowExecutionFailedEventAttributes?.failure;
    return decodeFailure(this.converter, failure);
  }
}

/** The run ids of a workflow id that the visibility store lists (it may lag a moment behind the server). */
async function visibleRuns(client: Client, workflowId: string): Promise<{ runId: string; start: number }[]> {
  const { clause, matches } = workflowIdClause(workflowId);
  const query = clause ?? `WorkflowType = ${queryString(WORKFLOW_TYPE)}`;
  const runs: { runId: string; start: number }[] = [];
  for await (const wf of client.workflow.list({ query })) {
    if (matches(wf.workflowId)) runs.push({ runId: wf.runId, start: wf.startTime.getTime() });
  }
  return runs;
}

/** The latest run of a workflow id, from DescribeWorkflowExecution (strongly consistent); null when there is none. */
export async function latestRunId(client: Client, workflowId: string): Promise<string | null> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).runId;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/**
 * The run ids of a workflow id (every run of its reset chain, and earlier runs of the same id), newest first. The
 * latest comes from the server itself (a run a resume or `temporal workflow reset` made a moment ago is there even
 * when visibility lags behind, as it does on a cluster); visibility adds the older ones.
 */
export async function runsOf(client: Client, workflowId: string): Promise<string[]> {
  const [latest, visible] = await Promise.all([latestRunId(client, workflowId), visibleRuns(client, workflowId)]);
  const ids = visible.sort((a, b) => b.start - a.start).map((r) => r.runId);
  return latest === null ? ids : [latest, ...ids.filter((id) => id !== latest)];
}

/**
 * Every run of a workflow id, read whole, oldest first (by when each was created: a reset's new run after its
 * base). Besides {@link runsOf}, each reset run's base is read from its history, so a chain is whole even when
 * visibility has not caught up with a run in its middle.
 */
export async function readRuns(client: Client, workflowId: string): Promise<RunHistory[]> {
  const runs = new Map<string, RunHistory>();
  const queue = await runsOf(client, workflowId);
  for (let runId = queue.shift(); runId !== undefined; runId = queue.shift()) {
    if (runs.has(runId)) continue;
    let run: RunHistory;
    try {
      ({ run } = await readRun(client, workflowId, runId));
    } catch (err) {
      // Deleted (past retention, or pruned a moment ago while visibility still lists it): not a run any more.
      if (isNotFound(err)) continue;
      throw err;
    }
    runs.set(runId, run);
    if (run.baseRunId && !runs.has(run.baseRunId)) queue.push(run.baseRunId);
  }
  return [...runs.values()].sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
}

/**
 * One call that `signal` can cancel. Each call gets a signal of its own, linked to `signal` while it runs, so
 * a long follow leaves no listeners behind.
 */
async function abortable<T>(client: Client, signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  signal.throwIfAborted();
  const own = new AbortController();
  const cancel = (): void => own.abort(signal.reason);
  signal.addEventListener('abort', cancel, { once: true });
  try {
    return await client.connection.withAbortSignal(own.signal, call);
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

/** Reads a run's whole history (closed or not). */
export async function readRun(client: Client, workflowId: string, runId?: string): Promise<HistoryReader> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const resolvedRunId = runId ?? (await handle.describe()).runId;
  const reader = new HistoryReader(client.options.loadedDataConverter, workflowId, resolvedRunId);
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
  options: {
    onStep?: (step: RecordedStep) => void;
    onAutoResume?: (note: string) => void;
    /** Told of each request the run starts waiting on (a gate). */
    onRequest?: (request: HumanRequest) => void;
    /**
     * Told when the request last told of is no longer open: answered, here or elsewhere (with the answer), or the
     * run closed.
     */
    onRequestClosed?: (requestId: string, answer: HumanAnswer | null) => void;
    /** Told of each tool call as it is scheduled. */
    onToolScheduled?: (request: ToolRequest) => void;
    /** Told of each message a person sent the run (`tell`), as the run takes it. */
    onMessage?: (message: PersonMessage) => void;
    /** Aborting it ends the long poll in flight and rejects. */
    signal?: AbortSignal;
  } = {},
): Promise<HistoryReader> {
  const { onStep = () => {}, onAutoResume, onRequest, onRequestClosed, onToolScheduled, onMessage, signal } = options;
  const reader = new HistoryReader(client.options.loadedDataConverter, workflowId, runId, onAutoResume);
  let announced: string | null = null;
  let nextPageToken: Uint8Array | undefined;
  let lastEventId = 0;
  const poll = () =>
    client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      waitNewEvent: true,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
  for (;;) {
    const response = signal ? await abortable(client, signal, poll) : await poll();
    for (const event of response.history?.events ?? []) {
      // A poll that restarts from the first page must not add events twice.
      if (toNumber(event.eventId) <= lastEventId) continue;
      lastEventId = toNumber(event.eventId);
      const told = reader.run.told.length;
      const step = await reader.add(event);
      if (reader.run.told.length > told) onMessage?.(reader.run.told[told]!.message);
      if (step) onStep(step);
      if (onToolScheduled && event.activityTaskScheduledEventAttributes?.activityType?.name === 'callTool')
        onToolScheduled(reader.run.toolCalls[reader.run.toolCalls.length - 1]!.request);
    }
    // A request still open once the page is read (not one answered further on in the same page).
    const waiting = reader.run.closeEvent ? null : reader.run.pending;
    if (announced !== null && waiting?.id !== announced) {
      const id = announced;
      onRequestClosed?.(id, reader.run.answers.find((a) => a.answer.requestId === id)?.answer ?? null);
      announced = null;
    }
    if (reader.run.closeEvent) return reader;
    if (waiting && waiting.id !== announced) {
      announced = waiting.id;
      onRequest?.(waiting);
    }
    nextPageToken = response.nextPageToken && response.nextPageToken.length > 0 ? response.nextPageToken : undefined;
  }
}
