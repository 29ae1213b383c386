/**
 * `checkpointing.cleanup_after_days` is the namespace's retention period: the server deletes closed runs
 * (and so their checkpoints) that much time after they close. Applied to the embedded server; checked, never
 * changed, on a cluster (its retention is its operators' setting).
 */
import type { Client } from '@temporalio/client';
import Long from 'long';

const DAY_SECONDS = 86_400;

export interface RetentionResult {
  /** The namespace's retention before this call, in days. */
  previousDays: number;
  /** What it is now. */
  days: number;
  changed: boolean;
}

/** Applies (embedded) or checks (cluster) the retention; `note` receives a line when a cluster's differs. */
export async function applyRetention(
  client: Client,
  namespace: string,
  days: number,
  mode: 'embedded' | 'external',
  note: (line: string) => void,
): Promise<RetentionResult> {
  const described = await client.workflowService.describeNamespace({ namespace });
  const previousDays = Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0) / DAY_SECONDS;
  if (previousDays === days) return { previousDays, days, changed: false };
  if (mode === 'external') {
    note(
      `note: namespace "${namespace}" keeps closed runs ${previousDays} day(s), but checkpointing.cleanup_after_days is ` +
        `${days}; a cluster's retention is its operators' setting (temporal operator namespace update -n ${namespace} --retention ${days}d)`,
    );
    return { previousDays, days: previousDays, changed: false };
  }
  await client.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: { seconds: Long.fromNumber(days * DAY_SECONDS) } },
  });
  return { previousDays, days, changed: true };
}
