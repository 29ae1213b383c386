/**
 * Export and import of checkpoints: one JSON file carrying the Temporal history of each run of a workflow
 * (in the format `temporal workflow show --output json` writes, so the SDK replayer and the Temporal CLI
 * accept it), a manifest (checkpoints, lineage, config digest, project version), a SHA-256 checksum and, when
 * signed, an Ed25519 signature of that checksum (./signing.ts).
 *
 * Import validates the file (schema, checksum, manifest against histories), replays every run against the
 * current workflow code, and can restore a checkpoint as a new run on any server: the run's input carries
 * the steps up to the checkpoint (`TeamInput.restore`), which the workflow folds with the same reducer
 * instead of executing them again.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { TeamInput } from '../../workflows/types';
import type { AgentTeamConfig } from '../config';
import { historyJson, parseHistoryJson, type History } from '../history/json';
import { HistoryReader, readRun, readRuns, type RunStatus } from '../history/reader';
import { replayHistory, type ReplayReport } from '../history/replay';
import { installRuntime } from '../temporal/runtime';
import { NotFoundError, UsageError, errorMessage } from '../shared/errors';
import { PACKAGE_VERSION } from '../shared/package';
import { checkpointsOf, type Checkpoint } from './derive';
import { checkSeedSize, seedInput } from './seed';
import { checkSignature, signChecksum, type ExportSignature, type SignatureCheck } from './signing';
import { parseCheckpointId } from './ids';

export const EXPORT_FORMAT = 'agent-team-export/1';

export { MAX_SEED_BYTES } from './seed';

/** One run of the exported workflow, as the manifest describes it. */
export interface ExportedRunInfo {
  runId: string;
  status: RunStatus;
  startedAt: string | null;
  events: number;
  /** Steps this run executed (seeded steps of a restored run are not counted). */
  steps: number;
  /** The run this one was reset from, and the event it branched at (null for the first run). */
  parent: { runId: string; eventId: number; reason: string } | null;
}

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  projectVersion: string;
  namespace: string;
  workflowId: string;
  task: string;
  /** SHA-256 of the team configuration (agents, models, prompts, temperature) on the exporting side. */
  configDigest: string;
  /** Oldest first; lineage in `parent`. */
  runs: ExportedRunInfo[];
  /** Every checkpoint of every exported run, oldest first. */
  checkpoints: Checkpoint[];
}

export interface ExportFile {
  manifest: ExportManifest;
  /** `history` is exactly what `temporal workflow show --output json` prints for the run. */
  runs: { runId: string; history: { events: unknown[] } }[];
  /** `sha256:` + hex digest of the canonical JSON of `{manifest, runs}`. */
  checksum: string;
  /** With `export --sign`: the exporter's Ed25519 signature of the checksum. */
  signature?: ExportSignature;
}

/** Digest of what shapes the agents' answers, to tell an importer whether its team is configured the same. */
export function configDigest(config: Pick<AgentTeamConfig, 'team' | 'llm'>): string {
  const team = [...config.team].sort((a, b) => a.name.localeCompare(b.name));
  return sha256(JSON.stringify({ team, temperature: config.llm.temperature }));
}

function sha256(text: string): string {
  return 'sha256:' + createHash('sha256').update(text).digest('hex');
}

/** An export's checksum: `sha256:` + the hex SHA-256 of the JSON of `{manifest, runs}`. */
export function checksumOf(manifest: ExportManifest, runs: ExportFile['runs']): string {
  return sha256(JSON.stringify({ manifest, runs }));
}

/**
 * Builds the export of a workflow: every run of its reset chain (or one run), oldest first.
 */
