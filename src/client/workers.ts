/**
 * Workers this process hosts: a full worker for a run it follows (or for `agent-team worker`), a worker that only
 * takes an answer, and the questions around them: does any worker serve a task queue, which queue should this
 * process serve for a run.
 */
import { readRun } from '../history/reader';
import { DetachedError } from '../shared/errors';
import { isOwnTaskQueue } from '../temporal/names';
import type { ClientContext } from './context';
import type { ExecuteOptions, HostingReason, RunEvent } from './events';
import { hostDecider, hostWorker, type HostedWorker, type HostedWorkerOptions } from './hosted-worker';
import { pollersOf } from './watch';

export class WorkersClient {
  constructor(private readonly ctx: ClientContext) {}

  /** Creates a worker in this process (with the offline model when asked or when no LLM is configured). */
  async host(options: Partial<HostedWorkerOptions> = {}): Promise<HostedWorker> {
    const { config, target, temporal, log } = this.ctx;
    return hostWorker(
      { config, target, client: temporal, log },
      { ...options, taskQueue: options.taskQueue ?? this.ctx.taskQueue },
    );
  }

  /** A worker that takes workflow tasks only (no activities, no LLM): a run nobody serves takes an answer with it. */
  decider(taskQueue: string): ReturnType<typeof hostDecider> {
    const { target, temporal, log } = this.ctx;
    return hostDecider({ target, client: temporal, log }, taskQueue);
  }

  /** The workers that poll `taskQueue` now (see {@link pollersOf}). */
  pollersOf(taskQueue: string): Promise<number> {
    return pollersOf(this.ctx.temporal, this.ctx.namespace, taskQueue);
  }

  /**
   * The queue a worker of this process should serve for an existing run on `taskQueue`, or null: a run's own
   * queue, yes; another queue (the shared one) only when no worker has polled it in the last minute and a half,
   * since a worker there serves every run on it.
   */
  async queueToServe(
    taskQueue: string,
    workflowId: string,
    options: ExecuteOptions,
  ): Promise<{ taskQueue: string; reason: HostingReason } | null> {
    if (options.worker === false) return null;
    // `<base>/<workflowId>`, whatever base the run was started with (its config may not be this one).
    if (taskQueue.startsWith(`${this.ctx.taskQueue}/`) || isOwnTaskQueue(taskQueue, workflowId)) {
      return { taskQueue, reason: 'own-queue' };
    }
    if ((await this.pollersOf(taskQueue)) > 0) return null;
    return { taskQueue, reason: 'unserved' };
  }

  /**
   * Does `work` (which starts or resets a run and follows it) with a worker hosted in this process on `serve`'s
   * queue, or without one when `serve` is null. The worker is created first, so an LLM or worker configuration
   * problem stops everything before a run exists; it polls while `work` runs and is shut down (gracefully: a step
   * in flight may finish) when it settles. On a detach, the steps that completed meanwhile are told as events.
   */
  async hosting<T>(
    options: ExecuteOptions,
    serve: { taskQueue: string; reason: HostingReason } | null,
    work: () => Promise<T>,
  ): Promise<T> {
    if (serve === null) return work();
    const hosted = await this.host({
      taskQueue: serve.taskQueue,
      ...(options.offline !== undefined ? { offline: options.offline } : {}),
      ...(options.openai ? { openai: options.openai } : {}),
    });
    options.onEvent?.({ type: 'hosting', taskQueue: serve.taskQueue, reason: serve.reason });
    try {
      return (await hosted.run(work())) as T;
    } catch (err) {
      // Detached: the worker let the step in flight finish before it stopped; report the steps that completed.
      if (err instanceof DetachedError) {
        await this.releaseSticky(err.workflowId, err.runId);
        if (options.onEvent) {
          const run = await readRun(this.ctx.temporal, err.workflowId, err.runId).then(
            (r) => r.run,
            () => null,
          );
          for (const step of run?.steps.slice(err.stepsSeen) ?? []) {
            options.onEvent({ type: 'step', step, reused: false } satisfies RunEvent);
          }
        }
      }
      throw err;
    }
  }

  /**
   * Lets go of a run's sticky task queue (the cache of the worker that served it last), so its next workflow
   * task goes to its normal queue at once instead of waiting out the sticky timeout (10 s) for a worker of this
   * process that has stopped. Harmless when the run has closed or has no sticky queue.
   */
  async releaseSticky(workflowId: string, runId: string): Promise<void> {
    await this.ctx.temporal.workflowService
      .resetStickyTaskQueue({ namespace: this.ctx.namespace, execution: { workflowId, runId } })
      .catch(() => {});
  }
}
