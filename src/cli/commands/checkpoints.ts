/**
 * `checkpoints list|show|diff|prune|export|import|keygen`: the checkpoints of runs (the points after each completed
 * step, kept in Temporal history) and their lifecycle.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { Hints } from '../hints';
import type { PrunedRun } from '../../checkpoints/prune';
import { parseCheckpointId, resetCommand } from '../../checkpoints/ids';
import { renderDiff } from '../render/diff';
import { checkpointDetails, checkpointTable } from '../render/text';
import { registerArchive } from './archive';
import { CLOSED_STATUSES, type ClosedStatus } from '../../shared/constants';
import { UsageError } from '../../shared/errors';
import {
  RUN_STATUSES,
  action,
  configOption,
  err,
  json,
  jsonOption,
  load,
  loadPrune,
  out,
  parsePositiveInt,
  parseStatuses,
  withClient,
  type CommonOptions,
  type RunStatus,
} from '../common';

function parseClosedStatuses(value: string): ClosedStatus[] {
  const statuses = parseStatuses(value);
  if (statuses.includes('RUNNING')) throw new InvalidArgumentError('running runs are never pruned');
  return statuses as ClosedStatus[];
}

/** Parses the cut of `prune`: `--before <ISO time>` or `--older-than <age>` (default: cleanup_after_days). */
function pruneCut(
  options: { olderThan?: string; before?: string },
  parseAge: (s: string) => number,
  days: number,
): Date {
  if (options.olderThan !== undefined && options.before !== undefined)
    throw new UsageError('give --older-than or --before, not both');
  if (options.before !== undefined) {
    const before = new Date(options.before);
    if (Number.isNaN(before.getTime()))
      throw new UsageError(`--before: "${options.before}" is not a time (use ISO 8601, e.g. 2026-11-01T00:00:00Z)`);
    return before;
  }
  const age = options.olderThan !== undefined ? parseAge(options.olderThan) : days * 86_400_000;
  return new Date(Date.now() - age);
}

