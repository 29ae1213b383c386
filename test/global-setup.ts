/**
 * One real Temporal dev server (the Temporal CLI's, in memory, on free ports) and one workflow bundle for
 * the whole test run. Test files reach them through the environment variables set here.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevServer, freePort, type DevServer } from '../src/temporal/dev-server';
import { workflowBundle } from '../src/worker';

declare global {
  var __AGENT_TEAM_TEST_SERVER__: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-team-test-'));
  const [server, bundle] = await Promise.all([
    ensureDevServer({
      storage: 'memory',
      dir,
      port: await freePort(),
      uiPort: 0,
      headless: true,
      namespace: 'default',
      detached: false,
      log: (line) => process.stderr.write(`[global-setup] ${line}\n`),
    }),
    workflowBundle(),
  ]);
  globalThis.__AGENT_TEAM_TEST_SERVER__ = server;
  process.env.AGENT_TEAM_TEST_ADDRESS = server.address;
  process.env.AGENT_TEAM_TEST_BUNDLE = bundle.codePath;
  process.env.AGENT_TEAM_TEST_DIR = dir;
}
