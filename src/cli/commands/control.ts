/** `follow`, `cancel` and `terminate`: attach to a run, or stop it. */
import { Option, type Command } from 'commander';
import { UsageError } from '../../shared/errors';
import type { Hints } from '../hints';
import { resumeLines } from '../render/text';
import { detachable, followRun } from '../session';
import {
  action,
  configOption,
  detachOption,
  liveOption,
  err,
  out,
  executeOptions,
  json,
  jsonOption,
  load,
  noWorkerOption,
  offlineOption,
  preflight,
  withClient,
  type CommonOptions,
  type ExecuteFlags,
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
      action(async (workflowId: string, options: ExecuteFlags & { detach?: boolean; live?: boolean }, hints: Hints) => {
        const config = await preflight(options);
        return withClient(config, (client) =>
          followRun(client, hints, options, (follow) =>
            client.runs.attach(workflowId, { ...executeOptions(options), ...follow }),
          ),
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
      action(async (workflowId: string, options: ExecuteFlags & { wait: boolean }, hints: Hints) => {
        const config = await preflight(options);
        return withClient(config, async (client) => {
          const outcome = await detachable((signal) =>
            client.runs.cancel(workflowId, { ...executeOptions(options), signal, wait: options.wait }),
          );
          if (!outcome) {
            if (options.json) json({ workflowId, cancelRequested: true });
            else out(`✔ Cancel requested for ${workflowId}`);
            err(`  ${hints.command('follow', workflowId)} shows it end`);
            return 0;
          }
          if (options.json) json(outcome);
          else out(`✔ ${outcome.status}: ${workflowId} stopped after step ${outcome.steps.length}`);
          for (const line of resumeLines(outcome, hints, 'Resume it')) err(line);
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
      action(async (workflowId: string, options: CommonOptions & { reason: string }, hints: Hints) => {
        if (!options.reason.trim()) throw new UsageError('--reason must not be empty');
        const { runId, lastCheckpoint } = await withClient(load(options), (client) =>
          client.runs.terminate(workflowId, options.reason),
        );
        if (options.json) json({ workflowId, runId, terminated: true, lastCheckpoint });
        else out(`✔ Terminated run ${runId} of ${workflowId}`);
        if (lastCheckpoint)
          err(`  Resume it from its last checkpoint with: ${hints.command('resume', lastCheckpoint.shortId)}`);
        return 0;
      }),
    );
}
