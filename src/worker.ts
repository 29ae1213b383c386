/**
 * The worker: registers the team's workflow and the `callAgent` activity on a task queue. Workers are
 * stateless, so run as many as you like on one queue; any of them continues any run.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { createActivities, type AgentDefinition } from '../activities';
import { transcriptQuery } from '../workflows/agent-team';
import { PACKAGE_ROOT } from './temporal/cli-binary';

/** The workflow bundle's entry: the .ts source under tsx/jest, the compiled .js under dist/. */
export const WORKFLOWS_PATH = require.resolve('../workflows');

function sourceDigest(dir: string): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(require.resolve('@temporalio/worker/package.json')));
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name);
    if (statSync(file).isFile()) hash.update(name).update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The workflow code bundle, built once per change of the workflow sources and cached under .cache/
 * (bundling takes seconds; a cached bundle loads in milliseconds).
 */
export async function workflowBundle(): Promise<{ codePath: string }> {
  const dir = join(PACKAGE_ROOT, '.cache', 'workflow-bundles');
  const codePath = join(dir, `agent-team-${sourceDigest(join(WORKFLOWS_PATH, '..'))}.js`);
  if (!existsSync(codePath)) {
    const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${codePath}.tmp`, code);
    renameSync(`${codePath}.tmp`, codePath);
  }
  return { codePath };
}

const noop = (): void => {};
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

export interface AgentTeamWorkerOptions {
  connection: NativeConnection;
  /** A client of the same namespace: the activities use it to query each run's conversation. */
  client: Client;
  namespace: string;
  taskQueue: string;
  agents: readonly AgentDefinition[];
  openai: Parameters<typeof createActivities>[0]['openai'];
  temperature?: number;
  /** Defaults to the cached bundle of ./workflows. */
  workflowBundle?: { codePath: string };
  /** The payload codec(s) of every client of these runs (encryption at rest), when configured. */
  dataConverter?: DataConverter;
  /** Passed through to Worker.create (tuning, interceptors…). */
  workerOptions?: Partial<WorkerOptions>;
}

export async function createAgentTeamWorker(options: AgentTeamWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle ?? (await workflowBundle()),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    activities: createActivities({
      openai: options.openai,
      agents: options.agents,
      loadTranscript: (workflowId, runId) =>
        options.client.workflow.getHandle(workflowId, runId).query(transcriptQuery),
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    }),
    ...options.workerOptions,
  });
}
