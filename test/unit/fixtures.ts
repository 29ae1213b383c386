/** Recorded histories (test/fixtures), read the way the CLI reads a run: no server involved. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDataConverter } from '@temporalio/common';
import { parseHistoryJson, type History } from '../../src/history/json';
import { HistoryReader, type RunHistory } from '../../src/history/reader';
import { EXPORT_FORMAT, checksumOf, type ExportFile } from '../../src/checkpoints/archive';
import { checkpointsOf } from '../../src/checkpoints/derive';

export const fixturePath = (name: string): string => join(__dirname, '../fixtures', name);
export const fixtureJson = (name: string): { events: unknown[] } =>
  JSON.parse(readFileSync(fixturePath(name), 'utf8')) as { events: unknown[] };
export const fixtureHistory = (name: string): History => parseHistoryJson(fixtureJson(name));

/** Folds a fixture's events into a RunHistory, as `readRun` does for a run on a server. */
export async function fixtureRun(name: string, ids = { workflowId: 'wf', runId: 'run-1' }): Promise<RunHistory> {
  const reader = new HistoryReader(defaultDataConverter, ids.workflowId, ids.runId);
  for (const event of fixtureHistory(name).events ?? []) await reader.add(event);
  return reader.run;
}

/** A scratch folder of the test's own, and a function that writes a file in it and returns its path. */
export function scratchWriter(prefix: string): (name: string, text: string) => string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return (name, text) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
}

/** A well-formed export (checkpoints export's file) of the completed fixture run. */
export async function fixtureExport(): Promise<ExportFile> {
  const run = await fixtureRun('history-completed.json', { workflowId: 'wf', runId: 'run-1' });
  const history = fixtureJson('history-completed.json');
  const manifest: ExportFile['manifest'] = {
    format: EXPORT_FORMAT,
    exportedAt: '2026-11-30T00:00:00.000Z',
    projectVersion: '0.1.0',
    namespace: 'default',
    workflowId: 'wf',
    task: run.input!.task,
    configDigest: 'sha256:x',
    runs: [
      { runId: 'run-1', status: 'COMPLETED', startedAt: null, events: history.events.length, steps: 9, parent: null },
    ],
    checkpoints: checkpointsOf(run, 'default'),
  };
  const runs = [{ runId: 'run-1', history }];
  return { manifest, runs, checksum: checksumOf(manifest, runs) };
}
