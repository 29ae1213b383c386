/** Test helpers: a worker with the offline model on a unique task queue of the shared test server. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import OpenAI from 'openai';
import type { AgentDefinition } from '../activities/agents';
import { defaultTeam } from '../src/config';
import {
  readOfflineLlmLog,
  startOfflineLlm,
  type OfflineLlmLogEntry,
  type OfflineLlmOptions,
  type OfflineLlmServer,
} from '../src/llm/offline-server';
import { createAgentTeamWorker } from '../src/worker';
import { ensureDevServer, freePort, type DevServer, type DevServerOptions } from '../src/temporal/dev-server';
import type { TeamInput, TeamResult } from '../workflows/types';

export const testAddress = (): string => required('AGENT_TEAM_TEST_ADDRESS');
export const testBundle = (): { codePath: string } => ({ codePath: required('AGENT_TEAM_TEST_BUNDLE') });

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with jest (test/global-setup.ts sets it)`);
  return value;
}

let runtimeReady = false;
export function quietRuntime(): void {
  if (runtimeReady) return;
  runtimeReady = true;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
}

/**
 * Polls `probe` every `intervalMs` until it yields a value (not undefined or false), or fails naming `what`
 * after `timeoutMs`.
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const uniqueId = (prefix: string): string =>
  `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** Settings that keep retries fast in tests. */
export const FAST_LLM: NonNullable<TeamInput['llm']> = {
  timeoutMs: 5_000,
  maxAttempts: 3,
  initialRetryMs: 50,
  maxRetryMs: 200,
  backoffCoefficient: 2,
  heartbeatMs: 1_000,
};

export interface TestTeam {
  client: Client;
  llm: OfflineLlmServer;
  worker: Worker;
  taskQueue: string;
  logPath: string;
  /** The offline model's request log so far. */
  requests(): OfflineLlmLogEntry[];
  /** Starts a run and waits for its result (throws WorkflowFailedError when it fails). */
  run(input: TeamInput, workflowId?: string): Promise<{ workflowId: string; result: TeamResult }>;
  close(): Promise<void>;
}

export async function startTestTeam(
  options: { llm?: OfflineLlmOptions; agents?: readonly AgentDefinition[]; taskQueue?: string } = {},
): Promise<TestTeam> {
  quietRuntime();
  const dir = mkdtempSync(join(required('AGENT_TEAM_TEST_DIR'), 'team-'));
  const logPath = join(dir, 'llm.jsonl');
  const llm = await startOfflineLlm({ logPath, ...options.llm });
  const taskQueue = options.taskQueue ?? uniqueId('tq');
  const nativeConnection = await NativeConnection.connect({ address: testAddress() });
  const connection = await Connection.connect({ address: testAddress() });
  const client = new Client({ connection, namespace: 'default' });
  const worker = await createAgentTeamWorker({
    connection: nativeConnection,
    client,
    namespace: 'default',
    taskQueue,
    agents: options.agents ?? defaultTeam(),
    openai: new OpenAI({ baseURL: llm.baseURL, apiKey: 'test', maxRetries: 0 }),
    workflowBundle: testBundle(),
  });
  // The worker runs in the background until close().
  const running = worker.run();
  const team: TestTeam = {
    client,
    llm,
    worker,
    taskQueue,
    logPath,
    requests: () => readOfflineLlmLog(logPath),
    run: async (input, workflowId = uniqueId('wf')) => {
      const result = await client.workflow.execute('agentTeamWorkflow', { taskQueue, workflowId, args: [input] });
      return { workflowId, result: result as TeamResult };
    },
    close: async () => {
      worker.shutdown();
      await running;
      await Promise.all([llm.close(), connection.close()]);
      await nativeConnection.close();
    },
  };
  return team;
}

/**
 * A dev server of the test's own (in memory, free port, no UI unless `uiPort` is given), for tests that
 * must not share the global one: they delete runs, need another namespace, or open the Web UI.
 */
export async function ownServer(name: string, options: Partial<DevServerOptions> = {}): Promise<DevServer> {
  return ensureDevServer({
    storage: 'memory',
    dir: join(required('AGENT_TEAM_TEST_DIR'), uniqueId(name)),
    port: await freePort(),
    uiPort: 0,
    headless: options.uiPort === undefined,
    namespace: 'default',
    detached: false,
    ...options,
  });
}
