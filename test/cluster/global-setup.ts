/**
 * The cluster tests' server: the multi-service Temporal cluster on PostgreSQL of ./cluster.ts (built and
 * started here when it is not running; stopped again at the end if this run started it). Test files reach it
 * through the same variables as the integration tests' dev server, so integration tests run here unchanged.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workflowBundle } from '../../src/worker';
import { Cluster } from '../../tools/cluster/cluster';

export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-team-cluster-test-'));
  const cluster = new Cluster({ log: (line) => process.stderr.write(`[cluster] ${line}\n`) });
  const wasUp = Object.values(cluster.status().services).every((s) => s.running);
  const [started, bundle] = await Promise.all([cluster.start(), workflowBundle()]);
  process.stderr.write(
    `[cluster] Temporal ${cluster.version} on PostgreSQL at ${cluster.address}: ${wasUp ? 'already running' : `started in ${(started.ms / 1000).toFixed(1)} s${started.coldBuild ? ' (server built now)' : ''}`}\n`,
  );
  process.env.AGENT_TEAM_TEST_ADDRESS = cluster.address;
  process.env.AGENT_TEAM_TEST_BUNDLE = bundle.codePath;
  process.env.AGENT_TEAM_TEST_DIR = dir;
  process.env.AGENT_TEAM_TEST_CLUSTER = '1';
  process.env.AGENT_TEAM_TEST_CLUSTER_STARTED = wasUp ? '' : '1';
}
