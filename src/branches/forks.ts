/**
 * The forks in a namespace, found from visibility: a fork's memo (`forkOf`, set when it starts) names the
 * workflow, run and checkpoint it came from. One entry per fork workflow (its latest run).
 */
import type { Client } from '@temporalio/client';
import type { ForkOrigin } from '../../workflows/types';
import { WORKFLOW_TYPE, type RunStatus } from '../shared/constants';
import { queryString } from '../shared/util';

/** A fork as visibility lists it. */
export interface ForkInfo {
  workflowId: string;
  runId: string;
  status: RunStatus;
  startedAt: string | null;
  origin: Omit<ForkOrigin, 'note'>;
}

/** Every fork in the namespace, oldest first. */
export async function listForks(client: Client): Promise<ForkInfo[]> {
  const latest = new Map<string, ForkInfo>();
  const found: ForkInfo[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowType = ${queryString(WORKFLOW_TYPE)}` })) {
    const origin = w.memo?.forkOf as ForkInfo['origin'] | undefined;
    if (!origin || typeof origin.workflowId !== 'string') continue;
    found.push({
      workflowId: w.workflowId,
      runId: w.runId,
      status: w.status.name as RunStatus,
      startedAt: w.startTime.toISOString(),
      origin,
    });
  }
  // A fork that was resumed has several runs: its latest stands for it.
  for (const f of found.sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? '')))
    latest.set(f.workflowId, f);
  return [...latest.values()];
}
