/**
 * Connecting anywhere: a second dev server on another port with another namespace stands in for "the
 * cluster". The standard variables, and a profile of the Temporal CLI's config file, reach it for every
 * command, and Temporal's own CLI sees the same runs there.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunOutcome } from '../../src';
import type { DevServer } from '../../src/temporal/dev-server';
import { cleanEnv, cli, temporal, writeConfig } from '../cli-helpers';
import { ownServer, uniqueId } from '../helpers';

const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;

describe('a cluster with its own namespace', () => {
  let cluster: DevServer;
  beforeAll(async () => {
    cluster = await ownServer('cluster', { namespace: 'agents' });
  });
  afterAll(async () => cluster?.stop());

  it('TEMPORAL_ADDRESS + TEMPORAL_NAMESPACE, and a profile in the config file, both reach it', async () => {
    const config = writeConfig(dir(), `temporal:\n  task_queue: ${uniqueId('tq')}\n`);
    const byEnv = cleanEnv({ TEMPORAL_ADDRESS: cluster.address, TEMPORAL_NAMESPACE: 'agents' });
    const run = await cli(['run', 'Compare quicksort and mergesort', '--offline', '--json', '--config', config], byEnv);
    expect(run.stderr).toContain(`on ${cluster.address}, namespace agents`);
    expect(run.code).toBe(0);
    const outcome = JSON.parse(run.stdout) as RunOutcome;

    // The same cluster through a profile of the Temporal CLI's config file.
    const toml = join(dir(), `${uniqueId('temporal')}.toml`);
    writeFileSync(toml, `[profile.staging]\naddress = "${cluster.address}"\nnamespace = "agents"\n`);
    const byProfile = cleanEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' });
    const listed = await cli(
      ['checkpoints', 'list', '-w', outcome.workflowId, '--json', '--config', config],
      byProfile,
    );
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { runId: string }[]).map((c) => c.runId)).toContain(outcome.runId);
    const history = await cli(['history', outcome.workflowId, '--json', '--config', config], byProfile);
    expect(JSON.parse(history.stdout)).toMatchObject({ namespace: 'agents', workflowId: outcome.workflowId });

    // Temporal's own CLI, with the same profile, sees the run in that namespace.
    const shown = await temporal(
      ['workflow', 'describe', '-w', outcome.workflowId, '--config-file', toml, '--profile', 'staging'],
      cleanEnv(),
    );
    expect(shown.stdout).toMatch(/Status\s+COMPLETED/);
    // …and nothing of it is in namespace "default" there.
    const elsewhere = await temporal([
      'workflow',
      'describe',
      '-w',
      outcome.workflowId,
      '--address',
      cluster.address,
      '-n',
      'default',
    ]);
    expect(elsewhere.code).not.toBe(0);
  });
});
