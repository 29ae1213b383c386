/** Small helpers more than one module needs. */
import type { temporal } from '@temporalio/proto';

type ProtoTimestamp = temporal.api.history.v1.IHistoryEvent['eventTime'];

/** A history event's time as a Date (null when absent). */
export const toDate = (ts: ProtoTimestamp): Date | null =>
  ts ? new Date(Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)) : null;

/** A history event's time as an ISO string (null when absent). */
export const toIso = (ts: ProtoTimestamp): string | null => toDate(ts)?.toISOString() ?? null;

/** A string literal for a Temporal visibility query. */
export const queryString = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** A word for a POSIX shell: as is when safe, else single-quoted. */
export const shellWord = (s: string): string => (/^[\w.:@/=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Text on one line, cut to `max` characters with an ellipsis. */
export function oneLine(s: string, max = Infinity): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, Math.max(0, max - 1)) + '…' : flat;
}

const noop = (): void => {};
/** A logger (the SDK's shape) that prints nothing: for bundling and replay, whose chatter is not for users. */
export const silentLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
