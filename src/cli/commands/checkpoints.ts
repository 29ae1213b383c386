/**
 * `checkpoints list|show|diff|prune|export|import|keygen`: the checkpoints of runs (the points after each completed
 * step, kept in Temporal history) and their lifecycle.
 */
import { basename, dirname } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { command as cliHint } from '../../shared/invocation';
import { parseCheckpointId, resetCommand } from '../../checkpoints/ids';
import { renderDiff } from '../../render/diff';
import { checkpointDetails, checkpointTable } from '../../render/text';
import { CLOSED_STATUSES, type ClosedStatus } from '../../shared/constants';
import { generateSigningKeys, loadSigningKey, loadVerifyKeys } from '../../checkpoints/signing';
import { NotFoundError, UsageError } from '../../shared/errors';
import {
  RUN_STATUSES,
  action,
  configOption,
  detachable,
  err,
  executeOptions,
  json,
  jsonOption,
  load,
  loadArchive,
  loadPrune,
  noWorkerOption,
  offlineOption,
  out,
  parsePositiveInt,
  parseStatuses,
  preflight,
  progress,
  report,
  withApp,
  writeAtomically,
  type CommonOptions,
  type RunOptions,
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
          const runs = await withApp(options, async (app) => {
            const found = await app.checkpoints.listRuns({
              onUndecryptable: () => void skipped++,
              ...(options.workflowId ? { workflowId: options.workflowId } : {}),
              ...(options.status ? { status: options.status } : {}),
              ...(options.limit ? { limit: options.limit } : {}),
            });
            // An unknown workflow is an error, as in every command; a filter that matches nothing is not.
            if (found.length === 0 && options.workflowId && !options.status)
              throw new NotFoundError(options.workflowId, app.target.namespace);
            return found;
          });
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
      action(async (checkpointId: string, options: CommonOptions) => {
        parseCheckpointId(checkpointId); // a damaged id is a usage error before any connection
        await withApp(options, async (app) => {
          const checkpoint = await app.checkpoints.load(checkpointId);
          const command = resetCommand({ namespace: app.target.namespace, ...checkpoint });
          const ui = app.webUiUrl(checkpoint.workflowId, checkpoint.runId);
          if (options.json) json({ ...checkpoint, resetCommand: command, webUi: ui });
          else out(checkpointDetails(checkpoint, command, ui));
        });
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
        const d = await withApp(options, (app) => app.diff(from, to));
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
          const line = (run: { workflowId: string; runId: string; status: string; closedAt: string | null }): string =>
            `${run.workflowId}  run ${run.runId}  ${run.status.toLowerCase()}  closed ${run.closedAt ?? '?'}`;
          const result = await withApp(config, (app) =>
            app.prune({
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

  checkpoints
    .command('export')
    .summary("write a run's history with a manifest and checksum")
    .description(
      'Export the Temporal history of a workflow run (or of every run of its reset chain) with a manifest and a ' +
        'checksum, to import, replay or restore elsewhere',
    )
    .argument('<workflowId>', 'the workflow to export')
    .option('-r, --run-id <runId>', 'this run (default: the latest)')
    .option('--all-runs', 'every run of the workflow (its reset chain), oldest first')
    .option('-o, --output <file>', 'write here (default: stdout)')
    .option('--sign', 'sign it with an Ed25519 private key (--signing-key or AGENT_TEAM_SIGNING_KEY_FILE)')
    .option('--signing-key <file>', 'the PEM private key to sign with (implies --sign)')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nEach run\'s "history" is what `temporal workflow show --output json` prints, e.g.\n' +
        "  jq '.runs[0].history' export.json > history.json\n  agent-team replay history.json\n" +
        '\nSigned exports (docs/checkpoints.md):\n' +
        '  agent-team checkpoints keygen --out team     # team.key, team.pub\n' +
        '  agent-team checkpoints export WF --signing-key team.key -o wf.json\n' +
        '  agent-team checkpoints import wf.json --verify-key team.pub \\\n' +
        '    --require-signature',
    )
    .action(
      action(
        async (
          workflowId: string,
          options: CommonOptions & {
            runId?: string;
            allRuns?: boolean;
            output?: string;
            sign?: boolean;
            signingKey?: string;
          },
        ) => {
          if (options.runId && options.allRuns) throw new UsageError('give --run-id or --all-runs, not both');
          // The key is read first: a missing or wrong key fails before anything is fetched or written.
          const signingKey = options.sign || options.signingKey ? loadSigningKey(options.signingKey) : undefined;
          if (!signingKey && process.env.AGENT_TEAM_SIGNING_KEY_FILE)
            err('note: AGENT_TEAM_SIGNING_KEY_FILE is set, but without --sign the export is not signed');
          if (options.output === '-') delete options.output; // `-o -`: standard output
          const file = await withApp(options, (app) =>
            app.exportWorkflow(workflowId, {
              ...(options.runId ? { runId: options.runId } : {}),
              ...(options.allRuns ? { allRuns: true } : {}),
              ...(signingKey ? { signingKey } : {}),
            }),
          );
          const text = JSON.stringify(file, null, 2) + '\n';
          if (options.output) await writeAtomically(options.output, text);
          else process.stdout.write(text);
          const m = file.manifest;
          err(
            `✔ Exported ${m.workflowId}: ${m.runs.length} run${m.runs.length === 1 ? '' : 's'}, ` +
              `${m.runs.reduce((n, r) => n + r.events, 0)} events, ${m.checkpoints.length} checkpoints` +
              `${options.output ? ` → ${options.output}` : ''} (${file.checksum.slice(0, 19)}…` +
              `${file.signature ? `, signed by ${file.signature.keyId}` : ''})`,
          );
        },
      ),
    );

  checkpoints
    .command('import')
    .summary('check an export; --restore continues it here')
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
    .option('--verify-key <file>', 'PEM public key(s) to check signatures with (default: AGENT_TEAM_VERIFY_KEY_FILE)')
    .option('--require-signature', 'refuse an export that is not signed by one of the verify keys')
    .addOption(offlineOption())
    .addOption(noWorkerOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(
        async (
          path: string,
          options: RunOptions & {
            verifyOnly?: boolean;
            restore?: string;
            workflowId?: string;
            verifyKey?: string;
            requireSignature?: boolean;
          },
        ) => {
          if (options.verifyOnly && options.restore) throw new UsageError('give --verify-only or --restore, not both');
          if (options.workflowId !== undefined && !options.restore)
            throw new UsageError('--workflow-id names the restored run: it needs --restore');
          if (options.workflowId !== undefined && !options.workflowId.trim())
            throw new UsageError('--workflow-id must not be empty');
          const config = options.restore ? await preflight(options) : load(options);
          const archive = await loadArchive();
          const verifyKeys = loadVerifyKeys(options.verifyKey, process.env, err);
          if (options.requireSignature && verifyKeys.length === 0)
            throw new UsageError(
              '--require-signature needs the public key to check with: pass --verify-key FILE or set AGENT_TEAM_VERIFY_KEY_FILE',
            );
          // Exit 2 for a bad, altered or (with --require-signature) unsigned file, before anything starts.
          const loaded = archive.readExportFile(path, {
            verifyKeys,
            ...(options.requireSignature ? { requireSignature: true } : {}),
          });
          // A verify key was given but did not vouch for the file: said as plainly as a pass.
          const mark = loaded.signature.status === 'signed-valid' ? '✔' : verifyKeys.length > 0 ? '⚠' : '·';
          const checkpoint = options.restore ? archive.pickRestorePoint(loaded, options.restore) : null;
          // Checking is the result of a check (stdout); before a restore it is progress (stderr).
          const say = checkpoint ? err : out;
          if (!options.json)
            say(
              `${mark} ${loaded.signature.detail}${mark === '⚠' ? ' (--require-signature refuses such a file)' : ''}`,
            );
          const verification = await archive.verifyExport(path, loaded, config, {
            log: err,
            onReplay: (run, r) => {
              if (options.json) return;
              say(
                r.compatible
                  ? `✔ run ${run.runId} (${run.status.toLowerCase()}, ${r.events} events) replays against this workflow code`
                  : `✖ run ${run.runId} does not replay against this workflow code` +
                      (r.divergingEventId
                        ? `: it diverges at event ${r.divergingEventId} (${r.divergingEventType})`
                        : ''),
              );
            },
          });
          if (!verification.compatible) {
            if (options.json) json(verification);
            err('Nothing was imported: restoring onto code that cannot replay the history would not be faithful.');
            return 1;
          }
          if (!verification.sameConfig && !options.json)
            err(
              'note: the team configuration (agents, models, prompts, temperature) differs from the exporting side; ' +
                'restored steps are kept as they were, later steps use this configuration',
            );
          if (!checkpoint) {
            if (options.json) json(verification);
            else {
              out(
                `✔ ${path}: checksum ok, ${verification.signature.status}, ${verification.runs.length} run(s), ` +
                  `${verification.checkpoints.length} checkpoints of ${verification.workflowId}.`,
              );
              const again = [
                ...(options.verifyKey ? ['--verify-key', options.verifyKey] : []),
                ...(options.requireSignature ? ['--require-signature'] : []),
              ];
              err(
                `  Continue it here with: ${cliHint('checkpoints', 'import', path, ...again, '--restore', 'latest')}`,
              );
            }
            return 0;
          }
          return withApp(config, async (app) => {
            err(
              `↺ Restoring ${verification.workflowId} from step ${checkpoint.step}` +
                `${checkpoint.agent ? ` (after ${checkpoint.agent}, round ${checkpoint.round})` : ''}: ` +
                `${checkpoint.step} steps carried over, ${checkpoint.usage.totalTokens.toLocaleString('en-US')} tokens not paid again`,
            );
            const outcome = await detachable((signal) =>
              app.restore(loaded, checkpoint, {
                ...executeOptions(options),
                ...progress(app),
                signal,
                ...(options.workflowId ? { workflowId: options.workflowId } : {}),
              }),
            );
            return report(outcome, options.json);
          });
        },
      ),
    );

  checkpoints
    .command('keygen')
    .summary('make an Ed25519 key pair to sign exports with')
    .description(
      'Write a new Ed25519 key pair: NAME.key (the private key, mode 0600: keep it where exports are made) and ' +
        'NAME.pub (the public key: give it to whoever imports). Existing files are never overwritten.',
    )
    .requiredOption('--out <name>', 'path and name of the pair, without extension (writes NAME.key and NAME.pub)')
    .addOption(jsonOption())
    .action(
      action(async (options: { out: string; json?: boolean }) => {
        const { existsSync, writeFileSync } = await import('node:fs');
        const name = options.out.replace(/\.(key|pub)$/, '');
        if (!name.trim() || /[\\/]$/.test(name) || basename(name).startsWith('.'))
          throw new UsageError(
            `--out "${options.out}" must name the pair, e.g. --out keys/team (writes team.key and team.pub)`,
          );
        if (!existsSync(dirname(name))) throw new UsageError(`--out: the folder ${dirname(name)} does not exist`);
        const files = { privateKey: `${name}.key`, publicKey: `${name}.pub` };
        const present = Object.values(files).filter((f) => existsSync(f));
        if (present.length > 0)
          throw new UsageError(
            `${present.join(' and ')} already exist${present.length === 1 ? 's' : ''}: nothing written (pick another --out)`,
          );
        const pair = generateSigningKeys();
        try {
          writeFileSync(files.privateKey, pair.privateKey, { mode: 0o600, flag: 'wx' });
          writeFileSync(files.publicKey, pair.publicKey, { mode: 0o644, flag: 'wx' });
        } catch (e) {
          throw new UsageError(`cannot write the key pair: ${(e as Error).message}`, { cause: e });
        }
        if (options.json) json({ keyId: pair.keyId, ...files });
        else {
          out(`✔ ${pair.keyId}: private key → ${files.privateKey} (keep it secret), public key → ${files.publicKey}`);
          err(
            `  Sign:   ${cliHint('checkpoints', 'export', { raw: 'WF' }, '--signing-key', files.privateKey, '-o', 'wf.json')}\n` +
              `  Verify: ${cliHint('checkpoints', 'import', 'wf.json', '--verify-key', files.publicKey, '--require-signature')}`,
          );
        }
        return 0;
      }),
    );
}
