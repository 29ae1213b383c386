/** `follow`, `cancel` and `terminate`: attach to a run, or stop it. */
import { Option, type Command } from 'commander';
import { UsageError } from '../../shared/errors';
import { command } from '../../shared/invocation';
import { resumeLines } from '../../render/text';
import {
  action,
  configOption,
  detachOption,
  liveOption,
  followWithProgress,
  detachable,
  err,
  out,
  executeOptions,
  json,
  jsonOption,
  load,
  noWorkerOption,
  offlineOption,
  preflight,
  withApp,
  type CommonOptions,
  type RunOptions,
} from '../common';

export function registerControl(program: Command): void {
  program
    .command('follow')
    .summary('attach to a run: its steps, as they complete')
    .description(
      "Attach to a workflow's latest run: its steps so far and as they complete (the same view as `run`). A run " +
        'started by `run` has a task queue of its own: a worker for it is hosted here unless --no-worker ' +
        '(this is how a run continues after Ctrl-C or a crash of its `run`)',
    )
    .argument('<workflowId>', 'the workflow')
    .addOption(offlineOption())
    .addOption(noWorkerOption())
    .addOption(configOption())
    .addOption(detachOption())
    .addOption(liveOption())
    .addOption(jsonOption())
    .addHelpText('after', '\nCtrl-C detaches again; the run goes on in Temporal.')
    .action(
      action(async (workflowId: string, options: RunOptions & { detach?: boolean }) => {
        const config = await preflight(options);
        return withApp(config, (app) =>
          followWithProgress(app, options, (view) => app.attach(workflowId, { ...executeOptions(options), ...view })),
        );
      }),
    );

  program
    .command('cancel')
    .summary('stop a run gracefully (it stays resumable)')
    .description(
      "Cancel a workflow's running run (Temporal's cancel): the step in flight is cancelled, the run records where it " +
        'stopped and ends CANCELED; resume it later from its last checkpoint (the cancelled step runs again). Waits ' +
        'for it to end unless --no-wait',
    )
    .argument('<workflowId>', 'the workflow')
    .option('--no-wait', 'return once the cancel is requested')
    .addOption(offlineOption())
    .addOption(noWorkerOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (workflowId: string, options: RunOptions & { wait: boolean }) => {
        const config = await preflight(options);
        return withApp(config, async (app) => {
          const outcome = await detachable((signal) =>
            app.cancel(workflowId, { ...executeOptions(options), signal, wait: options.wait }),
          );
          if (!outcome) {
            if (options.json) json({ workflowId, cancelRequested: true });
            else out(`✔ Cancel requested for ${workflowId}`);
            err(`  ${command('follow', workflowId)} shows it end`);
            return 0;
          }
          if (options.json) json(outcome);
          else out(`✔ ${outcome.status}: ${workflowId} stopped after step ${outcome.steps.length}`);
          for (const line of resumeLines(outcome, 'Resume it')) err(line);
          return outcome.status === 'CANCELED' ? 0 : 1;
        });
      }),
    );

  program
    .command('terminate')
    .summary('end a run at once')
    .description(
      "End a workflow's running run at once (nothing more runs, no cleanup; prefer `cancel`). Its checkpoints stay " +
        'resumable; the reason and who asked are recorded in its history',
    )
    .argument('<workflowId>', 'the workflow')
    .addOption(
      new Option('--reason <text>', 'why (recorded as "<user>: <reason>")').default('terminated with agent-team'),
    )
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (workflowId: string, options: CommonOptions & { reason: string }) => {
        if (!options.reason.trim()) throw new UsageError('--reason must not be empty');
        return withApp(load(options), async (app) => {
          const { runId } = await app.terminate(workflowId, options.reason);
          const [run] = await app.checkpoints.listRuns({ workflowId, limit: 1 });
          const last = run?.runId === runId ? run.checkpoints.at(-1) : undefined;
          if (options.json) json({ workflowId, runId, terminated: true, lastCheckpoint: last ?? null });
          else out(`✔ Terminated run ${runId} of ${workflowId}`);
          if (last) err(`  Resume it from its last checkpoint with: ${command('resume', last.shortId)}`);
          return 0;
        });
      }),
    );
}
