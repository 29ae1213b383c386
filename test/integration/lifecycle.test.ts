/**
 * The checkpoint lifecycle through the CLI, on real servers: export → import (verify, restore on a fresh
 * in-memory server), refusing damaged files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IncompatibleCodeError, type RestoreOutcome, type RunOutcome } from '../../src';
import { AgentTeamClient, type RunEvent } from '../../src/client';
import { parseConfig } from '../../src/config';
import { checksumOf, type ExportFile } from '../../src/checkpoints/archive';
import type { DevServer } from '../../src/temporal/dev-server';
import { readOfflineLlmLog } from '../../src/llm/offline-server';
import { cleanEnv, cli, startWithTemporal, temporal, temporalJson, writeConfig } from '../cli-helpers';
import { ownServer, testAddress, uniqueId, until } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;
const requestsIn = readOfflineLlmLog;

describe('checkpoints export / import', () => {
  let fresh: DevServer;
  let exported: string;
  let failed: RunOutcome;
  const config = (): string =>
    writeConfig(
      dir(),
      `temporal:\n  task_queue: ${uniqueId('tq')}\nllm:\n  initial_retry_ms: 50\n  max_retry_ms: 100\n`,
    );

  beforeAll(async () => {
    // A second, empty server: the import's destination.
    fresh = await ownServer('fresh');
    // A run that fails at the coder's first call (HTTP 400, not retried), after 4 completed steps.
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_FAULTS: 'coder:1:fatal' });
    const run = await cli(['run', TASK, '--offline', '--json', '--config', config()], env);
    expect(run.code).toBe(1);
    failed = JSON.parse(run.stdout) as RunOutcome;
    expect(failed.status).toBe('FAILED');
    expect(failed.steps).toHaveLength(4);
    exported = join(dir(), `${uniqueId('export')}.json`);
    const exp = await cli(['checkpoints', 'export', failed.workflowId, '-o', exported], env);
    expect(exp.stderr).toContain(`✔ Exported ${failed.workflowId}: 1 run`);
    expect(exp.code).toBe(0);
  });
  afterAll(async () => fresh?.stop());

  it('writes the history as `temporal workflow show --output json` does, with a manifest and a checksum', async () => {
    const file = JSON.parse(readFileSync(exported, 'utf8')) as ExportFile;
    expect(file.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(file.manifest).toMatchObject({
      format: 'agent-team-export/1',
      workflowId: failed.workflowId,
      task: TASK,
      runs: [{ runId: failed.runId, status: 'FAILED', steps: 4, parent: null }],
    });
    expect(file.manifest.checkpoints.map((c) => c.step)).toEqual([0, 1, 2, 3, 4]);
    expect(file.manifest.checkpoints.map((c) => c.checkpointId)).toEqual(failed.checkpoints.map((c) => c.checkpointId));
    const shown = await temporalJson('show', testAddress(), failed.workflowId);
    expect(file.runs[0]!.history).toEqual(JSON.parse(shown));
  });

  it('import --restore latest on a fresh server completes the run without re-sending the earlier steps', async () => {
    const log = join(dir(), `${uniqueId('restore-llm')}.jsonl`);
    const workflowId = uniqueId('restored');
    const env = cleanEnv({ TEMPORAL_ADDRESS: fresh.address, OFFLINE_LLM_LOG: log });
    const res = await cli(
      [
        'checkpoints',
        'import',
        exported,
        '--restore',
        'latest',
        '--workflow-id',
        workflowId,
        '--offline',
        '--json',
        '--config',
        config(),
      ],
      env,
    );
    expect(res.stderr).toContain('↺ Restoring');
    expect(res.code).toBe(0);
    const outcome = JSON.parse(res.stdout) as RestoreOutcome;
    expect(outcome).toMatchObject({ workflowId, status: 'COMPLETED', reusedSteps: 4, executedSteps: 5 });
    expect(outcome.restoredFrom.checkpointId).toBe(failed.checkpoints.at(-1)!.checkpointId);
    // The model saw steps 5-9 only: the plan, the first two ledgers and the researcher are not paid again.
    expect(requestsIn(log).map((r) => [r.step, r.agent])).toEqual([
      [5, 'coder'],
      [6, 'orchestrator'],
      [7, 'analyst'],
      [8, 'orchestrator'],
      [9, 'orchestrator'],
    ]);
    expect(outcome.checkpoints[0]).toMatchObject({
      step: 4,
      restoredFrom: { workflowId: failed.workflowId, runId: failed.runId, steps: 4 },
    });
    expect(outcome.result?.steps).toBe(9);
    expect(outcome.result?.answer).toContain(TASK);
    // The restored run's history is on the fresh server, for Temporal's own tools.
    const described = await temporal(['workflow', 'describe', '--address', fresh.address, '-w', workflowId]);
    expect(described.stdout).toMatch(/Status\s+COMPLETED/);
  });

  it('--verify-only checks the checksum and replays every run, starting nothing', async () => {
    const res = await cli(['checkpoints', 'import', exported, '--verify-only', '--json'], cleanEnv());
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      compatible: true,
      workflowId: failed.workflowId,
      replays: [{ compatible: true, events: expect.any(Number) }],
    });
  });

  it.each([
    [
      'a tampered answer',
      (t: string) => t.replace('"task": "Compare quicksort', '"task": "Compare bubblesort'),
      'checksum mismatch: the file was changed after it was exported',
    ],
    ['a changed event', (t: string) => t.replace('"eventId": "3"', '"eventId": "33"'), 'checksum mismatch'],
    ['a truncated file', (t: string) => t.slice(0, Math.floor(t.length / 2)), 'not valid JSON'],
    [
      'a plain history',
      (t: string) => JSON.stringify((JSON.parse(t) as ExportFile).runs[0]!.history),
      'not an agent-team export',
    ],
  ])('%s is refused with exit 2 and nothing started', async (_name, damage, message) => {
    const path = join(dir(), `${uniqueId('damaged')}.json`);
    writeFileSync(path, damage(readFileSync(exported, 'utf8')));
    const workflowId = uniqueId('never');
    const res = await cli(
      ['checkpoints', 'import', path, '--restore', 'latest', '--workflow-id', workflowId, '--offline'],
      cleanEnv({ TEMPORAL_ADDRESS: fresh.address }),
    );
    expect(res.stderr).toContain(message);
    expect(res.code).toBe(2);
    const listed = await temporal([
      'workflow',
      'list',
      '--address',
      fresh.address,
      '-q',
      `WorkflowId = "${workflowId}"`,
    ]);
    expect(listed.stdout.trim()).toBe('');
  });

  it('export --sign / import --require-signature: signed-valid is imported; a forged export is refused with exit 2 naming the check', async () => {
    const keys = join(dir(), uniqueId('keys'));
    const gen = await cli(['checkpoints', 'keygen', '--out', keys, '--json'], cleanEnv());
    expect(gen.code).toBe(0);
    const { keyId } = JSON.parse(gen.stdout) as { keyId: string };
    expect((await cli(['checkpoints', 'keygen', '--out', keys], cleanEnv())).stderr).toContain(
      'already exist: nothing written',
    );
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), AGENT_TEAM_SIGNING_KEY_FILE: `${keys}.key` });
    const signed = join(dir(), `${uniqueId('signed')}.json`);
    const exp = await cli(['checkpoints', 'export', failed.workflowId, '--sign', '-o', signed], env);
    expect(exp.stderr).toContain(`, signed by ${keyId})`);
    expect(exp.code).toBe(0);
    const verify = (path: string, ...more: string[]) =>
      cli(['checkpoints', 'import', path, '--verify-key', `${keys}.pub`, ...more], cleanEnv());
    const ok = await verify(signed, '--require-signature');
    expect(ok.stdout).toContain(`✔ signature valid (${keyId})`);
    expect(ok.stdout).toContain('checksum ok, signed-valid');
    expect(ok.code).toBe(0);
    // The forger changes the answers (here the task, in the manifest and the run's input alike) and recomputes
    // the checksum, which is all a checksum-only export would need.
    const file = JSON.parse(readFileSync(signed, 'utf8')) as ExportFile;
    file.manifest.task = 'Compare bubblesort and mergesort';
    file.checksum = checksumOf(file.manifest, file.runs);
    const forged = join(dir(), `${uniqueId('forged')}.json`);
    writeFileSync(forged, JSON.stringify(file));
    const refused = await verify(forged, '--restore', 'latest', '--offline');
    expect(refused.stderr).toContain(
      `${forged}: signature invalid: the content is not what ${keyId} signed (changed after signing, or forged); nothing was imported`,
    );
    expect(refused.code).toBe(2);
    // Without its signature it is unsigned: accepted as before, unless a signature is required.
    delete file.signature;
    writeFileSync(forged, JSON.stringify(file));
    expect((await verify(forged)).stdout).toContain('checksum ok, unsigned');
    const unsigned = await verify(forged, '--require-signature');
    expect(unsigned.stderr).toContain('--require-signature: unsigned; nothing was imported');
    expect(unsigned.code).toBe(2);
  });

  it('an unknown checkpoint id is refused naming what the export holds', async () => {
    const res = await cli(['checkpoints', 'import', exported, '--restore', `${failed.workflowId}@9`], cleanEnv());
    expect(res.stderr).toContain(`checkpoint "${failed.workflowId}@9" is not in this export; it holds 5 checkpoints`);
    expect(res.code).toBe(2);
    // Refused from the file alone: no server was reached, none started (one left running would hold the port).
    expect(res.stderr).not.toMatch(/embedded|Temporal server/);
  });
});

describe('checkpoints prune (on a server of its own: it deletes runs)', () => {
  let server: DevServer;
  let env: NodeJS.ProcessEnv;
  // Short LLM timeouts: Temporal completes the deletion of a failed run only once its activity timers are done.
  const config = (): string =>
    writeConfig(dir(), `temporal:\n  task_queue: ${uniqueId('tq')}\nllm:\n  timeout_ms: 2000\n  heartbeat_ms: 500\n`);
  const run = async (faults = ''): Promise<RunOutcome> => {
    const res = await cli(['run', TASK, '--offline', '--json', '--config', config()], {
      ...env,
      ...(faults ? { OFFLINE_LLM_FAULTS: faults } : {}),
    });
    return JSON.parse(res.stdout) as RunOutcome;
  };
  /** Whether Temporal has the run (right now). */
  const present = async (workflowId: string, runId: string): Promise<boolean> =>
    (await temporal(['workflow', 'describe', '--address', server.address, '-w', workflowId, '-r', runId])).code === 0;
  /** Waits for a deleted run to be gone: deletion completes asynchronously. */
  const gone = (workflowId: string, runId: string): Promise<true> =>
    until(`run ${runId} of ${workflowId} to be deleted`, async () => !(await present(workflowId, runId)), 30_000);
  const prune = async (
    ...args: string[]
  ): Promise<{ code: number | null; report: { runs: { runId: string }[]; dryRun: boolean } }> => {
    const res = await cli(['checkpoints', 'prune', '--json', ...args], env);
    return { code: res.code, report: JSON.parse(res.stdout || '{"runs":[]}') as never };
  };

  beforeAll(async () => {
    server = await ownServer('prune');
    env = cleanEnv({ TEMPORAL_ADDRESS: server.address });
  });
  afterAll(async () => server?.stop());

  it('removes only closed runs older than the cut, in the states asked for, never a running one', async () => {
    const old = await run();
    expect(old.status).toBe('COMPLETED');
    const cut = new Date().toISOString();
    const recent = await run();
    const failed = await run('coder:1:fatal');
    expect([recent.status, failed.status]).toEqual(['COMPLETED', 'FAILED']);
    // A run with no worker on its queue: running for as long as this test lasts.
    const runningId = uniqueId('running');
    const started = await startWithTemporal(server.address, uniqueId('nobody'), runningId, { task: TASK });
    expect(started.code).toBe(0);

    const onlyFailed = await prune('--older-than', '0', '--status', 'failed');
    expect(onlyFailed.report.runs.map((r) => r.runId)).toEqual([failed.runId]);

    const dry = await prune('--before', cut, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.report).toMatchObject({ dryRun: true, runs: [{ runId: old.runId }] });
    expect(await present(old.workflowId, old.runId)).toBe(true);

    const beforeCut = await prune('--before', cut);
    expect(beforeCut.report.runs.map((r) => r.runId)).toEqual([old.runId]);
    expect(await present(recent.workflowId, recent.runId)).toBe(true);

    // Runs already being deleted may be listed again until Temporal is done: the new cut adds only `recent`.
    const all = await prune('--older-than', '0', '--status', 'completed');
    expect(all.report.runs.map((r) => r.runId)).toContain(recent.runId);
    expect(all.report.runs.every((r) => [recent.runId, old.runId].includes(r.runId))).toBe(true);
    const running = await temporal([
      'workflow',
      'describe',
      '--address',
      server.address,
      '-w',
      runningId,
      '-o',
      'json',
    ]);
    expect(JSON.parse(running.stdout)).toMatchObject({
      workflowExecutionInfo: { status: 'WORKFLOW_EXECUTION_STATUS_RUNNING' },
    });
    // Temporal deletes asynchronously (within seconds to a minute): wait until each deleted run is gone.
    for (const r of [failed, old, recent]) await gone(r.workflowId, r.runId);
  }, 180_000); // Temporal deletes in the background: up to a minute on a busy machine

  it.each([
    [['--older-than', '30 days'], '"30 days" is not an age'],
    [['--status', 'running'], 'running runs are never pruned'],
    [['--before', 'yesterday'], '--before: "yesterday" is not a time'],
    [['--before', '2026-01-01T00:00:00Z', '--older-than', '1d'], 'give --older-than or --before, not both'],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const res = await cli(['checkpoints', 'prune', ...args], env);
    expect(res.stderr).toContain(message);
    expect(res.code).toBe(2);
  });
});

