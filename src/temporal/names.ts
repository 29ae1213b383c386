/**
 * Names this project derives from a workflow id for Temporal: a run's own task queue and a restored run's id.
 * Temporal takes any UTF-8 text as a workflow id, up to a length limit (`limit.maxIDLength`, 1,000 bytes by
 * default) that applies to task queue names too; a name derived from a long id is cut to fit and keeps a hash of
 * the whole id, so two long ids never share a queue.
 */
import { createHash } from 'node:crypto';

/** Temporal's default limit on the length of ids and task queue names, in bytes of UTF-8. */
export const MAX_ID_BYTES = 1_000;

/** `text` cut to at most `bytes` bytes of UTF-8, never inside a character. */
export function fitBytes(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (used + size > bytes) break;
    out += ch;
    used += size;
  }
  return out;
}

const hashOf = (workflowId: string): string => createHash('sha256').update(workflowId).digest('hex').slice(0, 16);

/**
 * The task queue of a run that the process hosting it serves alone: `<base>/<workflowId>`, so two `run`s at once
 * never execute each other's steps. Resets keep a run's task queue. For an id too long for that, the name is cut
 * and ends in `~<hash of the id>`.
 */
export function ownTaskQueue(base: string, workflowId: string): string {
  const full = `${base}/${workflowId}`;
  if (Buffer.byteLength(full) <= MAX_ID_BYTES) return full;
  const tail = `~${hashOf(workflowId)}`;
  return fitBytes(full, MAX_ID_BYTES - tail.length) + tail;
}

/** Whether `taskQueue` is the own queue of `workflowId` (whatever base it was made with). */
export const isOwnTaskQueue = (taskQueue: string, workflowId: string): boolean =>
  taskQueue.endsWith(`/${workflowId}`) || taskQueue.endsWith(`~${hashOf(workflowId)}`);

/** A new workflow id made from another and a suffix (`<id>-restored-<random>`), cut to fit Temporal's limit. */
export const derivedWorkflowId = (workflowId: string, suffix: string): string =>
  fitBytes(workflowId, MAX_ID_BYTES - Buffer.byteLength(suffix)) + suffix;
