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

/**
 * The visibility clause that finds the runs of `workflowId` (null: none can narrow it), and the exact check for
 * what it returns. Temporal's SQL visibility (SQLite, PostgreSQL) matches no literal that holds `"` or `\`: its
 * query converter escapes them in a way those databases do not read back. Such an id is looked up by the part
 * before the first of them (`STARTS_WITH`) and checked exactly here.
 */
export function workflowIdClause(workflowId: string): { clause: string | null; matches: (id: string) => boolean } {
  const matches = (id: string): boolean => id === workflowId;
  const odd = workflowId.search(/["\\]/);
  if (odd < 0) return { clause: `WorkflowId = ${queryString(workflowId)}`, matches };
  return { clause: odd > 0 ? `WorkflowId STARTS_WITH ${queryString(workflowId.slice(0, odd))}` : null, matches };
}

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

/** Text wrapped at word boundaries to lines of at most `width` characters (a longer word is cut in pieces). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    const words = paragraph
      .split(/\s+/)
      .filter(Boolean)
      .flatMap((w) => (w.length > width ? (w.match(new RegExp(`.{1,${width}}`, 'g')) ?? [w]) : [w]));
    for (const word of words) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  return lines;
}

/** A long shell command over several lines (` \` continuations), each at most `width` wide where it can be. */
export function shellLines(command: string, indent: string, width = 80): string {
  const parts = command.split(/ (?=-)/);
  const lines: string[] = [];
  let line = indent + parts.shift()!;
  for (const part of parts) {
    if (line.length + 1 + part.length + 2 > width) {
      lines.push(line + ' \\');
      line = `${indent}  ${part}`;
    } else line += ` ${part}`;
  }
  lines.push(line);
  return lines.join('\n');
}

/**
 * `f` over `items`, at most `limit` calls at once; the results in the order of `items`. For reading many runs from
 * the server: in parallel, but not all at once (a namespace of thousands must not open thousands of calls).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