describe('resume checks that the workflow code replays the history it keeps', () => {
  let app: AgentTeamClient;
  let outcome: RunOutcome;
  const CHANGED = require.resolve('../fixtures/changed-workflow');

  beforeAll(async () => {
    const config = parseConfig({ temporal: { task_queue: uniqueId('tq') } });
    app = await AgentTeamClient.open(config, { temporal: { kind: 'cluster', address: testAddress() } });
    outcome = await app.runs.run(TASK, { offline: true });
    expect(outcome.status).toBe('COMPLETED');
  });
  afterAll(async () => app?.close());

  it('refuses code that would not replay the kept history, naming the event, and changes nothing', async () => {
    const at4 = outcome.checkpoints.find((c) => c.step === 4)!;
    const events: RunEvent[] = [];
    const refused = await app.runs
      .resume(at4.checkpointId, { offline: true, workflowsPath: CHANGED, onEvent: (e) => events.push(e) })
      .catch((e: unknown) => e);
    expect(refused).toEqual(
      new IncompatibleCodeError(
        `the workflow code does not replay the history this resume would keep (step 4 of ${outcome.workflowId}: ` +
          'it diverges at event 5, ActivityTaskScheduled); the new run would fail on its first workflow task. ' +
          'Nothing was changed. Run code compatible with this run (versioning with patched() in ' +
          'docs/design-decisions.md), or pass --force to reset anyway',
      ),
    );
    // The error says what would help, as data: the CLI prints it as a command.
    expect((refused as IncompatibleCodeError).next).toEqual([
      { purpose: 'see where it diverges', args: ['replay', outcome.workflowId, '--run-id', outcome.runId] },
    ]);
    expect(events).toMatchObject([{ type: 'replay-checked', report: { compatible: false, divergingEventId: 5 } }]);
    expect(await app.checkpoints.runsOf(outcome.workflowId)).toEqual([outcome.runId]);
  });

  it('resumes once the check passes (and `--force` skips it, saying so)', async () => {
    const at4 = outcome.checkpoints.find((c) => c.step === 4)!;
    const events: RunEvent[] = [];
    const resumed = await app.runs.resume(at4.checkpointId, { offline: true, onEvent: (e) => events.push(e) });
    expect(events[0]).toMatchObject({ type: 'replay-checked', report: { compatible: true, events: at4.eventId - 1 } });
    // Then the reset, the new run, its steps (the first four reused), and its end.
    expect(events.map((e) => e.type).filter((t, i, all) => all.indexOf(t) === i)).toEqual([
      'replay-checked',
      'hosting',
      'reset',
      'started',
      'step',
      'finished',
    ]);
    expect(events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && e.reused)).toEqual([
      ...Array(4).fill(true),
      ...Array(5).fill(false),
    ]);
    expect(resumed).toMatchObject({ status: 'COMPLETED', reusedSteps: 4, executedSteps: 5 });

    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress() });
    const config = writeConfig(dir(), `temporal:\n  task_queue: ${app.context.taskQueue}\n`);
    const forced = await cli(['resume', at4.checkpointId, '--force', '--offline', '--config', config], env);
    expect(forced.stderr).toContain('! --force: resetting without checking');
    expect(forced.stderr).not.toContain('Replay check');
    expect(forced.code).toBe(0);
    const checkedCli = await cli(['run', '--resume', at4.checkpointId, '--offline', '--config', config], env);
    expect(checkedCli.stderr).toContain(`✔ Replay check: the ${at4.eventId - 1} events this resume keeps replay`);
    expect(checkedCli.code).toBe(0);
  });
});
