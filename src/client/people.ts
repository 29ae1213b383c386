/**
 * People in the loop, from any process: the runs that wait on a person, and answering one. An answer goes in three
 * parts: validate it against what the run waits on (its memo says, with no worker needed), send it (the `answer`
 * Update, whose validator refuses a stale, malformed or second answer, changing nothing), and carry it out (a
 * rejection ends the run CANCELED). No worker of the run needs to be up: this process takes the answer with a
 * worker that starts no step.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { answerUpdate, type AnswerAck, type StopRecord } from '../../workflows/agent-team';
import { WORKFLOW_TYPE, type HumanAnswer, type HumanRequest } from '../../workflows/types';
import { AnswerRefusedError, NotFoundError, rootCause } from '../shared/errors';
import { isNotFound } from '../shared/grpc';
import { requester } from '../shared/user';
import { queryString } from '../shared/util';
import { statusName } from '../temporal/cancel';
import type { ClientContext } from './context';
import type { AnswerInput } from './events';
import { rejectionMessage } from './outcome';
import type { WorkersClient } from './workers';

/** A run that waits on a person, and what it asks. */
export interface PendingRun {
  workflowId: string;
  runId: string;
  request: HumanRequest;
  /** When it started waiting. */
  since: string | null;
}

/** What {@link PeopleClient.respond} reports: the answer taken, and whether a worker serves the run. */
export interface AnswerReceipt extends AnswerAck {
  workflowId: string;
  runId: string;
  /** False when no worker served the run: it waits for one (`agent-team follow`) to run its next step. */
  served: boolean;
}

export interface RespondOptions {
  /** Told when the answer waits for a worker to take it (after 5 s). */
  onNote?: (note: string) => void;
  /** Take the answer with a worker of this process (default true; false when this process serves the run). */
  hostWorker?: boolean;
}

/** An answer checked against the run it is for: what to send, to which run, on which queue. */
interface Checked {
  handle: WorkflowHandle;
  runId: string;
  taskQueue: string;
  answer: HumanAnswer;
  /** What the run waits on now (its memo), when known. */
  waiting: HumanRequest | null;
}

export class PeopleClient {
  constructor(
    private readonly ctx: ClientContext,
    private readonly workers: WorkersClient,
  ) {}

  /**
   * The runs waiting on a person, longest waiting first, with what each asks (of one workflow, with
   * `workflowId`). Read from visibility and each run's memo, so no worker needs to be up, and runs started
   * without the waiting search attribute (by hand, on a namespace without it) are listed too.
   */
  async pending(workflowId?: string): Promise<PendingRun[]> {
    const waiting = (wf: { workflowId: string; runId: string; memo?: Record<string, unknown> }): PendingRun[] => {
      const request = (wf.memo?.pending ?? null) as HumanRequest | null;
      return request ? [{ workflowId: wf.workflowId, runId: wf.runId, request, since: request.askedAt ?? null }] : [];
    };
    if (workflowId) {
      // One workflow: its latest run, from the server itself (visibility may lag, or not match an odd id).
      const d = await this.ctx.temporal.workflow
        .getHandle(workflowId)
        .describe()
        .catch((err: unknown) => {
          if (isNotFound(err)) return null; // not started (yet): it waits on no one
          throw err;
        });
      return d?.status.name === 'RUNNING' ? waiting(d) : [];
    }
    const query = `WorkflowType = ${queryString(WORKFLOW_TYPE)} AND ExecutionStatus = "Running"`;
    const out: PendingRun[] = [];
    for await (const wf of this.ctx.temporal.workflow.list({ query })) out.push(...waiting(wf));
    return out.sort((a, b) => (a.since ?? '').localeCompare(b.since ?? ''));
  }

  /**
   * Answers what a run waits on (plan review, step approval, final review, budget). Without `requestId`, the
   * request the run waits on now (its memo says which) is answered. Refused, changing nothing, when the run
   * waits on nothing, the answer is stale or malformed, or another answer was taken first
   * ({@link AnswerRefusedError}, exit 2).
   */
  async respond(
    workflowId: string,
    input: AnswerInput & { requestId?: string },
    options: RespondOptions = {},
  ): Promise<AnswerReceipt> {
    const checked = await this.validate(workflowId, input);
    const served = (await this.workers.pollersOf(checked.taskQueue)) > 0;
    const ack =
      options.hostWorker === false
        ? await this.send(workflowId, checked, options)
        : await this.carryOut(workflowId, checked, options);
    return { workflowId, runId: checked.runId, ...ack, served };
  }

