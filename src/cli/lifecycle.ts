/**
 * The checkpoint lifecycle and debugging commands: `checkpoints export|import|prune|diff`, `timeline`,
 * `history`. Each is a thin layer over src/archive.ts, src/prune.ts, src/timeline.ts and src/audit.ts.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CheckpointDiff } from '../checkpoints';
import { UsageError } from '../errors';
import type * as ArchiveModule from '../archive';
import type * as PruneModule from '../prune';
import type * as AuditModule from '../audit';
import type * as TimelineModule from '../timeline';
import {
  action,
  configOption,
  err,
  executeOptions,
  json,
  jsonOption,
  load,
  loadApp,
  loadCheckpoints,
  loadReplay,
  noWorkerOption,
  offlineOption,
  openApp,
  out,
  progress,
  report,
  type CommonOptions,
  type RunOptions,
} from './common';

/* eslint-disable @typescript-eslint/no-require-imports */
const loadArchive = async (): Promise<typeof ArchiveModule> => require('../archive');
const loadPrune = async (): Promise<typeof PruneModule> => require('../prune');
const loadAudit = async (): Promise<typeof AuditModule> => require('../audit');
const loadTimeline = async (): Promise<typeof TimelineModule> => require('../timeline');

const FORMATS = ['text', 'mermaid', 'html'] as const;
/* eslint-enable @typescript-eslint/no-require-imports */

function diffText(d: CheckpointDiff): string {
  const change = <T>(label: string, v: { from: T; to: T }): string =>
    `  ${label.padEnd(12)} ${v.from === v.to ? `${String(v.from)} (unchanged)` : `${String(v.from)} → ${String(v.to)}`}`;
  const lines = [
    `From step ${d.from.step} (run ${d.from.runId.slice(0, 8)}) to step ${d.to.step} (run ${d.to.runId.slice(0, 8)})` +
      (d.sameLineage ? '' : ': the second does not continue the first (their conversations part ways)'),
    change('phase', d.phase),
    change('round', d.round),
    change('stalls', d.stallCount),
    change('replans', d.replans),
    `  ${'tokens'.padEnd(12)} ${d.tokens.from.toLocaleString('en-US')} → ${d.tokens.to.toLocaleString('en-US')} (${d.tokens.delta >= 0 ? '+' : ''}${d.tokens.delta.toLocaleString('en-US')}, ${d.llmCalls.delta >= 0 ? '+' : ''}${d.llmCalls.delta} LLM calls)`,
    `  ${'plan'.padEnd(12)} ${d.planChanged ? 'changed' : 'unchanged'}`,
  ];
  if (d.planChanged && d.plan.to) lines.push(`    new plan: ${d.plan.to.replace(/\s+/g, ' ').slice(0, 200)}`);
  if (d.messagesDropped.length) {
    lines.push(`  messages only in the first (${d.messagesDropped.length}):`);
    for (const m of d.messagesDropped)
      lines.push(`    - #${m.step} ${m.agent} ${m.kind} r${m.round}: ${m.content.replace(/\s+/g, ' ').slice(0, 100)}`);
  }
  lines.push(`  messages added (${d.messagesAdded.length}):`);
  for (const m of d.messagesAdded)
    lines.push(`    + #${m.step} ${m.agent} ${m.kind} r${m.round}: ${m.content.replace(/\s+/g, ' ').slice(0, 100)}`);
  return lines.join('\n');
}

