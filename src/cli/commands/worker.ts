/** `worker`: a long-lived worker for every run on the task queue. */
import type { Command } from 'commander';
import { stepLine, toolStartLine } from '../render/text';
import {
  action,
  configOption,
  err,
  offlineOption,
  preflight,
  untilStopped,
  withClient,
  type CommonOptions,
} from '../common';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .summary('a long-lived worker for the shared task queue')
    .description(
      'Run a long-lived worker that executes agent steps for any run on the task queue, one line per step ' +
        '(Ctrl-C to stop: steps in flight finish first)',
    )
    .addOption(offlineOption())
    .option(
      '--task-queue <name>',
      'task queue to poll (default: temporal.task_queue from the config; a run started by `run` has its own: ' +
        '<task_queue>/<workflowId>)',
    )
    .option('-q, --quiet', 'no line per step')
    .addOption(configOption())
    .action(
      action(async (options: CommonOptions & { offline?: boolean; taskQueue?: string; quiet?: boolean }) => {
        const config = await preflight(options);
        await withClient(config, async (client) => {
          const taskQueue = options.taskQueue ?? client.context.taskQueue;
          const hosted = await client.workers.host({
            offline: options.offline ?? false,
            taskQueue,
            ...(options.quiet
              ? {}
              : {
                  onStep: (e) => err(`${stepLine(e.result)}  · ${e.workflowId}`),
                  onToolCall: (e) =>
                    err(`${e.result ? stepLine(e.result) : toolStartLine(e.request, e.attempt)}  · ${e.workflowId}`),
                }),
          });
          err(
            `Worker polling task queue "${taskQueue}" on ${client.target.address}, namespace ${client.target.namespace} (Ctrl-C to stop)`,
          );
          // SIGINT or SIGTERM: stop taking steps; steps in flight get worker.shutdown_grace_ms to finish. A second
          // signal leaves at once (their steps are retried elsewhere).
          await hosted.run(
            untilStopped().then(() => {
              err('Stopping: steps in flight finish first (Ctrl-C again to leave now)');
              process.once('SIGINT', () => process.exit(130));
            }),
          );
          err('Worker stopped.');
        });
      }),
    );
}
