/**
 * The worker (`durable-agent-team/worker`): registers the team's workflow and its activities (`callAgent`,
 * `callTool`, …) on a task queue. Workers are stateless, so run as many as you like on one queue; any of them
 * continues any run on it. Tools of your own are `ToolDefinition`s.
 */
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { SeedGone, createActivities, type ActivityDependencies, type AgentDefinition } from '../../activities';
import { createMcpClients } from '../../activities/mcp';
import { transcriptPageQuery } from '../../workflows/agent-team';
import type { TeamMessage } from '../../workflows/types';
import { requestCancel } from '../temporal/cancel';
import { readRun } from '../history/reader';
import { stepsUpTo } from '../checkpoints/seed';
import { isNotFound } from '../shared/grpc';
import { workflowBundle } from './bundle';
import { tracingWorkerOptions } from '../temporal/tracing';

export { WORKFLOWS_PATH, workflowBundle } from './bundle';
export {
  BUILTIN_TOOLS,
  ORCHESTRATOR,
  ToolError,
  createActivities,
  specOf,
  type ActivityDependencies,
  type AgentDefinition,
  type ToolContext,
  type ToolDefinition,
} from '../../activities';

export interface AgentTeamWorkerOptions {
  connection: NativeConnection;
  /** A client of the same namespace: the activities use it to query each run's conversation. */
  client: Client;
  namespace: string;
  taskQueue: string;
  /** The team for runs that carry none (see {@link ActivityDependencies.agents}). */
  agents?: readonly AgentDefinition[];
  openai: ActivityDependencies['openai'];
  /** The endpoint answered a check before this worker started (see {@link ActivityDependencies.endpointChecked}). */
  endpointChecked?: boolean;
  temperature?: number;
  /** Told of each step this worker completes. */
  onStep?: ActivityDependencies['onStep'];
  /** Told as each tool call starts and ends on this worker. */
  onToolCall?: ActivityDependencies['onToolCall'];
  /** Tools defined in TypeScript that runs may call, besides the built-in ones. */
  tools?: ActivityDependencies['tools'];
  /** Defaults to the cached bundle of ./workflows. */
  workflowBundle?: { codePath: string };
  /** The payload codec(s) of every client of these runs (encryption at rest), when configured. */
  dataConverter?: DataConverter;
  /** Passed through to Worker.create (tuning, interceptors…). */
  workerOptions?: Partial<WorkerOptions>;
}

export async function createAgentTeamWorker(options: AgentTeamWorkerOptions): Promise<Worker> {
  // The worker's MCP connections (stdio servers are its child processes): closed when the worker stops.
  const mcp = createMcpClients();
  const traced = await tracingWorkerOptions();
  const worker = await Worker.create({
    ...traced,
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle ?? (await workflowBundle()),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    activities: createActivities({
      openai: options.openai,
      ...(options.endpointChecked !== undefined ? { endpointChecked: options.endpointChecked } : {}),
      mcp,
      ...(options.agents ? { agents: options.agents } : {}),
      loadTranscript: (workflowId, runId) => fetchTranscript(options.client.workflow.getHandle(workflowId, runId)),
      readSeed: (workflowId, runId, count) => readSeed(options.client, workflowId, runId, count),
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.onStep ? { onStep: options.onStep } : {}),
      ...(options.onToolCall ? { onToolCall: options.onToolCall } : {}),
      ...(options.tools ? { tools: options.tools } : {}),
      requestCancel: (workflowId, runId, reason) =>
        requestCancel(options.client, options.namespace, { workflowId, runId }, reason, 'agent-team worker'),
    }),
    // Heartbeats carry a streaming step's text so far (live output): sent at most every 500 ms.
    maxHeartbeatThrottleInterval: '500ms',
    defaultHeartbeatThrottleInterval: '500ms',
    ...options.workerOptions,
  });
  const run = worker.run.bind(worker);
  worker.run = async () => {
    try {
      return await run();
    } finally {
      await mcp.closeAll();
    }
  };
  return worker;
}

/** The first `count` steps of a run, read from its history: the seed of a run that starts from it in pieces. */
async function readSeed(client: Client, workflowId: string, runId: string, count: number) {
  try {
    const { run } = await readRun(client, workflowId, runId);
    return stepsUpTo(run, count);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    throw new SeedGone(
      `the run this one starts from, ${workflowId} (run ${runId}), is gone (pruned or past retention) before its ` +
        `${count} steps were read: start again from a run that is kept`,
    );
  }
}

/** The most JSON one page of a conversation holds: well under Temporal's 2 MB limit on a query's result. */
const TRANSCRIPT_PAGE_BYTES = 1_000_000;

/**
 * A run's conversation before its next step, a page per query (`transcriptPage`): whole, whatever its size. Pages
 * of different moments (a step completed between two queries) are not mixed: the read starts again.
 */
export async function fetchTranscript(
  handle: WorkflowHandle,
  pageBytes = TRANSCRIPT_PAGE_BYTES,
): Promise<TeamMessage[]> {
  for (let attempt = 1; ; attempt++) {
    const messages: TeamMessage[] = [];
    const first = await handle.query(transcriptPageQuery, { from: 0, maxBytes: pageBytes });
    messages.push(...first.messages);
    let page = first;
    while (messages.length < page.total && page.messages.length > 0) {
      page = await handle.query(transcriptPageQuery, { from: messages.length, maxBytes: pageBytes });
      if (page.steps !== first.steps) break;
      messages.push(...page.messages);
    }
    if (page.steps === first.steps && messages.length === first.total) return messages;
    if (attempt >= 3) throw new Error('the conversation changed while it was read, three times');
  }
}
