/** `replay <workflowId|file>`: does the workflow code still replay a recorded history? */
import type { Command } from 'commander';
import { UsageError } from '../../shared/errors';
import {
  action,
  configOption,
  err,
  json,
  out,
  jsonOption,
  loadReplay,
  withClient,
  type CommonOptions,
} from '../common';

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .summary('does the workflow code still replay a history?')
    .description(
      "Replay a run's history against the workflow code: exit 0 when compatible, 1 naming the first diverging event " +
        '(old runs and their checkpoints stay resumable only while this passes)',
    )
    .argument(
      '<workflowIdOrFile>',
      'a workflow id (its latest run, or --run-id), or a history JSON file (`temporal workflow show --output json`)',
    )
    .option('-r, --run-id <runId>', 'with a workflow id: this run instead of the latest')
    .option(
      '--all-runs',
      'with a workflow id: every run, oldest first (each turn of a conversation, each link of a run that continued as new)',
    )
    .option(
      '--workflows <path>',
      "replay against this workflows module instead of the project's (e.g. a candidate version)",
    )
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(
        async (target: string, options: CommonOptions & { runId?: string; workflows?: string; allRuns?: boolean }) => {
          if (options.allRuns && options.runId) throw new UsageError('give --run-id or --all-runs, not both');
          const { existsSync } = await import('node:fs');
          const { resolve } = await import('node:path');
          if (options.workflows && !existsSync(options.workflows))
            throw new UsageError(`--workflows: no such file ${options.workflows}`);
          const workflowsPath = options.workflows ? resolve(options.workflows) : undefined;
          if (!existsSync(target) && /[/\\]|\.json$/i.test(target)) {
            throw new UsageError(`no such file: ${target} (a workflow id has no "/" and does not end in .json)`);
          }
          if (options.allRuns) {
            if (existsSync(target)) throw new UsageError('--all-runs goes with a workflow id, not a file');
            const reports = await withClient(options, (client) =>
              client.history.replayAll(target, workflowsPath ? { workflowsPath } : {}),
            );
            const bad = reports.filter((r) => !r.compatible);
            if (options.json) json({ compatible: bad.length === 0, runs: reports });
            else {
              for (const r of reports) out(`${r.compatible ? '✔' : '✖'} ${r.source}: ${r.events} events`);
              out(
                bad.length === 0
                  ? `✔ all ${reports.length} runs of ${target} replay against ${workflowsPath ?? 'the current workflow code'}`
                  : `✖ ${bad.length} of ${reports.length} runs do not replay (the first: ${bad[0]!.message ?? ''})`,
              );
            }
            return bad.length === 0 ? 0 : 1;
          }
          const report = existsSync(target)
            ? await (await loadReplay()).replayFile(target, { ...(workflowsPath ? { workflowsPath } : {}), log: err })
            : await withClient(options, (client) =>
                client.history.replay(target, {
                  ...(options.runId ? { runId: options.runId } : {}),
                  ...(workflowsPath ? { workflowsPath } : {}),
                }),
              );
          const code = workflowsPath ?? 'the current workflow code';
          if (options.json) json(report);
          else if (report.compatible) out(`✔ ${report.source}: ${report.events} events replay against ${code}`);
          else
            out(
              `✖ ${report.source} does not replay against ${code}` +
                (report.divergingEventId
                  ? `: it diverges at event ${report.divergingEventId} (${report.divergingEventType})`
                  : '') +
                `\n  ${report.message ?? ''}`,
            );
          return report.compatible ? 0 : 1;
        },
      ),
    );
}
