/**
 * What only a real cluster shows: its shape (four service processes, 4 history shards, PostgreSQL SQL
 * visibility, the namespace's retention), a run exported from the embedded server and restored into it,
 * prune through its SQL visibility, and `temporal workflow reset` of a run on it.
 */
import { join } from 'node:path';
import type { RestoreOutcome, RunOutcome } from '../../src';
import type { DevServer } from '../../src/temporal/dev-server';
import { readOfflineLlmLog } from '../../src/llm/offline-server';
import { cleanEnv, cli, temporal, writeConfig } from '../cli-helpers';
import { ownServer, testAddress, uniqueId, until } from '../helpers';
import { Cluster, SERVICES } from '../../tools/cluster/cluster';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;
const cluster = new Cluster({ log: () => {} });

describe('the cluster', () => {
  const config = (): string =>
    writeConfig(
      dir(),
      `temporal:\n  task_queue: ${uniqueId('tq')}\nllm:\n  initial_retry_ms: 50\n  max_retry_ms: 100\n`,
    );
  const env = (more: Record<string, string> = {}): NodeJS.ProcessEnv =>
    cleanEnv({ TEMPORAL_ADDRESS: testAddress(), ...more });

  it('is four Temporal service processes on PostgreSQL with 4 history shards, SQL visibility and 30 days retention', async () => {
    const status = cluster.status();
    expect(status.postgres.running).toBe(true);
    expect(SERVICES.map((s) => status.services[s].running)).toEqual([true, true, true, true]);
    expect(new Set(SERVICES.map((s) => status.services[s].pid)).size).toBe(4);
    const system = JSON.parse(
      (await temporal(['operator', 'cluster', 'describe', '--address', testAddress(), '-o', 'json'])).stdout,
    ) as { historyShardCount: number; persistenceStore: string; visibilityStore: string; serverVersion: string };
    expect(system).toMatchObject({
      historyShardCount: 4,
      persistenceStore: 'postgres12',
      visibilityStore: 'postgres12',
      serverVersion: cluster.version,
    });
    const ns = JSON.parse(
      (await temporal(['operator', 'namespace', 'describe', '-n', 'default', '--address', testAddress(), '-o', 'json']))
        .stdout,
    ) as { config: { workflowExecutionRetentionTtl: string } };
    expect(ns.config.workflowExecutionRetentionTtl).toBe('2592000s');
    // The retention matches checkpointing.cleanup_after_days (30): `run` has nothing to warn about.
    const r = await cli(['run', TASK, '--offline', '--config', config()], env());
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('keeps closed runs');
  });

  describe('a run exported from the embedded server', () => {
    let embedded: DevServer;
    beforeAll(async () => {
      embedded = await ownServer('embedded');
    });
    afterAll(async () => embedded?.stop());

    it('is restored into the cluster from its last checkpoint, the earlier steps not sent again', async () => {
      const cfg = config();
      const failed = await cli(
        ['run', TASK, '--offline', '--json', '--config', cfg],
        cleanEnv({ TEMPORAL_ADDRESS: embedded.address, OFFLINE_LLM_FAULTS: 'coder:1:fatal' }),
      );
      expect(failed.code).toBe(1);
      const { workflowId } = JSON.parse(failed.stdout) as RunOutcome;
      const file = join(dir(), `${workflowId}.json`);
      const exported = await cli(
        ['checkpoints', 'export', workflowId, '-o', file, '--config', cfg],
        cleanEnv({ TEMPORAL_ADDRESS: embedded.address }),
      );
      expect(exported.code).toBe(0);
      const log = join(dir(), `${uniqueId('restore-llm')}.jsonl`);
      const restored = await cli(
        ['checkpoints', 'import', file, '--restore', 'latest', '--offline', '--json', '--config', cfg],
        env({ OFFLINE_LLM_LOG: log }),
      );
      expect(restored.code).toBe(0);
      const outcome = JSON.parse(restored.stdout) as RestoreOutcome;
      expect(outcome).toMatchObject({ status: 'COMPLETED', reusedSteps: 4, executedSteps: 5 });
      expect(readOfflineLlmLog(log).map((e) => e.step)).toEqual([5, 6, 7, 8, 9]);
      // On the cluster, listed through its SQL visibility.
      const listed = await temporal([
        'workflow',
        'list',
        '--address',
        testAddress(),
        '-q',
        `WorkflowId = "${outcome.workflowId}" AND ExecutionStatus = "Completed"`,
      ]);
      expect(listed.stdout).toContain(outcome.workflowId);
    });
  });

  it('prune finds closed runs through SQL visibility and deletes only those asked for', async () => {
    const cfg = config();
    const run = async (): Promise<RunOutcome> =>
      JSON.parse((await cli(['run', TASK, '--offline', '--json', '--config', cfg], env())).stdout) as RunOutcome;
    const [kept, pruned] = [await run(), await run()];
    const dry = await cli(
      [
        'checkpoints',
        'prune',
        '-w',
        pruned.workflowId,
        '--before',
        new Date().toISOString(),
        '--dry-run',
        '--json',
        '--config',
        cfg,
      ],
      env(),
    );
    expect((JSON.parse(dry.stdout) as { runs: { runId: string }[] }).runs.map((r) => r.runId)).toEqual([pruned.runId]);
    const done = await cli(
      [
        'checkpoints',
        'prune',
        '-w',
        pruned.workflowId,
        '--before',
        new Date().toISOString(),
        '--json',
        '--config',
        cfg,
      ],
      env(),
    );
    expect(done.code).toBe(0);
    // Deletion completes asynchronously: the history service deletes a closed run only once its close
    // tasks are acknowledged, and the queues acknowledge every 30 s (history.*ProcessorUpdateAckInterval),
    // so a minute is ordinary (docs/design-decisions.md). One probe a second: each spawns the CLI.
    const asked = Date.now();
    await until(
      `${pruned.workflowId} to be deleted`,
      async () =>
        (await temporal(['workflow', 'describe', '--address', testAddress(), '-w', pruned.workflowId])).code !== 0,
      150_000,
      1_000,
    );
    process.stderr.write(`  prune on the cluster: run deleted ${Date.now() - asked} ms after it was asked\n`);
    const still = await temporal(['workflow', 'describe', '--address', testAddress(), '-w', kept.workflowId]);
    expect(still.code).toBe(0);
  }, 240_000);
});
