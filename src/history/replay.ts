/**
 * Replaying recorded history against workflow code: the check that existing runs (and so their
 * checkpoints) stay resumable after a code change. Used by `agent-team replay`.
 */
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { UsageError, errorMessage } from '../shared/errors';
import { silentLogger } from '../shared/util';
import { dataConverterFromEnv } from '../temporal/codec';
import { installRuntime } from '../temporal/runtime';
import { workflowBundle } from '../worker/bundle';
import { parseHistoryJson, type History } from './json';

export interface ReplayReport {
  source: string;
  events: number;
  compatible: boolean;
  /** The first event the code disagrees with, when the error names one. */
  divergingEventId?: number;
  divergingEventType?: string;
  message?: string;
}

/** Reads a history file in the format `temporal workflow show --output json` writes. */
export function readHistoryFile(path: string): History {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`${path}: not a JSON history file (${errorMessage(err)})`);
  }
  if (json && typeof json === 'object' && 'manifest' in json && 'runs' in json) {
    throw new UsageError(`${path} is an agent-team export, not a history`, {
      next: [{ purpose: 'replay each of its runs', args: ['checkpoints', 'import', path, '--verify-only'] }],
    });
  }
  if (!json || typeof json !== 'object' || !Array.isArray((json as { events?: unknown }).events)) {
    throw new UsageError(
      `${path}: not a history (expected {"events": [...]}, as \`temporal workflow show --output json\` writes)`,
    );
  }
  try {
    return parseHistoryJson(json);
  } catch (err) {
    throw new UsageError(`${path}: not a valid Temporal history: ${errorMessage(err)}`);
  }
}

/**
 * Replays `history` against the workflow code (the project's own, or the module at `workflowsPath`).
 * Resolves with the verdict; throws only for problems other than incompatibility.
 */
export async function replayHistory(
  history: History,
  source: string,
  options: { workflowsPath?: string } = {},
): Promise<ReplayReport> {
  const bundle = options.workflowsPath
    ? { code: (await bundleWorkflowCode({ workflowsPath: options.workflowsPath, logger: silentLogger })).code }
    : await workflowBundle({ traced: false });
  const events = history.events?.length ?? 0;
  try {
    // Encrypted runs replay with the same codec their workers use (AGENT_TEAM_ENCRYPTION_KEY…).
    const dataConverter = dataConverterFromEnv();
    await Worker.runReplayHistory({ workflowBundle: bundle, ...(dataConverter ? { dataConverter } : {}) }, history);
    return { source, events, compatible: true };
  } catch (err) {
    if (!(err instanceof DeterminismViolationError)) throw err;
    const match = /HistoryEvent\(id: (\d+), (\w+)\)/.exec(err.message);
    return {
      source,
      events,
      compatible: false,
      ...(match ? { divergingEventId: Number(match[1]), divergingEventType: match[2] } : {}),
      message: err.message,
    };
  }
}

/** Replays a history file (validated before anything native starts) against the workflow code. */
export async function replayFile(
  path: string,
  options: { workflowsPath?: string; log?: (line: string) => void } = {},
): Promise<ReplayReport> {
  const history = readHistoryFile(path);
  installRuntime(options.log ?? (() => {}));
  return replayHistory(history, path, options.workflowsPath ? { workflowsPath: options.workflowsPath } : {});
}

/**
 * The part of a history that a reset to the checkpoint at `eventId` (a WorkflowTaskCompleted) keeps: every
 * event before it. The reset fails that workflow task, and the new run's code must replay the kept part.
 */
export function keptByReset(history: History, eventId: number): History {
  return { events: (history.events ?? []).filter((e) => Number(e.eventId) < eventId) };
}

/** The history of a run on the server (the latest run when `runId` is not given). */
export async function fetchRunHistory(client: Client, workflowId: string, runId?: string): Promise<History> {
  return client.workflow.getHandle(workflowId, runId).fetchHistory();
}
