import { Cluster } from '../../tools/cluster/cluster';

/** Stops the cluster if this test run started it (AGENT_TEAM_CLUSTER_KEEP=1 keeps it up). */
export default async function globalTeardown(): Promise<void> {
  if (process.env.AGENT_TEAM_TEST_CLUSTER_STARTED && !process.env.AGENT_TEAM_CLUSTER_KEEP) await new Cluster().stop();
}