export async function exportWorkflow(
  client: Client,
  namespace: string,
  config: Pick<AgentTeamConfig, 'team' | 'llm'>,
  workflowId: string,
  options: { runId?: string; allRuns?: boolean; signingKey?: KeyObject } = {},
): Promise<ExportFile> {
  const chain = options.allRuns
    ? await readRuns(client, workflowId)
    : [(await readRun(client, workflowId, options.runId)).run];
  if (chain.length === 0) throw new NotFoundError(workflowId, namespace);
  const runs: ExportFile['runs'] = [];
  const infos: ExportedRunInfo[] = [];
  const checkpoints: Checkpoint[] = [];
  let task = '';
  for (const run of chain) {
    const { runId } = run;
    if (run.status === 'RUNNING') {
      throw new UsageError(
        `run ${runId} of "${workflowId}" is still running: export it once it has closed (its history is not final)`,
      );
    }
    const cps = checkpointsOf(run, namespace);
    const origin = cps[0]?.resetFrom;
    infos.push({
      runId,
      status: run.status,
      startedAt: run.createdAt?.toISOString() ?? null,
      events: run.events.length,
      steps: run.steps.length,
      parent: origin ? { runId: origin.runId, eventId: origin.eventId, reason: origin.reason } : null,
    });
    checkpoints.push(...cps);
    task ||= run.input?.task ?? '';
    runs.push({ runId, history: historyJson({ events: run.events }) });
  }
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    exportedAt: new Date().toISOString(),
    projectVersion: PACKAGE_VERSION,
    namespace,
    workflowId,
    task,
    configDigest: configDigest(config),
    runs: infos,
    checkpoints,
  };
  const checksum = checksumOf(manifest, runs);
  return {
    manifest,
    runs,
    checksum,
    ...(options.signingKey ? { signature: signChecksum(EXPORT_FORMAT, checksum, options.signingKey) } : {}),
  };
}

const checkpointSchema = z.looseObject({
  checkpointId: z.string().min(1),
  workflowId: z.string(),
  runId: z.string(),
  eventId: z.number().int().min(1),
  step: z.number().int().min(0),
  agent: z.string().nullable(),
  round: z.number().int(),
  createdAt: z.string().nullable(),
});

const exportSchema = z.strictObject({
  manifest: z.looseObject({
    format: z.string(),
    exportedAt: z.string(),
    projectVersion: z.string(),
    namespace: z.string(),
    workflowId: z.string().min(1),
    task: z.string(),
    configDigest: z.string(),
    runs: z
      .array(
        z.looseObject({
          runId: z.string().min(1),
          status: z.string(),
          events: z.number().int().min(1),
          steps: z.number().int().min(0),
        }),
      )
      .min(1),
    checkpoints: z.array(checkpointSchema),
  }),
  runs: z.array(z.strictObject({ runId: z.string().min(1), history: z.looseObject({ events: z.array(z.unknown()) }) })),
  checksum: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected "sha256:" and 64 hex digits'),
  signature: z
    .strictObject({
      alg: z.literal('ed25519'),
      keyId: z.string().regex(/^ed25519:[0-9a-f]{16}$/, 'expected "ed25519:" and 16 hex digits'),
      value: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'expected the base64 of 64 bytes'),
    })
    .optional(),
});

/** A validated export, with each run's history decoded for the replayer. */
export interface LoadedExport {
  /** Where it was read from. */
  path: string;
  file: ExportFile;
  histories: Map<string, History>;
  /** The signature, checked against the verify keys given to {@link readExportFile}. */
  signature: SignatureCheck;
}

export interface ReadExportOptions {
  /** Public keys a signature may be checked with. */
  verifyKeys?: KeyObject[];
  /** Refuse an export that is not signed by one of `verifyKeys`. */
  requireSignature?: boolean;
}

/**
 * Reads and validates an export file. Throws {@link UsageError} naming the problem for a file that is not
 * JSON, is cut short, does not match the schema, fails its checksum, carries a signature that does not check,
 * lacks a valid signature when one is required, or whose manifest and histories disagree.
 */