export function registerCheckpoints(program: Command): void {
  const checkpoints = program
    .command('checkpoints')
    .summary('list, show, diff, prune, export and import checkpoints')
    .description('List and inspect checkpoints: the points after each completed agent step, kept in Temporal history');

  checkpoints
    .command('list')
    .summary('checkpoints, newest first, grouped by run')
    .description('List checkpoints, newest first: of one workflow (all its runs), or of the most recent runs')
    .option('-w, --workflow-id <id>', 'only this workflow (every run in its reset chain)')
    .option(
      '--status <list>',
      `only runs in these states (comma-separated: ${RUN_STATUSES.join(', ').toLowerCase()})`,
      parseStatuses,
    )
    .option('--limit <n>', 'at most this many runs (default 20)', parsePositiveInt)
    .option('--wide', 'also the creation time and the full checkpoint id (cp2_…) of each checkpoint')
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(
        async (
          options: CommonOptions & { workflowId?: string; status?: RunStatus[]; limit?: number; wide?: boolean },
        ) => {
          let skipped = 0;
          const runs = await withClient(options, (client) =>
            client.checkpoints.listRuns({
              onUndecryptable: () => void skipped++,
              ...(options.workflowId ? { workflowId: options.workflowId } : {}),
              ...(options.status ? { status: options.status } : {}),
              ...(options.limit ? { limit: options.limit } : {}),
            }),
          );
          const list = runs.flatMap((r) => [...r.checkpoints].reverse());
          if (options.json) json(list);
          else if (list.length === 0) err('No checkpoints (no matching runs).');
          else
            out(
              checkpointTable(list, {
                ...(options.wide ? { wide: true } : {}),
                task: new Map(runs.map((r) => [r.runId, r.task])),
              }),
            );
          // A long conversation has many runs (a turn each, a link each time one continued as new).
          const limit = options.limit ?? 20;
          if (!options.json && runs.length === limit) err(`note: the ${limit} newest runs; --limit <n> lists more`);
          if (skipped)
            err(
              `note: ${skipped} encrypted run(s) skipped: set AGENT_TEAM_ENCRYPTION_KEY (or _KEY_FILE) to list them too`,
            );
        },
      ),
    );

  checkpoints
    .command('show')
    .summary('one checkpoint and the team state there')
    .description('Show one checkpoint: where it is, what it saved, and the full team state at that point')
    .argument('<checkpointId>', 'a checkpoint id')
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (checkpointId: string, options: CommonOptions, hints: Hints) => {
        parseCheckpointId(checkpointId); // a damaged id is a usage error before any connection
        const { checkpoint, namespace, ui } = await withClient(options, async (client) => {
          const loaded = await client.checkpoints.load(checkpointId);
          return {
            checkpoint: loaded,
            namespace: client.target.namespace,
            ui: client.webUiUrl(loaded.workflowId, loaded.runId),
          };
        });
        const command = resetCommand({ namespace, ...checkpoint });
        if (options.json) json({ ...checkpoint, resetCommand: command, webUi: ui });
        else out(checkpointDetails(checkpoint, command, ui, hints));
      }),
    );

  checkpoints
    .command('diff')
    .summary('what changed between two checkpoints')
    .description('What changed in the team state between two checkpoints: messages added, plan, stalls, rounds, tokens')
    .argument('<from>', 'the earlier checkpoint id')
    .argument('<to>', 'the later checkpoint id (any run: of the same reset chain, or another)')
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (from: string, to: string, options: CommonOptions) => {
        parseCheckpointId(from);
        parseCheckpointId(to);
        const d = await withClient(options, (client) => client.checkpoints.diff(from, to));
        if (options.json) json(d);
        else out(renderDiff(d));
      }),
    );

  checkpoints
    .command('prune')
    .summary('delete closed runs now (never running ones)')
    .description(
      'Delete closed runs (and so their checkpoints) now, instead of waiting for the retention period ' +
        '(cleanup_after_days); running runs are never touched',
    )
    .option(
      '--older-than <age>',
      'runs that closed more than this long ago: 30d, 12h, 90m, 45s, 0 for all (default: cleanup_after_days)',
    )
    .option('--before <time>', 'runs that closed before this ISO time instead (e.g. 2026-11-01T00:00:00Z)')
    .option(
      '--status <list>',
      `only runs in these states (comma-separated: ${CLOSED_STATUSES.join(', ').toLowerCase()}; default: all closed)`,
      parseClosedStatuses,
    )
    .option('-w, --workflow-id <id>', 'only the runs of this workflow')
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExamples:\n  agent-team checkpoints prune --older-than 7d --status completed --dry-run\n  agent-team checkpoints prune --older-than 0 --json',
    )
    .action(
      action(
        async (
          options: CommonOptions & {
            olderThan?: string;
            before?: string;
            status?: ClosedStatus[];
            workflowId?: string;
            dryRun?: boolean;
          },
        ) => {
          const { parseAge } = await loadPrune();
          const config = load(options);
          const before = pruneCut(options, parseAge, config.workflow.checkpointing.cleanup_after_days);
          const line = (run: PrunedRun): string =>
            `${run.workflowId}  run ${run.runId}  ${run.status.toLowerCase()}  closed ${run.closedAt ?? '?'}` +
            (run.forks
              ? `\n    the source of fork${run.forks.length === 1 ? '' : 's'} ${run.forks.join(', ')} (they stand on their own)`
              : '');
          const result = await withClient(config, (client) =>
            client.checkpoints.prune({
              before,
              ...(options.status ? { statuses: options.status } : {}),
              ...(options.workflowId ? { workflowId: options.workflowId } : {}),
              ...(options.dryRun ? { dryRun: true } : {}),
              onRun: (run, i) => {
                if (!options.json) err(`  ✂ ${i + 1}. ${line(run)}`);
              },
            }),
          );
          if (options.json) return json(result);
          if (result.dryRun) for (const run of result.runs) out(`  would delete ${line(run)}`);
          out(
            `${result.dryRun ? 'Dry run: would delete' : '✔ Deleted'} ${result.runs.length} closed run${result.runs.length === 1 ? '' : 's'} ` +
              `that closed before ${result.before}${options.status ? ` (${options.status.join(', ').toLowerCase()})` : ''}` +
              `${result.dryRun ? '; nothing was changed' : result.runs.length ? ' (Temporal removes them in the background, within a minute)' : ''}`,
          );
        },
      ),
    );

  registerArchive(checkpoints);
}
