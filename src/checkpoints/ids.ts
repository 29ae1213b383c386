/**
 * Checkpoint ids: what a person copies from `checkpoints list` and pastes into `show`, `resume`, `diff`,
 * `run --resume` or `import --restore`. Two forms, accepted everywhere:
 *
 * - the full id, `cp2_…`: opaque and self-checking. It carries the namespace, workflow, run and event, and a
 *   32-bit checksum of them, so a truncated, mistyped or garbled id is refused instead of naming another
 *   checkpoint. `checkpoints list --wide` and every `--json` print it.
 * - the short form a person can type: `<workflowId>@<step>` (a checkpoint of the workflow's latest run: the
 *   state after step <step>, 0 being the entry checkpoint), or `<workflowId>@<step>~<run>` for another run of
 *   its reset chain, `<run>` being the start of its run id (as `checkpoints list` prints it).
 */
import { createHash } from 'node:crypto';
import { InvalidCheckpointError, type NextStep } from '../shared/errors';
import { shellWord } from '../shared/util';

/** What a full checkpoint id stands for. */
export interface CheckpointRef {
  namespace: string;
  workflowId: string;
  runId: string;
  eventId: number;
}

/** A short form: a step of a workflow's latest run, or of the run whose id starts with `runPrefix`. */
export interface ShortCheckpointRef {
  workflowId: string;
  step: number;
  runPrefix?: string;
}

/** An id as given: a full id (decoded and checked) or a short form (resolved against the server later). */
export type ParsedCheckpointId = { kind: 'full'; ref: CheckpointRef } | { kind: 'short'; ref: ShortCheckpointRef };

const PREFIX = 'cp2_';
const OLD_PREFIX = 'cp1_';
const CHECK_BYTES = 4;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The command that lists the valid ids (of one workflow, when known). */
const listValid = (workflowId?: string): { next: NextStep[] } => ({
  next: [
    {
      purpose: 'list the valid ids',
      args: ['checkpoints', 'list', ...(workflowId ? ['-w', workflowId] : [])],
    },
  ],
});

/** For a damaged id, the workflow it seems to be of: a clue, never a resolution. */
const seemsOf = (workflowId: string | null): string =>
  workflowId ? ` It seems to be of workflow "${workflowId}…".` : '';

/** The workflow a damaged full id seems to name (for its error message only; never used to resolve it). */
function seemsToName(body64: string): string | null {
  try {
    const bytes = Buffer.from(body64, 'base64url');
    const [, afterEvent] = readVarint(bytes, 0);
    const at = bytes[afterEvent] === 1 ? afterEvent + 17 : (([l, st]) => st + l)(readVarint(bytes, afterEvent + 1));
    const [nsLen, nsStart] = readVarint(bytes, at);
    const name = bytes.subarray(nsStart + nsLen, bytes.length - CHECK_BYTES).toString('utf8');
    return /^[\x20-\x7e]{1,200}$/.test(name) ? name : null;
  } catch {
    return null;
  }
}

const check = (body: Buffer): Buffer => createHash('sha256').update(PREFIX).update(body).digest().subarray(0, CHECK_BYTES);

function varint(n: number): Buffer {
  const out: number[] = [];
  for (let v = n; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      out.push(v);
      return Buffer.from(out);
    }
    out.push((v % 128) | 128);
  }
}

function readVarint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  for (let i = at, scale = 1; i < buf.length && i < at + 8; i++, scale *= 128) {
    value += (buf[i]! & 127) * scale;
    if (buf[i]! < 128) return [value, i + 1];
  }
  throw new Error('bad varint');
}

const withLength = (s: string): Buffer => Buffer.concat([varint(Buffer.byteLength(s)), Buffer.from(s, 'utf8')]);

/** The full id of a checkpoint: URL-safe base64 of event, run, namespace and workflow, with a checksum. */
export function encodeCheckpointId(ref: CheckpointRef): string {
  const run = UUID.test(ref.runId)
    ? Buffer.concat([Buffer.from([1]), Buffer.from(ref.runId.replace(/-/g, ''), 'hex')])
    : Buffer.concat([Buffer.from([0]), withLength(ref.runId)]);
  const body = Buffer.concat([varint(ref.eventId), run, withLength(ref.namespace), Buffer.from(ref.workflowId, 'utf8')]);
  return PREFIX + Buffer.concat([body, check(body)]).toString('base64url');
}

