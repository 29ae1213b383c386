/**
 * Conversations with a run: messages to a running one (`tell`, the `tell` Update), read by the orchestrator at its
 * next plan or progress ledger, or, with `interrupt`, at once (the model step in flight is cancelled, its request
 * aborted, and the orchestrator replans). Like an answer, a message needs no worker of the run to be up: this
 * process takes it with a worker that starts no step.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { tellUpdate, type TellReceipt } from '../../workflows/messages';
import { MAX_MESSAGE_CHARS } from '../../workflows/types';
import { MessageRefusedError, NotFoundError, rootCause } from '../shared/errors';
import { isNotFound } from '../shared/grpc';
import { requester } from '../shared/user';
import { statusName } from '../temporal/cancel';
import type { ClientContext } from './context';
import type { WorkersClient } from './workers';

export interface TellOptions {
  /** Who sends it (default: this user, as answers name them). */
  by?: string;
  /** Stop the model step in flight and have the orchestrator replan with the message. */
  interrupt?: boolean;
}

/** What `tell` reports: the message the run took, which step it follows, and the step it interrupted. */
export interface TellOutcome extends TellReceipt {
  workflowId: string;
  runId: string;
}

export class ConversationClient {
  constructor(
    private readonly ctx: ClientContext,
    private readonly workers: WorkersClient,
  ) {}

  /**
   * Sends a running run a message for its orchestrator. Refused, changing nothing ({@link MessageRefusedError},
   * exit 2), when the message is empty or too long, or the run has closed or answered already.
   */
  async tell(workflowId: string, text: string, options: TellOptions = {}): Promise<TellOutcome> {
    if (!text.trim()) throw new MessageRefusedError(workflowId, 'the message is empty');
    if (text.length > MAX_MESSAGE_CHARS) {
      throw new MessageRefusedError(
        workflowId,
        `the message is ${text.length.toLocaleString('en-US')} characters, over the ${MAX_MESSAGE_CHARS.toLocaleString('en-US')} a message may have`,
      );
    }
    const d = await this.ctx.lookup(workflowId, undefined, () =>
      this.ctx.temporal.workflow.getHandle(workflowId).describe(),
    );
    if (d.status.name !== 'RUNNING') {
      throw new MessageRefusedError(
        workflowId,
        `its latest run ${d.runId} is ${statusName(d.status.name)}: a closed run reads no messages`,
        {
          next: [
            // A fork from one of its checkpoints with `--note` carries the message into a new branch.
            {
              purpose: 'pick a checkpoint to fork with the message as --note',
              args: ['checkpoints', 'list', '-w', workflowId],
            },
          ],
        },
      );
    }
    const handle = this.ctx.temporal.workflow.getHandle(workflowId, d.runId);
    const input = { text, by: options.by ?? requester(), ...(options.interrupt ? { interrupt: true } : {}) };
    await this.workers.releaseSticky(workflowId, d.runId);
    try {
      const decider = await this.workers.decider(d.taskQueue);
      const receipt = await decider.run(handle.executeUpdate(tellUpdate, { args: [input] }));
      return { workflowId, runId: d.runId, ...receipt };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const cause = rootCause(err);
        throw new MessageRefusedError(workflowId, cause instanceof Error ? cause.message : err.message, { cause: err });
      }
      if (isNotFound(err)) {
        const now = await handle.describe().catch(() => null);
        if (now && now.status.name !== 'RUNNING') {
          throw new MessageRefusedError(
            workflowId,
            `its run ended ${statusName(now.status.name)} before the message was taken: nothing changed`,
            { cause: err },
          );
        }
        throw new NotFoundError(workflowId, this.ctx.namespace, undefined, { cause: err });
      }
      throw err;
    } finally {
      await this.workers.releaseSticky(workflowId, d.runId);
    }
  }
}