export function readExportFile(path: string, options: ReadExportOptions = {}): LoadedExport {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${path}: cannot read it (${errorMessage(err)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `${path}: not valid JSON (${errorMessage(err)}); a file cut short in transfer looks like this: export it again`,
    );
  }
  if (
    raw &&
    typeof raw === 'object' &&
    (raw as { manifest?: { format?: unknown } }).manifest?.format !== EXPORT_FORMAT
  ) {
    const format = (raw as { manifest?: { format?: unknown } }).manifest?.format;
    if (format !== undefined)
      throw new UsageError(
        `${path}: format "${String(format)}" is not supported (this version reads ${EXPORT_FORMAT})`,
      );
  }
  const parsed = exportSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(
      `${path}: not an agent-team export: ${issue.path.join('.') || '(top level)'}: ${issue.message} ` +
        '(checkpoints export writes these files)',
      { next: [{ purpose: 'write one', args: ['checkpoints', 'export', { placeholder: '<workflowId>' }] }] },
    );
  }
  // The raw object, not zod's output: zod rebuilds objects with its schema's key order, and the checksum is
  // over the file's own order.
  // (Its format is EXPORT_FORMAT: any other was refused above, a missing one by the schema.)
  const file = raw as ExportFile;
  const actual = checksumOf(file.manifest, file.runs);
  if (actual !== file.checksum) {
    throw new UsageError(
      `${path}: checksum mismatch: the file was changed after it was exported (recorded ${file.checksum.slice(0, 19)}…, ` +
        `content ${actual.slice(0, 19)}…); nothing was imported`,
    );
  }
  const signature = checkSignature(EXPORT_FORMAT, file.checksum, file.signature, options.verifyKeys ?? []);
  if (signature.status === 'signed-invalid') {
    throw new UsageError(`${path}: ${signature.detail}; nothing was imported`);
  }
  if (options.requireSignature && signature.status !== 'signed-valid') {
    throw new UsageError(
      `${path}: --require-signature: ${signature.detail}; nothing was imported` +
        (signature.status === 'unsigned' ? ' (export it with `checkpoints export --sign`)' : ''),
    );
  }
  const listed = file.manifest.runs.map((r) => r.runId).join(',');
  if (file.runs.map((r) => r.runId).join(',') !== listed) {
    throw new UsageError(
      `${path}: the manifest lists runs ${listed}, but the file holds ${file.runs.map((r) => r.runId).join(',')}`,
    );
  }
  const histories = new Map<string, History>();
  for (const run of file.runs) {
    try {
      histories.set(run.runId, parseHistoryJson(run.history));
    } catch (err) {
      throw new UsageError(`${path}: run ${run.runId}: not a valid Temporal history (${errorMessage(err)})`);
    }
    const info = file.manifest.runs.find((r) => r.runId === run.runId)!;
    if (histories.get(run.runId)!.events?.length !== info.events) {
      throw new UsageError(
        `${path}: run ${run.runId}: the manifest says ${info.events} events, the history has ${histories.get(run.runId)!.events?.length}`,
      );
    }
  }
  return { path, file, histories, signature };
}

/**
 * Picks the checkpoint to restore: `latest` (the newest of the newest run), a full id from the manifest, or a
 * short form (`<workflowId>@<step>`, of the export's latest run; `~<run>` for another). A damaged id is refused,
 * never matched to another checkpoint.
 */
export function pickRestorePoint(loaded: LoadedExport, which: string): Checkpoint {
  const { checkpoints, runs } = loaded.file.manifest;
  const lastRun = runs[runs.length - 1]!.runId;
  if (which.trim() === 'latest') {
    const cp = checkpoints.filter((c) => c.runId === lastRun).at(-1);
    if (!cp) throw new UsageError(`the export's latest run ${lastRun} has no checkpoint to restore`);
    return cp;
  }
  // An id exactly as the manifest lists it (exports of earlier versions list ids of an earlier format).
  const exact = checkpoints.find((c) => c.checkpointId === which.trim());
  if (exact) return exact;
  const parsed = parseCheckpointId(which);
  const found =
    parsed.kind === 'full'
      ? checkpoints.filter((c) => c.runId === parsed.ref.runId && c.eventId === parsed.ref.eventId)
      : checkpoints.filter(
          (c) =>
            c.workflowId === parsed.ref.workflowId &&
            c.step === parsed.ref.step &&
            (parsed.ref.runPrefix ? c.runId.toLowerCase().startsWith(parsed.ref.runPrefix) : c.runId === lastRun),
        );
  if (found.length !== 1) {
    throw new UsageError(
      `checkpoint "${which}" is ${found.length > 1 ? 'ambiguous' : 'not'} in this export; it holds ` +
        `${checkpoints.length} checkpoints (or pass --restore latest)`,
      { next: [{ purpose: 'list them', args: ['checkpoints', 'import', loaded.path, '--verify-only', '--json'] }] },
    );
  }
  return found[0]!;
}