function decodeFull(id: string, body64: string): CheckpointRef {
  if (!/^[A-Za-z0-9_-]+$/.test(body64)) {
    throw new InvalidCheckpointError(id, 'garbled: it has characters a checkpoint id never has', listValid());
  }
  const bytes = Buffer.from(body64, 'base64url');
  const body = bytes.subarray(0, Math.max(0, bytes.length - CHECK_BYTES));
  // Re-encoding must give back the very text: a last character changed in its unused bits is a typo too.
  const canonical = bytes.toString('base64url') === body64;
  if (!canonical || bytes.length <= CHECK_BYTES || !check(body).equals(bytes.subarray(bytes.length - CHECK_BYTES))) {
    throw new InvalidCheckpointError(
      id,
      `damaged: its checksum does not match (cut short, or mistyped?).${seemsOf(seemsToName(body64))}`,
      listValid(),
    );
  }
  try {
    const [eventId, afterEvent] = readVarint(body, 0);
    let at = afterEvent;
    let runId: string;
    if (body[at] === 1) {
      const hex = body.subarray(at + 1, at + 17).toString('hex');
      runId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      at += 17;
    } else {
      const [len, start] = readVarint(body, at + 1);
      runId = body.subarray(start, start + len).toString('utf8');
      at = start + len;
    }
    const [nsLen, nsStart] = readVarint(body, at);
    const namespace = body.subarray(nsStart, nsStart + nsLen).toString('utf8');
    const workflowId = body.subarray(nsStart + nsLen).toString('utf8');
    if (eventId < 1 || !runId || !namespace || !workflowId) throw new Error('empty field');
    return { namespace, workflowId, runId, eventId };
  } catch {
    throw new InvalidCheckpointError(id, 'garbled: it does not decode to a workflow, run and event', listValid());
  }
}

/** The workflow an id of an earlier version names, for its error message (those ids carry no checksum). */
function oldIdWorkflow(body64: string): string | null {
  const parts = Buffer.from(body64, 'base64url').toString('utf8').split('\n');
  return parts.length === 4 && parts[1] ? parts[1] : null;
}

const SHORT = /^([^]+)@(\d+)(?:~([\w-]+))?$/;

/**
 * Parses an id without a server: a full id is decoded and its checksum checked, a short form split into its
 * parts. Throws {@link InvalidCheckpointError} naming what is wrong, and how to list the valid ids.
 */
export function parseCheckpointId(text: string): ParsedCheckpointId {
  const id = text.trim();
  if (id.startsWith(PREFIX)) return { kind: 'full', ref: decodeFull(text, id.slice(PREFIX.length)) };
  if (id.startsWith(OLD_PREFIX)) {
    const wf = oldIdWorkflow(id.slice(OLD_PREFIX.length));
    throw new InvalidCheckpointError(
      text,
      'an id of an earlier version, which carries no checksum, so a damaged one cannot be told from another ' +
        `checkpoint${wf ? `: name it as ${wf}@<step>, or by its current id` : ''}`,
      listValid(wf ?? undefined),
    );
  }
  // White space around a pasted id is dropped: a workflow id that begins or ends with spaces takes its full id.
  const short = SHORT.exec(id);
  if (short) {
    const [, workflowId, step, runPrefix] = short;
    return {
      kind: 'short',
      ref: { workflowId: workflowId!, step: Number(step), ...(runPrefix ? { runPrefix: runPrefix.toLowerCase() } : {}) },
    };
  }
  throw new InvalidCheckpointError(
    text,
    'not a checkpoint id: give the full id (cp2_…) or <workflowId>@<step>, as the list of checkpoints prints them',
    listValid(),
  );
}

/** Decodes a full checkpoint id (`cp2_…`); throws {@link InvalidCheckpointError} for anything else or a damaged one. */
export function decodeCheckpointId(id: string): CheckpointRef {
  const parsed = parseCheckpointId(id);
  if (parsed.kind !== 'full') throw new InvalidCheckpointError(id, 'not a full checkpoint id (cp2_…)');
  return parsed.ref;
}

/** The shortest run id prefix a short form uses. */
export const MIN_RUN_PREFIX = 8;

/**
 * The shortest prefix (at least {@link MIN_RUN_PREFIX} characters) that tells `runId` from the other runs of its
 * workflow that are known. A prefix that turns out to start another run too is refused when it is used, never
 * resolved to either run.
 */
export function runPrefix(runId: string, siblings: readonly string[] = []): string {
  let n = MIN_RUN_PREFIX;
  while (n < runId.length && siblings.some((s) => s !== runId && s.startsWith(runId.slice(0, n)))) n++;
  if (runId[n - 1] === '-') n++;
  return runId.slice(0, n);
}

/**
 * The short form of a checkpoint: `<workflowId>@<step>` for the workflow's latest run, else
 * `<workflowId>@<step>~<run prefix>`.
 */
export function shortCheckpointId(
  c: { workflowId: string; runId: string; step: number },
  latest: boolean,
  siblings: readonly string[] = [],
): string {
  return `${c.workflowId}@${c.step}${latest ? '' : `~${runPrefix(c.runId, siblings)}`}`;
}

/**
 * The Temporal CLI command that performs the same reset. Answers given after the checkpoint (the `answer`
 * Update) are not re-applied (`--reapply-exclude Update`), so a resume from before a gate asks again.
 */
export function resetCommand(ref: CheckpointRef, reason = 'resume from checkpoint'): string {
  return (
    `temporal workflow reset --namespace ${shellWord(ref.namespace)} -w ${shellWord(ref.workflowId)} -r ${shellWord(ref.runId)} ` +
    `-e ${ref.eventId} --reapply-exclude Update --reason ${shellWord(reason)}`
  );
}
