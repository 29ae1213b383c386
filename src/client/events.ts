/**
 * What happens while a run is followed, as one typed stream of events: the CLI renders them, the library hands
 * them on (`onEvent`, or `events()` as an AsyncIterable), tests read them as data. Answering a question a run asks
 * is not an event but a policy: the {@link Responder}.
 */
import type OpenAI from 'openai';
import type { LiveText } from '../../activities';
import type { HumanAnswer, HumanRequest, PersonMessage, ToolRequest } from '../../workflows/types';
import type { LoadedCheckpoint } from '../checkpoints/derive';
import type { RecordedStep } from '../history/reader';
import type { ReplayReport } from '../history/replay';
import type { RunOutcome } from './outcome';

/** Why this process hosts a worker for a run it follows. */
export type HostingReason =
  /** The run has a task queue of its own (`<task_queue>/<workflowId>`): only a process that follows it serves it. */
  | 'own-queue'
  /** The run is on a shared queue that no worker has polled lately: this process serves it until the run ends. */
  | 'unserved';

export type RunEvent =
  /** This process hosts a worker for the run, on `taskQueue`. */
  | { type: 'hosting'; taskQueue: string; reason: HostingReason }
  /** A resume checked that the workflow code replays the history it keeps. */
  | { type: 'replay-checked'; report: ReplayReport }
  /** A resume reset the workflow to the checkpoint (`resetCommand`: the same with `temporal workflow reset`). */
  | { type: 'reset'; checkpoint: LoadedCheckpoint; resetCommand: string }
  /** The run is started (or reset, or attached to) and followed; `taskQueue` serves it. */
  | { type: 'started'; workflowId: string; runId: string; taskQueue: string }
  /** A step completed; `reused`: kept from the checkpoint a resume started from. */
  | { type: 'step'; step: RecordedStep; reused: boolean }
  /** The text of the step in progress so far, as the model writes it (from the step's heartbeats). */
  | { type: 'live-text'; live: LiveText }
  /** A tool call was scheduled (its end is a `step`). */
  | { type: 'tool-scheduled'; request: ToolRequest }
  /** A step's retries ran out on an error that can clear: the run resumes it after a wait (its summary). */
  | { type: 'auto-resume'; note: string }
  /** No worker polls the run's task queue: nothing runs its steps until one does. */
  | { type: 'unserved'; taskQueue: string }
  /** The run waits on a person (a gate, the budget). */
  | { type: 'waiting'; workflowId: string; request: HumanRequest }
  /** What it waited on was answered (here, elsewhere, or by its timeout). */
  | { type: 'answered'; answer: HumanAnswer }
  /** A person's message (`tell`) the run took: its orchestrator reads it next. */
  | { type: 'message'; message: PersonMessage }
  /** An answer the responder gave was refused (someone else answered first, say). */
  | { type: 'answer-refused'; error: Error }
  /** The run continued as new (its history reached the bound): `runId` goes on from step `step`. */
  | { type: 'continued'; workflowId: string; fromRunId: string; runId: string; step: number; events: number }
  /** The run closed. */
  | { type: 'finished'; outcome: RunOutcome };

/** An answer as a caller gives it: the request id is filled in, and `answeredBy` defaults to the OS user. */
export type AnswerInput = Omit<HumanAnswer, 'requestId' | 'timedOut'>;

/**
 * Answers a question the followed run asks (the CLI's prompt on a terminal, the library's `onRequest`): an
 * answer to give, or nothing to leave it to someone else (`approve` from any shell, `people.respond()` from any
 * process, `temporal workflow update`). `signal` aborts once the question is answered elsewhere or the run ends.
 */
export type Responder = (
  request: HumanRequest,
  context: { workflowId: string; signal: AbortSignal },
) => Promise<AnswerInput | void | undefined> | AnswerInput | void | undefined;

/** How a run is executed and followed. */
export interface ExecuteOptions {
  /**
   * Host a worker in this process. A new run then gets a task queue of its own, so this worker serves that run
   * only, with this process's LLM endpoint and key; `false` starts it on the shared queue (`temporal.task_queue`)
   * that `agent-team worker` deployments serve. For a run that exists already (resume, attach): its own queue is
   * served; a shared one only when no worker has polled it lately. @default true
   */
  worker?: boolean;
  /** Use the offline model (also the default when no OpenAI variables are set). */
  offline?: boolean;
  /** Use this `openai` client instead (build it with `maxRetries: 0`). */
  openai?: OpenAI;
  /**
   * Aborting it detaches: following stops, the hosted worker stops taking steps (the one in flight may finish,
   * within worker.shutdown_grace_ms), and the call rejects with a DetachedError. The run goes on in Temporal.
   */
  signal?: AbortSignal;
  /** Told of everything that happens (see {@link RunEvent}). */
  onEvent?: (event: RunEvent) => void;
  /**
   * Read the text of the step in progress (`live-text` events): polls the run every 400 ms while it is followed.
   * @default false
   */
  live?: boolean;
  /** Answers the questions the run asks (see {@link Responder}). */
  answer?: Responder;
}

/**
 * Events as an AsyncIterable: pushed as they happen, read with `for await`. The iteration ends once the stream
 * is closed (after `finished`), or throws what {@link EventStream.fail} was given.
 */
export class EventStream<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private waiter: (() => void) | null = null;
  private done = false;
  private error: unknown = null;

  push = (item: T): void => {
    this.queue.push(item);
    this.wake();
  };

  close(): void {
    this.done = true;
    this.wake();
  }

  fail(error: unknown): void {
    this.error = error ?? new Error('failed');
    this.close();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.queue.length > 0) {
        yield this.queue.shift()!;
        continue;
      }
      if (this.done) {
        if (this.error) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }
}