/**
 * The input of a new run that continues from `checkpoint` of the export: the original run's input plus the
 * results of every step up to the checkpoint (decoded with `client`'s data converter).
 */
export async function restoreInput(client: Client, loaded: LoadedExport, checkpoint: Checkpoint): Promise<TeamInput> {
  const history = loaded.histories.get(checkpoint.runId);
  if (!history) throw new UsageError(`the export holds no history for run ${checkpoint.runId}`);
  const reader = new HistoryReader(client.options.loadedDataConverter, checkpoint.workflowId, checkpoint.runId);
  for (const event of history.events ?? []) await reader.add(event);
  const input = seedInput(reader.run, checkpoint);
  checkSeedSize(input);
  return input;
}

/** What `checkpoints import` found: the file checked, every run replayed against this workflow code. */
export interface ImportVerification {
  file: string;
  workflowId: string;
  task: string;
  exportedAt: string;
  projectVersion: string;
  checksum: string;
  /** signed-valid, signed-unverified or unsigned (a signed-invalid export is refused when read). */
  signature: SignatureCheck;
  /** Whether the team configuration here is the exporting side's. */
  sameConfig: boolean;
  runs: ExportedRunInfo[];
  replays: ReplayReport[];
  checkpoints: Checkpoint[];
  /** Every run replays against this workflow code. */
  compatible: boolean;
}

/** Replays each run of a read export against this workflow code, reporting each verdict to `onReplay` as it comes. */
export async function verifyExport(
  path: string,
  loaded: LoadedExport,
  config: Pick<AgentTeamConfig, 'team' | 'llm'>,
  options: { log?: (line: string) => void; onReplay?: (run: ExportedRunInfo, report: ReplayReport) => void } = {},
): Promise<ImportVerification> {
  const { manifest } = loaded.file;
  installRuntime(options.log ?? (() => {}));
  const replays: ReplayReport[] = [];
  for (const run of manifest.runs) {
    const report = await replayHistory(loaded.histories.get(run.runId)!, `run ${run.runId}`);
    replays.push(report);
    options.onReplay?.(run, report);
  }
  return {
    file: path,
    workflowId: manifest.workflowId,
    task: manifest.task,
    exportedAt: manifest.exportedAt,
    projectVersion: manifest.projectVersion,
    checksum: loaded.file.checksum,
    signature: loaded.signature,
    sameConfig: manifest.configDigest === configDigest(config),
    runs: manifest.runs,
    replays,
    checkpoints: manifest.checkpoints,
    compatible: replays.every((r) => r.compatible),
  };
}

/** An export read and checked: what {@link checkExport} returns, and what a restore starts from. */
export interface CheckedExport {
  loaded: LoadedExport;
  verification: ImportVerification;
}

/**
 * Reads an export and checks it all before anything starts: its schema and checksum, its signature (against
 * `verifyKeys`; with `requireSignature`, an unsigned or unvouched file is refused), and a replay of every run
 * against this workflow code (`verification.compatible`). A bad, altered or (when required) unsigned file is a
 * {@link UsageError} (exit 2). Needs no Temporal server: the library and `checkpoints import` use it alike.
 */
export async function checkExport(
  path: string,
  options: ReadExportOptions & {
    config: Pick<AgentTeamConfig, 'team' | 'llm'>;
    log?: (line: string) => void;
    /** Told of the signature once the file is read, before any replay. */
    onSignature?: (check: SignatureCheck) => void;
    onReplay?: (run: ExportedRunInfo, report: ReplayReport) => void;
  },
): Promise<CheckedExport> {
  const { config, log, onSignature, onReplay, ...read } = options;
  const loaded = readExportFile(path, read);
  onSignature?.(loaded.signature);
  const verification = await verifyExport(path, loaded, config, {
    ...(log ? { log } : {}),
    ...(onReplay ? { onReplay } : {}),
  });
  return { loaded, verification };
}
