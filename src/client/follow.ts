/**
 * Following a run to its end: its history long-polled (every step, tool call, automatic resume and question as
 * history records it), the step in progress and the workers of its queue watched, each told as a {@link RunEvent};
 * a question the run asks handed to the responder, and its answer sent. Resolves with the run's outcome.
 */
import type { HumanAnswer, HumanRequest } from '../../workflows/types';
import { followRun, type RecordedStep } from '../history/reader';
import { DetachedError } from '../shared/errors';
import { sumUsage } from '../shared/usage';
import type { ClientContext } from './context';
import type { AnswerInput, ExecuteOptions, RunEvent } from './events';
import { summarize, type RunOutcome } from './outcome';
import { watchRun } from './watch';

export interface FollowOptions extends ExecuteOptions {
  /** The task queue that serves the run (for the "no worker" check and a detach's message). */
  taskQueue?: string;
  /** This process hosts a worker of the run (an answer given in-process needs no other; no "no worker" check). */
  hostsWorker?: boolean;
  /** Whether a step was kept from the checkpoint a resume started from. @default none was */
  reused?: (step: RecordedStep) => boolean;
}

/** Sends an answer to what a run waits on (the people sub-client's `respond`). */
export type Send = (
  workflowId: string,
  answer: AnswerInput & { requestId: string },
  options: { hostWorker: boolean },
) => Promise<unknown>;

export async function followToEnd(
  ctx: ClientContext,
  send: Send,
  workflowId: string,
  runId: string,
  options: FollowOptions = {},
): Promise<RunOutcome> {
  const emit = (event: RunEvent): void => options.onEvent?.(event);
  let seen = 0;
  // The requests handed to the responder, each with a signal aborted once it is answered (here or elsewhere).
  const asked = new Map<string, AbortController>();
  const ask = (request: HumanRequest): void => {
    emit({ type: 'waiting', workflowId, request });
    const { answer } = options;
    if (!answer) return;
    const closed = new AbortController();
    asked.set(request.id, closed);
    void Promise.resolve(answer(request, { workflowId, signal: closed.signal }))
      .then(async (given) => {
        if (given && !closed.signal.aborted) {
          await send(workflowId, { ...given, requestId: request.id }, { hostWorker: !options.hostsWorker });
        }
      })
      .catch((err: unknown) =>
        emit({ type: 'answer-refused', error: err instanceof Error ? err : new Error(String(err)) }),
      );
  };
  // A run that continues as new is followed into each next link: one outcome for the chain.
  const links: RunOutcome[] = [];
  let current = runId;
  let watch: { stop(): void } | null = null;
  try {
    for (;;) {
      watch = watchRun(
        ctx.temporal,
        ctx.namespace,
        { workflowId, runId: current },
        {
          ...(options.live ? { onLive: (live) => emit({ type: 'live-text', live }) } : {}),
          // A worker of this process serves it: no need to ask whether one does.
          ...(!options.hostsWorker && options.taskQueue
            ? { onUnserved: (taskQueue: string) => emit({ type: 'unserved', taskQueue }), taskQueue: options.taskQueue }
            : {}),
        },
      );
      const reader = await followRun(ctx.temporal, workflowId, current, {
        onToolScheduled: (request) => emit({ type: 'tool-scheduled', request }),
        onStep: (step) => {
          seen++;
          emit({ type: 'step', step, reused: options.reused?.(step) ?? false });
        },
        onAutoResume: (note) => emit({ type: 'auto-resume', note }),
        onMessage: (message) => emit({ type: 'message', message }),
        onRequest: ask,
        onRequestClosed: (id: string, answer: HumanAnswer | null) => {
          asked.get(id)?.abort();
          asked.delete(id);
          if (answer) emit({ type: 'answered', answer });
        },
        ...(options.signal ? { signal: options.signal } : {}),
      });
      watch.stop();
      const outcome = await summarize(reader, ctx.namespace);
      const next = reader.run.closeEvent?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      if (!next) return chainOutcome([...links, outcome]);
      links.push(outcome);
      emit({
        type: 'continued',
        workflowId,
        fromRunId: current,
        runId: next,
        step: outcome.steps.at(-1)?.step ?? 0,
        events: reader.run.events.length,
      });
      current = next;
    }
  } catch (err) {
    if (options.signal?.aborted) {
      throw new DetachedError(workflowId, current, options.taskQueue ?? null, seen, { cause: err });
    }
    throw err;
  } finally {
    watch?.stop();
    for (const open of asked.values()) open.abort();
  }
}

/** The outcome of a chain of links (a run that continued as new): the last link's, with every link's steps. */
function chainOutcome(links: RunOutcome[]): RunOutcome {
  const last = links[links.length - 1]!;
  if (links.length === 1) return last;
  const steps = links.flatMap((l) => l.steps);
  return {
    ...last,
    steps,
    usage: sumUsage(steps),
    checkpoints: links.flatMap((l) => l.checkpoints),
    autoResumes: links.flatMap((l) => l.autoResumes),
  };
}
