/**
 * What happened, as history records it: the audit trail of every run of a workflow, and replay of a run (or of
 * the part of it a resume would keep) against the workflow code.
 */
import type { Checkpoint } from '../checkpoints/derive';
import { auditWorkflow, type AuditTrail } from '../history/audit';
import { runsOf } from '../history/reader';
import { fetchRunHistory, keptByReset, replayHistory, type ReplayReport } from '../history/replay';
import { NotFoundError } from '../shared/errors';
import { installRuntime } from '../temporal/runtime';
import type { ClientContext } from './context';

export class HistoryClient {
  constructor(private readonly ctx: ClientContext) {}

  /** The audit trail of every run of a workflow; {@link NotFoundError} when it has none here. */
  async audit(workflowId: string): Promise<AuditTrail> {
    const trail = await auditWorkflow(this.ctx.temporal, this.ctx.namespace, workflowId);
    if (trail.runs.length === 0) throw new NotFoundError(workflowId, this.ctx.namespace);
    return trail;
  }

  /** Replays a run on the server (its latest run unless `runId`) against the workflow code. */
  async replay(workflowId: string, options: { runId?: string; workflowsPath?: string } = {}): Promise<ReplayReport> {
    const history = await this.ctx.lookup(workflowId, options.runId, () =>
      fetchRunHistory(this.ctx.temporal, workflowId, options.runId),
    );
    installRuntime(this.ctx.log);
    return replayHistory(history, `${workflowId}${options.runId ? ` run ${options.runId}` : ''}`, {
      ...(options.workflowsPath ? { workflowsPath: options.workflowsPath } : {}),
    });
  }

  /**
   * Replays every run of a workflow (each turn of a conversation, each link of a run that continued as new, each
   * reset), oldest first: the whole chain against the workflow code.
   */
  async replayAll(workflowId: string, options: { workflowsPath?: string } = {}): Promise<ReplayReport[]> {
    const runs = await runsOf(this.ctx.temporal, workflowId);
    if (runs.length === 0) throw new NotFoundError(workflowId, this.ctx.namespace);
    const reports: ReplayReport[] = [];
    for (const runId of [...runs].reverse()) reports.push(await this.replay(workflowId, { runId, ...options }));
    return reports;
  }

  /**
   * Replays the part of the checkpoint's history that a reset would keep against the workflow code (the
   * project's, or the module at `workflowsPath`): the check a resume runs before it changes anything.
   */
  async replayUpTo(checkpoint: Checkpoint, workflowsPath?: string): Promise<ReplayReport> {
    installRuntime(this.ctx.log);
    const history = await fetchRunHistory(this.ctx.temporal, checkpoint.workflowId, checkpoint.runId);
    return replayHistory(
      keptByReset(history, checkpoint.eventId),
      `${checkpoint.workflowId} up to step ${checkpoint.step}`,
      {
        ...(workflowsPath ? { workflowsPath } : {}),
      },
    );
  }
}
