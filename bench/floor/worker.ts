/** A worker for the floor workflow (./workflow): no-op activities, the bundle built once per process. */
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
let bundle: ReturnType<typeof bundleWorkflowCode> | undefined;

export async function createFloorWorker(
  connection: NativeConnection,
  taskQueue: string,
  options: Partial<WorkerOptions> = {},
): Promise<Worker> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('./workflow'), logger: quiet });
  return Worker.create({
    connection,
    taskQueue,
    workflowBundle: await bundle,
    activities: { noop: async (i: number) => i },
    ...options,
  });
}
