/**
 * The Temporal Web UI, in headless Chromium (Debian's, driven by playwright-core): a completed run's page
 * shows the workflow, its steps' summaries (agent · round) and its result; with encryption on, the UI shows
 * the payloads decoded through `agent-team codec-server`. Screenshots are kept in test-artifacts/.
 * On the cluster (`npm run test:cluster`) the same tests use the cluster's own Web UI server (ui-server, pointed
 * at its frontend), with the codec server on the endpoint that UI was configured with.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunOutcome } from '../../src';
import { encryptionKeysFromEnv } from '../../src/temporal/codec';
import { startCodecServer, type CodecServer } from '../../src/temporal/codec-server';
import { freePort, type DevServer } from '../../src/temporal/dev-server';
import { CHROMIUM_ARGS, findChromium } from '../browser';
import { cleanEnv, cli, collect, spawnCli, waitForOutput, writeConfig } from '../cli-helpers';
import { ownServer, testAddress, uniqueId } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

const ON_CLUSTER = Boolean(process.env.AGENT_TEAM_TEST_CLUSTER);
const screenshot = (name: string): string => join(ARTIFACTS, `${name}${ON_CLUSTER ? '-cluster' : ''}.png`);

describe(`the Temporal Web UI in a real browser${ON_CLUSTER ? " (the cluster's UI server)" : ''}`, () => {
  let server: Pick<DevServer, 'address' | 'uiUrl'> & { stop(): Promise<void> };
  let codec: CodecServer;
  let browser: Browser;
  const key = randomBytes(32).toString('base64');

  beforeAll(async () => {
    const keys = encryptionKeysFromEnv({ AGENT_TEAM_ENCRYPTION_KEY: key })!;
    if (ON_CLUSTER) {
      const { Cluster } = await import('../../tools/cluster/cluster');
      const cluster = new Cluster({ log: () => {} });
      expect(cluster.status().ui.running).toBe(true);
      codec = await startCodecServer({
        keys,
        port: Number(new URL(cluster.codecEndpoint).port),
        uiOrigin: cluster.uiUrl,
      });
      server = { address: testAddress(), uiUrl: cluster.uiUrl, stop: async () => {} };
    } else {
      const uiPort = await freePort();
      const uiOrigin = `http://127.0.0.1:${uiPort}`;
      codec = await startCodecServer({ keys, port: 0, uiOrigin });
      server = await ownServer('webui', { uiPort, uiCodecEndpoint: codec.url });
    }
    browser = await chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await codec?.close();
  });

  async function runOn(extra: Record<string, string> = {}): Promise<RunOutcome> {
    const config = writeConfig(dir(), `temporal:\n  task_queue: ${uniqueId('tq')}\n`);
    const res = await cli(
      ['run', TASK, '--offline', '--json', '--config', config],
      cleanEnv({ TEMPORAL_ADDRESS: server.address, ...extra }),
    );
    expect(res.code).toBe(0);
    return JSON.parse(res.stdout) as RunOutcome;
  }

  async function open(run: RunOutcome): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(`${server.uiUrl}/namespaces/default/workflows/${run.workflowId}/${run.runId}/history`);
    await page.getByText(run.workflowId).first().waitFor({ timeout: 30_000 });
    await page
      .getByText(/^completed$/i)
      .first()
      .waitFor();
    return page;
  }

  it('shows the run, each step as "step N · agent · round …" and the result', async () => {
    const run = await runOn();
    const page = await open(run);
    for (const summary of [
      'step 1 · orchestrator · round 0 · plan',
      'step 2 · orchestrator · round 1 · ledger',
      'step 3 · researcher · round 1',
      'step 5 · coder · round 2',
      'step 7 · analyst · round 3',
      'step 9 · orchestrator · round 4 · final',
    ]) {
      await page.getByText(summary).first().waitFor({ timeout: 15_000 });
    }
    await page.getByText('Final answer on').first().waitFor();
    await page.screenshot({ path: screenshot('webui-run'), fullPage: true });
  });

  it('a run waiting for a person shows what it asks (current details) while it is Running', async () => {
    const config = writeConfig(dir(), `temporal:\n  task_queue: ${uniqueId('tq')}\ngates:\n  plan_review: true\n`);
    const env = cleanEnv({ TEMPORAL_ADDRESS: server.address });
    const res = await cli(['run', TASK, '--offline', '--detach', '--json', '--config', config], env);
    expect(res.code).toBe(0);
    const { workflowId, runId } = JSON.parse(res.stdout) as { workflowId: string; runId: string };
    // Current details come from a worker (the UI queries the run's metadata): a `follow` serves the waiting run.
    const follower = spawnCli(['follow', workflowId, '--config', config], env);
    const followed = collect(follower); // from the start: it may end before it is awaited
    await waitForOutput(follower, /No terminal here/);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(`${server.uiUrl}/namespaces/default/workflows/${workflowId}/${runId}/history`);
    await page
      .getByText(/^running$/i)
      .first()
      .waitFor({ timeout: 30_000 });
    await page.getByText('User Metadata').first().click();
    // The UI renders markdown (current details) in a sandboxed iframe of its own.
    const shown = async (text: string): Promise<boolean> => {
      for (const frame of page.frames()) {
        // The UI replaces its frames as it renders: one detached while it is read just does not show it yet.
        const count = await frame
          .getByText(text)
          .count()
          .catch(() => 0);
        if (count > 0) return true;
      }
      return false;
    };
    const end = Date.now() + 30_000;
    while (!(await shown('Waiting for a person')) && Date.now() < end) await page.waitForTimeout(250);
    expect(await shown('Waiting for a person')).toBe(true);
    // How to answer with plain Temporal (the workflow writes no agent-team command: that is the CLI's to write).
    expect(await shown(`temporal workflow update execute -w ${workflowId} --name answer`)).toBe(true);
    await page.screenshot({ path: screenshot('webui-waiting'), fullPage: true });
    await page.close();
    await cli(['terminate', workflowId, '--reason', 'test over', '--config', config], env);
    await followed;
  });

  it('with encryption on, shows the payloads decoded through the codec server', async () => {
    const run = await runOn({ AGENT_TEAM_ENCRYPTION_KEY: key });
    const before = codec.served.decode;
    const page = await open(run);
    // Decoded in the browser via the codec server: the input's task and the answer are readable.
    await page.getByText(`"task": "${TASK}"`).first().waitFor({ timeout: 30_000 });
    await page.getByText('Final answer on').first().waitFor();
    expect(await page.getByText('binary/encrypted').count()).toBe(0);
    expect(codec.served.decode).toBeGreaterThan(before); // the browser asked the codec server
    await page.screenshot({ path: screenshot('webui-codec'), fullPage: true });
  });
});
