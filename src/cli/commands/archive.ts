/**
 * `checkpoints export|import|keygen`: a workflow's history as a portable file (checksummed, optionally signed),
 * checked and continued on another server, and the key pairs that sign such files.
 */
import type { Command } from 'commander';
import type { Hints } from '../hints';
import { loadSigningKey, loadVerifyKeys, writeKeyPair } from '../../checkpoints/signing';
import { UsageError } from '../../shared/errors';
import { CONFIG_DIFFERS, replayLine, restoreLine, signatureLine, verificationLine } from '../render/archive';
import { followRun } from '../session';
import {
  action,
  configOption,
  err,
  executeOptions,
  json,
  jsonOption,
  load,
  loadArchive,
  noWorkerOption,
  offlineOption,
  out,
  preflight,
  withClient,
  writeAtomically,
  type CommonOptions,
  type ExecuteFlags,
} from '../common';

interface ImportFlags {
  verifyOnly?: boolean;
  restore?: string;
  workflowId?: string;
  verifyKey?: string;
  requireSignature?: boolean;
}

/** Checks how import's options go together; returns the flags a printed `--restore` command repeats. */
function importFlags(options: ImportFlags): string[] {
  if (options.verifyOnly && options.restore) throw new UsageError('give --verify-only or --restore, not both');
  if (options.workflowId !== undefined && !options.restore)
    throw new UsageError('--workflow-id names the restored run: it needs --restore');
  if (options.workflowId !== undefined && !options.workflowId.trim())
    throw new UsageError('--workflow-id must not be empty');
  return [
    ...(options.verifyKey ? ['--verify-key', options.verifyKey] : []),
    ...(options.requireSignature ? ['--require-signature'] : []),
  ];
}

export function registerArchive(checkpoints: Command): void {
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
          const file = await withClient(options, (client) =>
            client.archive.export(workflowId, {
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
      action(async (path: string, options: ExecuteFlags & ImportFlags, hints: Hints) => {
        const flags = importFlags(options);
        const config = options.restore ? await preflight(options) : load(options);
        const verifyKeys = loadVerifyKeys(options.verifyKey, process.env, err);
        if (options.requireSignature && verifyKeys.length === 0)
          throw new UsageError(
            '--require-signature needs the public key to check with: pass --verify-key FILE or set AGENT_TEAM_VERIFY_KEY_FILE',
          );
        // Checking is the result of a check (stdout); before a restore it is progress (stderr).
        const say = options.json ? () => {} : options.restore ? err : out;
        const { checkExport, pickRestorePoint } = await loadArchive();
        // Exit 2 for a bad, altered or (with --require-signature) unsigned file, before anything starts.
        const checked = await checkExport(path, {
          config,
          verifyKeys,
          ...(options.requireSignature ? { requireSignature: true } : {}),
          log: err,
          onSignature: (signature) => say(signatureLine(signature, verifyKeys.length > 0)),
          onReplay: (run, r) => say(replayLine(run, r)),
        });
        const { verification } = checked;
        if (!verification.sameConfig && !options.json) err(CONFIG_DIFFERS);
        if (!options.restore) {
          if (options.json) json(verification);
          else {
            out(verificationLine(path, verification));
            if (verification.compatible)
              err(
                `  Continue it here with: ${hints.command('checkpoints', 'import', path, ...flags, '--restore', 'latest')}`,
              );
          }
          return verification.compatible ? 0 : 1;
        }
        const which = options.restore;
        // A checkpoint the export does not hold is refused before any connection (the file says it all).
        const point = pickRestorePoint(checked.loaded, which);
        return withClient(config, (client) =>
          followRun(client, hints, options, (follow) => {
            err(restoreLine(verification.workflowId, point));
            return client.archive.restore(checked, which, {
              ...executeOptions(options),
              ...follow,
              ...(options.workflowId ? { workflowId: options.workflowId } : {}),
            });
          }),
        );
      }),
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
      action(async (options: { out: string; json?: boolean }, hints: Hints) => {
        const pair = writeKeyPair(options.out);
        if (options.json) json(pair);
        else {
          out(`✔ ${pair.keyId}: private key → ${pair.privateKey} (keep it secret), public key → ${pair.publicKey}`);
          err(
            `  Sign:   ${hints.command('checkpoints', 'export', { placeholder: 'WF' }, '--signing-key', pair.privateKey, '-o', 'wf.json')}\n` +
              `  Verify: ${hints.command('checkpoints', 'import', 'wf.json', '--verify-key', pair.publicKey, '--require-signature')}`,
          );
        }
        return 0;
      }),
    );
}
