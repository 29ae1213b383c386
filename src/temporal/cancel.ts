/** Asking the server to cancel a run, with a reason history keeps (the client SDK's `cancel()` takes none). */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';

export async function requestCancel(
  client: Client,
  namespace: string,
  run: { workflowId: string; runId: string },
  reason: string,
  identity: string,
): Promise<void> {
  await client.workflowService.requestCancelWorkflowExecution({
    namespace,
    workflowExecution: run,
    reason,
    identity: client.options.identity ?? identity,
    requestId: randomUUID(),
  });
}

/** The SDK spells it CANCELLED; history, visibility and this project say CANCELED. */
export const statusName = (name: string): string => (name === 'CANCELLED' ? 'CANCELED' : name);
