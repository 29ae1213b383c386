/**
 * Histories as JSON, in the format `temporal workflow show --output json` writes (protobuf JSON with the
 * Temporal CLI's spellings of enums, durations and timestamps). The SDK converts it for its own replayer but
 * exports the converter only from a library path; this is the one place that imports it.
 */
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';

export type History = temporal.api.history.v1.IHistory;
export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Parses a history from its JSON (throws on anything that is not one). */
export const parseHistoryJson = (json: unknown): History => historyFromJSON(json);

/** A history as the JSON object `temporal workflow show --output json` prints. */
export const historyJson = (history: History): { events: unknown[] } =>
  JSON.parse(historyToJSON(history)) as { events: unknown[] };
