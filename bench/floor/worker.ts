/** A worker for the floor workflows (./workflow): no-op activities, the bundle built once per process. */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
let bundle: ReturnType<typeof bundleWorkflowCode> | undefined;

/** `client` lets `noopSignal` signal its run (the levers figure); without it, that activity fails. */
export async function createFloorWorker(
  connection: NativeConnection,
  taskQueue: string,
  options: Partial<WorkerOptions> = {},
  client?: Client,
): Promise<Worker> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('./workflow'), logger: quiet });
  return Worker.create({
    connection,
    taskQueue,
    workflowBundle: await bundle,
    activities: {
      noop: async (i: number) => i,
      noopSignal: async (i: number) => {
        const run = Context.current().info.workflowExecution;
        if (!client || !run) throw new Error('noopSignal needs a client');
        await client.workflow.getHandle(run.workflowId, run.runId).signal('done', i);
        return i;
      },
    },
    ...options,
  });
}
