/** Reading export files: every way a file can be wrong is refused (exit 2) with a message naming it. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checksumOf as exportChecksum,
  pickRestorePoint,
  readExportFile,
  type ExportFile,
} from '../../src/checkpoints/archive';
import { UsageError } from '../../src/shared/errors';
import { fixtureExport, fixtureJson, scratchWriter } from './fixtures';

const write = scratchWriter('archive-test-');
const checksum = (file: Pick<ExportFile, 'manifest' | 'runs'>): string => exportChecksum(file.manifest, file.runs);

const exportOf = fixtureExport;

function refusal(path: string): string {
  try {
    readExportFile(path);
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error('expected a UsageError');
}

describe('readExportFile', () => {
  it('reads a well-formed export and decodes each run for the replayer', async () => {
    const file = await exportOf();
    const loaded = readExportFile(write('ok.json', JSON.stringify(file)));
    expect(loaded.histories.get('run-1')?.events).toHaveLength(59);
    expect(pickRestorePoint(loaded, 'latest').step).toBe(9);
    const third = file.manifest.checkpoints[3]!;
    expect(pickRestorePoint(loaded, third.checkpointId)).toEqual(third);
    expect(() => pickRestorePoint(loaded, 'wf@99')).toThrow(/not in this export; it holds 10 checkpoints/);
    // A short form names a step of the export's latest run; a damaged full id is refused, not matched.
    expect(pickRestorePoint(loaded, 'wf@4')).toEqual(file.manifest.checkpoints[4]);
    expect(pickRestorePoint(loaded, 'wf@4~run-1')).toEqual(file.manifest.checkpoints[4]);
    expect(() => pickRestorePoint(loaded, third.checkpointId.slice(0, -2))).toThrow(
      /damaged: its checksum does not match/,
    );
  });

  it('refuses a file that is not JSON, cut short, of another format, not an export, edited, or inconsistent', async () => {
    const file = await exportOf();
    const text = JSON.stringify(file);
    expect(refusal(join(tmpdir(), 'agent-team-no-such-dir', 'missing.json'))).toMatch(/cannot read it/);
    expect(refusal(write('cut.json', text.slice(0, text.length / 2)))).toMatch(/not valid JSON .* a file cut short/);
    expect(
      refusal(write('v9.json', JSON.stringify({ ...file, manifest: { ...file.manifest, format: 'x/9' } }))),
    ).toMatch(/format "x\/9" is not supported/);
    expect(refusal(write('bare.json', JSON.stringify(fixtureJson('history-completed.json'))))).toMatch(
      /not an agent-team export/,
    );
    const edited = { ...file, manifest: { ...file.manifest, task: 'something else' } };
    expect(refusal(write('edited.json', JSON.stringify(edited)))).toMatch(/checksum mismatch/);
    const renamed = { ...file, runs: [{ ...file.runs[0]!, runId: 'run-2' }] };
    expect(refusal(write('renamed.json', JSON.stringify({ ...renamed, checksum: checksum(renamed) })))).toMatch(
      /the manifest lists runs run-1, but the file holds run-2/,
    );
    const short = { ...file, runs: [{ runId: 'run-1', history: { events: file.runs[0]!.history.events.slice(1) } }] };
    expect(refusal(write('short.json', JSON.stringify({ ...short, checksum: checksum(short) })))).toMatch(
      /the manifest says 59 events, the history has 58/,
    );
  });
});