/** Writes `text` to `path` whole or not at all (a temporary file renamed into place). */
async function writeAtomically(path: string, text: string): Promise<void> {
  const { renameSync, writeFileSync, unlinkSync } = await import('node:fs');
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
    throw new UsageError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

const CLOSED = ['completed', 'failed', 'canceled', 'terminated', 'timed_out', 'continued_as_new'] as const;

function parseClosedStatuses(value: string): (typeof CLOSED)[number][] {
  return value.split(',').map((raw) => {
    const s = raw.trim().toLowerCase().replace(/-/g, '_');
    if (s === 'running') throw new InvalidArgumentError('running runs are never pruned');
    if (!(CLOSED as readonly string[]).includes(s)) {
      throw new InvalidArgumentError(`"${raw}" is not one of ${CLOSED.join(', ')}`);
    }
    return s as (typeof CLOSED)[number];
  });
}

export function registerLifecycleCommands(program: Command, checkpoints: Command): void {
  program
    .command('timeline')
    .description(
      'Draw the steps of every run of a workflow (its reset chain): agent, round, duration, retries, tokens, and where ' +
        'resets branched off; text for the terminal, mermaid for docs, html for people',
    )
    .argument('<workflowId>', 'the workflow')
    .addOption(
      new Option('--format <format>', 'text, mermaid (a gantt chart) or html (one self-contained file)')
        .choices(FORMATS)
        .default('text'),
    )
    .option('-o, --output <file>', 'write here (default: stdout)')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nExamples:\n  agent-team timeline agent-team-20261130T061115Z-1a2b3c\n  agent-team timeline <workflowId> --format html -o timeline.html',
    )
    .action(
      action(
        async (workflowId: string, options: CommonOptions & { format: (typeof FORMATS)[number]; output?: string }) => {
          const { auditWorkflow } = await loadAudit();
          const { renderTimeline } = await loadTimeline();
          const app = await openApp(options);
          try {
            const trail = await auditWorkflow(app.client, app.target.namespace, workflowId);
            if (trail.runs.length === 0)
              throw new UsageError(`no workflow "${workflowId}" in namespace "${app.target.namespace}"`);
            const text = renderTimeline(trail, options.format);
            if (options.output) {
              await writeAtomically(options.output, text + '\n');
              err(`✔ ${options.format} timeline of ${workflowId} (${trail.runs.length} run(s)) → ${options.output}`);
            } else process.stdout.write(text + '\n');
          } finally {
            await app.close();
          }
        },
      ),
    );

  program
    .command('history')
    .description(
      "A workflow's audit trail: every step's instruction, answer, model, tokens, attempts and timestamps, and every reset " +
        'with its reason and who asked, over all runs of its reset chain',
    )
    .argument('<workflowId>', 'the workflow')
    .option('--full', 'print answers whole (default: the first 400 characters)')
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (workflowId: string, options: CommonOptions & { full?: boolean }) => {
        const { auditWorkflow, renderAudit } = await loadAudit();
        const app = await openApp(options);
        try {
          const trail = await auditWorkflow(app.client, app.target.namespace, workflowId);
          if (trail.runs.length === 0)
            throw new UsageError(`no workflow "${workflowId}" in namespace "${app.target.namespace}"`);
          if (options.json) json(trail);
          else out(renderAudit(trail, { full: options.full ?? false }));
        } finally {
          await app.close();
        }
      }),
    );

  checkpoints
    .command('diff')
    .description('What changed in the team state between two checkpoints: messages added, plan, stalls, rounds, tokens')
    .argument('<from>', 'the earlier checkpoint id')
    .argument('<to>', 'the later checkpoint id (any run: of the same reset chain, or another)')
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (from: string, to: string, options: CommonOptions) => {
        const { decodeCheckpointId, diffCheckpoints } = await loadCheckpoints();
        decodeCheckpointId(from);
        decodeCheckpointId(to);
        const app = await openApp(options);
        try {
          const d = diffCheckpoints(await app.checkpoints.load(from), await app.checkpoints.load(to));
          if (options.json) json(d);
          else out(diffText(d));
        } finally {
          await app.close();
        }
      }),
    );

  checkpoints
    .command('prune')
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
      `only runs in these states (comma-separated: ${CLOSED.join(', ')}; default: all closed)`,
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
            status?: (typeof CLOSED)[number][];
            workflowId?: string;
            dryRun?: boolean;
          },
        ) => {
          if (options.olderThan !== undefined && options.before !== undefined)
            throw new UsageError('give --older-than or --before, not both');
          const { parseAge, prune } = await loadPrune();
          const config = load(options);
          let before: Date;
          if (options.before !== undefined) {
            before = new Date(options.before);
            if (Number.isNaN(before.getTime()))
              throw new UsageError(
                `--before: "${options.before}" is not a time (use ISO 8601, e.g. 2026-11-01T00:00:00Z)`,
              );
          } else {
            const age =
              options.olderThan !== undefined
                ? parseAge(options.olderThan)
                : config.workflow.checkpointing.cleanup_after_days * 86_400_000;
            before = new Date(Date.now() - age);
          }
          const app = await openApp(options);
          try {
            const result = await prune(app.client, app.target.namespace, {
              before,
              ...(options.status ? { statuses: options.status } : {}),
              ...(options.workflowId ? { workflowId: options.workflowId } : {}),
              ...(options.dryRun ? { dryRun: true } : {}),
              onRun: (run, i) => {
                if (!options.json)
                  err(
                    `  ✂ ${i + 1}. ${run.workflowId}  run ${run.runId}  ${run.status.toLowerCase()}  closed ${run.closedAt ?? '?'}`,
                  );
              },
            });
            if (options.json) json(result);
            else {
              if (result.dryRun)
                for (const run of result.runs)
                  err(
                    `  would delete ${run.workflowId}  run ${run.runId}  ${run.status.toLowerCase()}  closed ${run.closedAt ?? '?'}`,
                  );
              err(
                `${result.dryRun ? 'Dry run: would delete' : '✔ Deleted'} ${result.runs.length} closed run${result.runs.length === 1 ? '' : 's'} ` +
                  `that closed before ${result.before}${options.status ? ` (${options.status.join(', ')})` : ''}` +
                  `${result.dryRun ? '; nothing was changed' : result.runs.length ? ' (Temporal removes them in the background, within a minute)' : ''}`,
              );
            }
          } finally {
            await app.close();
          }
        },
      ),
    );

  checkpoints
    .command('export')
    .description(
      'Export the Temporal history of a workflow run (or of every run of its reset chain) with a manifest and a ' +
        'checksum, to import, replay or restore elsewhere',
    )
    .argument('<workflowId>', 'the workflow to export')
    .option('-r, --run-id <runId>', 'this run (default: the latest)')
    .option('--all-runs', 'every run of the workflow (its reset chain), oldest first')
    .option('-o, --output <file>', 'write here (default: stdout)')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nEach run\'s "history" is what `temporal workflow show --output json` prints, e.g.\n' +
        "  jq '.runs[0].history' export.json > history.json && agent-team replay history.json",
    )
    .action(
      action(
        async (workflowId: string, options: CommonOptions & { runId?: string; allRuns?: boolean; output?: string }) => {
          if (options.runId && options.allRuns) throw new UsageError('give --run-id or --all-runs, not both');
          const archive = await loadArchive();
          const app = await openApp(options);
          try {
            const file = await archive.exportWorkflow(app.client, app.target.namespace, app.config, workflowId, {
              ...(options.runId ? { runId: options.runId } : {}),
              ...(options.allRuns ? { allRuns: true } : {}),
            });
            const text = JSON.stringify(file, null, 2) + '\n';
            if (options.output) await writeAtomically(options.output, text);
            else process.stdout.write(text);
            const m = file.manifest;
            err(
              `✔ Exported ${m.workflowId}: ${m.runs.length} run${m.runs.length === 1 ? '' : 's'}, ` +
                `${m.runs.reduce((n, r) => n + r.events, 0)} events, ${m.checkpoints.length} checkpoints` +
                `${options.output ? ` → ${options.output}` : ''} (${file.checksum.slice(0, 19)}…)`,
            );
          } finally {
            await app.close();
          }
        },
      ),
    );

  checkpoints
    .command('import')
    .description(
      'Check an export (schema, checksum, replay against this workflow code) and, with --restore, continue it as a ' +
        'new run on this server: the steps up to the checkpoint are carried over, not executed again',
    )
    .argument('<file>', 'a file written by `checkpoints export`')
    .option('--verify-only', 'only check the file and replay it (the default when --restore is not given)')
    .option(
      '--restore <checkpointId|latest>',
      "start a new run from this checkpoint of the export (or the latest run's last)",
    )
    .option('--workflow-id <id>', 'workflow id of the restored run (default: <exported id>-restored-<random>)')
    .addOption(offlineOption())
    .addOption(noWorkerOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(
        async (path: string, options: RunOptions & { verifyOnly?: boolean; restore?: string; workflowId?: string }) => {
          if (options.verifyOnly && options.restore) throw new UsageError('give --verify-only or --restore, not both');
          if (options.workflowId !== undefined && !options.restore)
            throw new UsageError('--workflow-id names the restored run: it needs --restore');
          const config = load(options);
          const archive = await loadArchive();
          const loaded = archive.readExportFile(path); // exit 2 for a bad file, before anything starts
          const checkpoint = options.restore ? archive.pickRestorePoint(loaded, options.restore) : null;
          const { manifest } = loaded.file;
          const replay = await loadReplay();
          (await loadApp()).installRuntime(err);
          const replays = [];
          for (const run of manifest.runs) {
            const r = await replay.replayHistory(loaded.histories.get(run.runId)!, `run ${run.runId}`);
            replays.push(r);
            if (!options.json)
              err(
                r.compatible
                  ? `✔ run ${run.runId} (${run.status.toLowerCase()}, ${r.events} events) replays against this workflow code`
                  : `✖ run ${run.runId} does not replay against this workflow code` +
                      (r.divergingEventId
                        ? `: it diverges at event ${r.divergingEventId} (${r.divergingEventType})`
                        : ''),
              );
          }
          const sameConfig = manifest.configDigest === archive.configDigest(config);
          const verification = {
            file: path,
            workflowId: manifest.workflowId,
            task: manifest.task,
            exportedAt: manifest.exportedAt,
            projectVersion: manifest.projectVersion,
            checksum: loaded.file.checksum,
            sameConfig,
            runs: manifest.runs,
            replays,
            checkpoints: manifest.checkpoints,
          };
          if (replays.some((r) => !r.compatible)) {
            if (options.json) json({ ...verification, compatible: false });
            err('Nothing was imported: restoring onto code that cannot replay the history would not be faithful.');
            return 1;
          }
          if (!sameConfig && !options.json)
            err(
              'note: the team configuration (agents, models, prompts, temperature) differs from the exporting side; ' +
                'restored steps are kept as they were, later steps use this configuration',
            );
          if (!checkpoint) {
            if (options.json) json({ ...verification, compatible: true });
            else
              err(
                `✔ ${path}: checksum ok, ${manifest.runs.length} run(s), ${manifest.checkpoints.length} checkpoints of ` +
                  `${manifest.workflowId}.\n  Continue it here with: agent-team checkpoints import ${path} --restore latest`,
              );
            return 0;
          }
          if (options.workflowId !== undefined && !options.workflowId.trim())
            throw new UsageError('--workflow-id must not be empty');
          const app = await openApp(options);
          try {
            err(
              `↺ Restoring ${manifest.workflowId} from step ${checkpoint.step}` +
                `${checkpoint.agent ? ` (after ${checkpoint.agent}, round ${checkpoint.round})` : ''}: ` +
                `${checkpoint.step} steps carried over, ${checkpoint.usage.totalTokens.toLocaleString('en-US')} tokens not paid again`,
            );
            const outcome = await app.restore(loaded, checkpoint, {
              ...executeOptions(options),
              ...progress(app),
              ...(options.workflowId ? { workflowId: options.workflowId } : {}),
            });
            return report(outcome, options.json);
          } finally {
            await app.close();
          }
        },
      ),
    );
}
