/**
 * Pruning: deleting closed runs now, instead of waiting for the namespace's retention period
 * (`cleanup_after_days`) to remove them. A visibility query picks the closed runs of the team's workflow type
 * that closed before the cut; each is deleted by run id with DeleteWorkflowExecution. A running run is never
 * touched: the query selects closed states only, each listed run's status is checked, and a closed run
 * cannot reopen (a reset makes a new run).
 */
import type { Client } from '@temporalio/client';
import { CLOSED_STATUSES, VISIBILITY_STATUS, WORKFLOW_TYPE, type ClosedStatus } from '../shared/constants';
import { UsageError } from '../shared/errors';
import { isNotFound } from '../shared/grpc';
import { queryString, workflowIdClause } from '../shared/util';
import { listForks } from '../branches/forks';

export { CLOSED_STATUSES, type ClosedStatus } from '../shared/constants';

export interface PruneOptions {
  /** Runs that closed before this time. */
  before: Date;
  /** Only runs in these states (default: every closed state). */
  statuses?: ClosedStatus[];
  /** Only runs of this workflow id. */
  workflowId?: string;
  dryRun?: boolean;
  /** Called before each deletion (progress on long prunes). */
  onRun?: (run: PrunedRun, index: number) => void;
}

export interface PrunedRun {
  workflowId: string;
  runId: string;
  status: string;
  closedAt: string | null;
  /** Forks made from this run: they stand on their own (their reused steps are in their input), minus their source. */
  forks?: string[];
}

export interface PruneReport {
  before: string;
  statuses: ClosedStatus[];
  dryRun: boolean;
  query: string;
  /** What was deleted (or, in a dry run, would be). */
  runs: PrunedRun[];
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `30d`, `12h`, `90m`, `45s`, `2w` (or `0`) into milliseconds; throws {@link UsageError} otherwise. */
export function parseAge(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/.exec(text.trim());
  if (!match || (match[2] === '' && Number(match[1]) !== 0)) {
    throw new UsageError(`"${text}" is not an age: use a number and a unit, e.g. 30d, 12h, 90m, 45s (or 0 for all)`);
  }
  return Number(match[1]) * (UNITS[match[2] || 's'] ?? 0);
}

/** The visibility query for closed runs of the team's workflow type that closed before the cut. */
export function pruneQuery(options: Pick<PruneOptions, 'before' | 'statuses' | 'workflowId'>): string {
  const statuses = (options.statuses?.length ? options.statuses : CLOSED_STATUSES).map((s) =>
    queryString(VISIBILITY_STATUS[s]),
  );
  return [
    `WorkflowType = ${queryString(WORKFLOW_TYPE)}`,
    `ExecutionStatus IN (${statuses.join(', ')})`,
    `CloseTime < ${queryString(options.before.toISOString())}`,
    ...(options.workflowId ? [workflowIdClause(options.workflowId).clause ?? []].flat() : []),
  ].join(' AND ');
}

/** Deletes (or lists, in a dry run) the closed runs that match. */
export async function prune(client: Client, namespace: string, options: PruneOptions): Promise<PruneReport> {
  const query = pruneQuery(options);
  const matched: PrunedRun[] = [];
  for await (const wf of client.workflow.list({ query })) {
    if (wf.status.name === 'RUNNING') continue; // never: the query excludes them, and so does this
    if (options.workflowId && wf.workflowId !== options.workflowId) continue; // an id the query matched by prefix
    matched.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      status: wf.status.name,
      closedAt: wf.closeTime?.toISOString() ?? null,
    });
  }
  if (matched.length > 0) {
    // Forks whose source goes: said, so nobody is surprised that `compare` finds the source gone.
    const forks = await listForks(client);
    for (const run of matched) {
      const of = forks.filter((f) => f.origin.runId === run.runId).map((f) => f.workflowId);
      if (of.length) run.forks = of;
    }
  }
  if (options.dryRun) return report(options, query, matched);
  const deleted: PrunedRun[] = [];
  for (const [i, run] of matched.entries()) {
    options.onRun?.(run, i);
    // By run id: only this closed run goes, never a newer (possibly running) run of the same workflow id.
    try {
      await client.workflowService.deleteWorkflowExecution({
        namespace,
        workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      });
    } catch (err) {
      // Deletion is asynchronous, and the visibility store lags it: a run deleted a moment ago (by an
      // earlier prune) can still be listed. It is gone either way.
      if (isNotFound(err)) continue;
      throw err;
    }
    deleted.push(run);
  }
  return report(options, query, deleted);
}

function report(options: PruneOptions, query: string, runs: PrunedRun[]): PruneReport {
  return {
    before: options.before.toISOString(),
    statuses: options.statuses?.length ? options.statuses : [...CLOSED_STATUSES],
    dryRun: options.dryRun ?? false,
    query,
    runs,
  };
}
