/**
 * Where a run's time goes: the gaps between a run's model answers (from the offline model's request log) and
 * the mean ms between each pair of consecutive history event types.
 */
import type { temporal } from '@temporalio/proto';
import type { OfflineLlmLogEntry } from '../src/llm/offline-server';

/** Time between consecutive model answers within each run: the model's latency plus what the system adds. */
export function stepGaps(entries: OfflineLlmLogEntry[], runIds: Set<string>): number[] {
  const byRun = new Map<string, number[]>();
  for (const e of entries) {
    if (!runIds.has(e.workflowId)) continue;
    byRun.set(e.workflowId, [...(byRun.get(e.workflowId) ?? []), Date.parse(e.time)]);
  }
  const gaps: number[] = [];
  for (const times of byRun.values()) for (let i = 1; i < times.length; i++) gaps.push(times[i]! - times[i - 1]!);
  return gaps;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const ms = (e: HistoryEvent): number => Number(e.eventTime?.seconds) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;

/** `{ "WorkflowTaskScheduled->WorkflowTaskStarted": 2.9, … }` over any number of histories. */
export function eventGaps(histories: { events?: HistoryEvent[] | null }[]): Record<string, number> {
  const sums: Record<string, number[]> = {};
  for (const h of histories) {
    const ev = h.events ?? [];
    for (let i = 1; i < ev.length; i++) {
      const key = `${typeName(ev[i - 1]!)}->${typeName(ev[i]!)}`;
      (sums[key] ??= []).push(ms(ev[i]!) - ms(ev[i - 1]!));
    }
  }
  return Object.fromEntries(
    Object.entries(sums).map(([k, v]) => [k, Math.round((v.reduce((a, b) => a + b, 0) / v.length) * 10) / 10]),
  );
}

const SHORT: Record<number, string> = {
  1: 'Started',
  2: 'Completed',
  5: 'WFTScheduled',
  6: 'WFTStarted',
  7: 'WFTCompleted',
  10: 'ActScheduled',
  11: 'ActStarted',
  12: 'ActCompleted',
};
const typeName = (e: HistoryEvent): string => SHORT[Number(e.eventType)] ?? String(e.eventType);

export const formatGaps = (gaps: Record<string, number>): string =>
  Object.entries(gaps)
    .map(([k, v]) => `${k} ${v}`)
    .join(' | ');
