/** The offline model's request log: one JSON line per request, appended as it is answered (`OFFLINE_LLM_LOG`). */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FaultKind } from './faults';

/** One line of the request log. */
export interface OfflineLlmLogEntry {
  time: string;
  agent: string;
  kind: string;
  workflowId: string;
  runId: string;
  round: number | null;
  step: number | null;
  attempt: number | null;
  call: number;
  model: string;
  status: number;
  fault: FaultKind | null;
  promptTokens: number;
  completionTokens: number;
  /** The tools the request offered (absent: none). */
  toolsOffered?: string[];
  /** The tools the answer asked to call (absent: it answered in text). */
  toolCalls?: string[];
  /** A progress ledger request's note from a person (a fork's `--note`), as the request carried it. */
  note?: string;
  /** A plan or progress ledger request's messages from people (`tell`), as the request carried them. */
  told?: string[];
  /** In a follow-up turn of a conversation (`ask`): the earlier turns' questions the request carried. */
  earlier?: string[];
}

/** Reads a request log written with `logPath` (empty when nothing was logged yet). */
export function readOfflineLlmLog(path: string): OfflineLlmLogEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as OfflineLlmLogEntry);
}

/** A writer of a request log at `path` (its folder made), or one that writes nothing. */
export function logWriter(path: string | undefined): (entry: OfflineLlmLogEntry) => void {
  if (!path) return () => {};
  mkdirSync(dirname(path), { recursive: true });
  return (entry) => appendFileSync(path, JSON.stringify(entry) + '\n');
}