  /** Checks the answer against the run's latest run and what it waits on; fills in the request and who answers. */
  private async validate(workflowId: string, input: AnswerInput & { requestId?: string }): Promise<Checked> {
    const d = await this.ctx.lookup(workflowId, undefined, () =>
      this.ctx.temporal.workflow.getHandle(workflowId).describe(),
    );
    if (d.status.name !== 'RUNNING') {
      throw new AnswerRefusedError(
        workflowId,
        `its latest run ${d.runId} is ${statusName(d.status.name)}: it waits on no answer`,
      );
    }
    const waiting = (d.memo?.pending ?? null) as HumanRequest | null;
    const requestId = input.requestId ?? waiting?.id;
    if (!requestId) {
      const stopped = d.memo?.stoppedAt as StopRecord | undefined;
      if (stopped?.reason === 'rejected') {
        throw new AnswerRefusedError(
          workflowId,
          `it was rejected already${stopped.rejected ? ` by ${stopped.rejected.by}` : ''} and ends once a worker serves it`,
          { next: [{ purpose: 'let it end', args: ['follow', workflowId] }] },
        );
      }
      throw new AnswerRefusedError(workflowId, 'it waits on no answer now');
    }
    return {
      handle: this.ctx.temporal.workflow.getHandle(workflowId, d.runId),
      runId: d.runId,
      taskQueue: d.taskQueue,
      answer: { answeredBy: requester(), ...input, requestId },
      waiting,
    };
  }

  /** Sends the answer (the `answer` Update), mapping a refusal or a run that ended meanwhile to its reason. */
  private async send(workflowId: string, checked: Checked, options: RespondOptions): Promise<AnswerAck> {
    const { handle, taskQueue, answer } = checked;
    const slow = setTimeout(
      () => options.onNote?.(`waiting for a worker of task queue "${taskQueue}" to take the answer…`),
      5_000,
    );
    try {
      return await handle.executeUpdate(answerUpdate, { args: [answer] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const cause = rootCause(err);
        throw new AnswerRefusedError(workflowId, cause instanceof Error ? cause.message : err.message, {
          cause: err,
        });
      }
      if (isNotFound(err)) {
        // The run ended before this answer was taken (another answer rejected it, say).
        const now = await handle.describe().catch(() => null);
        if (now && now.status.name !== 'RUNNING') {
          const stopped = now.memo?.stoppedAt as StopRecord | undefined;
          const why = stopped?.rejected
            ? `: it was rejected by ${stopped.rejected.by ?? 'unknown'}${stopped.rejected.reason ? ` (${stopped.rejected.reason})` : ''}`
            : '';
          throw new AnswerRefusedError(
            workflowId,
            `its run ended ${statusName(now.status.name)} before this answer was taken${why}: nothing changed`,
            { cause: err },
          );
        }
        throw new NotFoundError(workflowId, this.ctx.namespace, undefined, { cause: err });
      }
      throw err;
    } finally {
      clearTimeout(slow);
    }
  }

  /**
   * Sends the answer with a worker of this process that starts no step, and carries out a rejection (the run ends
   * CANCELED). A worker's recent poll does not prove it is still up (a detached `run` polled a moment ago), so this
   * process takes the answer itself. The run's sticky queue is let go first, so the answer's task does not wait
   * 10 s for a worker that has left, and again after, so its next task goes to the workers that remain.
   */
  private async carryOut(workflowId: string, checked: Checked, options: RespondOptions): Promise<AnswerAck> {
    const { handle, runId, taskQueue, answer, waiting } = checked;
    await this.workers.releaseSticky(workflowId, runId);
    try {
      const decider = await this.workers.decider(taskQueue);
      return await decider.run(
        (async () => {
          const taken = await this.send(workflowId, checked, options);
          if (answer.decision === 'reject') {
            // The run ends CANCELED by a cancel request: the workflow asks for it through its cancelRun
            // activity, which needs a worker; this process asks at once, so none is needed.
            const kind = (waiting?.id === answer.requestId ? waiting.kind : answer.requestId.split('@')[0]) ?? 'a gate';
            await this.ctx.requestCancel(
              { workflowId, runId },
              rejectionMessage({ kind, reason: answer.reason ?? '', by: answer.answeredBy ?? null }),
              requester(),
            );
            await handle.result().catch(() => {});
          }
          return taken;
        })(),
      );
    } finally {
      await this.workers.releaseSticky(workflowId, runId);
    }
  }
}
