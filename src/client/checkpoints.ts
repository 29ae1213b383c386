/**
 * Checkpoints, as a client offers them: the store (list, load, reset: history is the store, see
 * src/checkpoints/store.ts), and around it what compares, prunes and picks them.
 */
import type { RunStatus } from '../shared/constants';
import { diffCheckpoints, type CheckpointDiff } from '../checkpoints/diff';
import { prune, type PruneOptions, type PruneReport } from '../checkpoints/prune';
import { CheckpointStore, type ListOptions, type RunCheckpoints } from '../checkpoints/store';
import { NotFoundError } from '../shared/errors';
import type { ClientContext } from './context';

export class CheckpointsClient extends CheckpointStore {
  constructor(ctx: ClientContext) {
    super(ctx.temporal, ctx.namespace);
  }

  /**
   * Runs with their checkpoints, newest first (see {@link CheckpointStore.listRuns}). A workflow id with no run at
   * all here is a {@link NotFoundError}; a filter that matches none of its runs is an empty list.
   */
  override async listRuns(options: ListOptions = {}): Promise<RunCheckpoints[]> {
    const found = await super.listRuns(options);
    if (found.length === 0 && options.workflowId && !options.status?.length) {
      throw new NotFoundError(options.workflowId, this.namespace);
    }
    return found;
  }

  /** What changed between two checkpoints. */
  async diff(from: string, to: string): Promise<CheckpointDiff> {
    return diffCheckpoints(await this.load(from), await this.load(to));
  }

  /** Deletes (or lists, with `dryRun`) closed runs that closed before the cut. */
  prune(options: PruneOptions): Promise<PruneReport> {
    return prune(this.client, this.namespace, options);
  }

  /**
   * Runs worth resuming, for a picker: those that did not complete and are their workflow's latest run (a failed
   * run resumed since is done with), or, when there is none, the most recent runs; each with its task, status and
   * checkpoints, newest first.
   */
  async resumeCandidates(workflowId?: string): Promise<{ unfinishedOnly: boolean; runs: RunCheckpoints[] }> {
    const scope = workflowId ? { workflowId } : {};
    const unfinished: RunStatus[] = ['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELED'];
    const stopped = (await this.listRuns({ ...scope, status: unfinished, limit: 10 })).filter((r) => r.latest);
    const runs = stopped.length > 0 ? stopped : await this.listRuns({ ...scope, limit: 10 });
    return {
      unfinishedOnly: stopped.length > 0,
      runs: runs.map((r) => ({ ...r, checkpoints: [...r.checkpoints].reverse() })),
    };
  }
}
