/**
 * A worker hosted in this process (by `run`, `resume`, `follow`, `worker` and the library): the LLM connection
 * it calls, the Temporal worker, and how both are shut down together.
 */
import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import type OpenAI from 'openai';
import type { StepEvent, ToolCallEvent } from '../../activities';
import type { AgentTeamConfig } from '../config';
import { openLlm, type LlmConnection } from '../llm/client';
import { connectWorker, type TemporalTarget } from '../temporal/connection';
import { installRuntime } from '../temporal/runtime';
import { createAgentTeamWorker, workflowBundle } from '../worker';
import { tracingWorkerOptions } from '../temporal/tracing';

export interface HostedWorkerOptions {
  /** Use the offline model (also the default when no OpenAI variables are set). */
  offline?: boolean;
  /** Use this `openai` client instead (build it with `maxRetries: 0`). */
  openai?: OpenAI;
  taskQueue: string;
  /** Told of each step this worker completes. */
  onStep?: (event: StepEvent) => void;
  /** Told as each tool call starts and ends on this worker. */
  onToolCall?: (event: ToolCallEvent) => void;
  workerOptions?: Partial<WorkerOptions>;
}

export interface HostedWorker {
  worker: Worker;
  llm: LlmConnection;
  taskQueue: string;
  /** Runs the worker until `until` settles (or forever), then shuts it down and closes the LLM connection. */
  run<T>(until?: Promise<T>): Promise<T | void>;
}

export async function hostWorker(
  env: { config: AgentTeamConfig; target: TemporalTarget; client: Client; log: (line: string) => void },
  options: HostedWorkerOptions,
): Promise<HostedWorker> {
  const { config, target, client, log } = env;
  const llm: LlmConnection = options.openai
    ? {
        openai: options.openai,
        offline: null,
        checked: false,
        describe: `the given OpenAI client (${options.openai.baseURL})`,
        close: async () => {},
      }
    : await openLlm({ ...(options.offline !== undefined ? { offline: options.offline } : {}) });
  log(`LLM calls go to ${llm.describe}`);
  // Only now: a Runtime no worker registers with would keep the process alive after an early failure.
  installRuntime(log);
  let connection: Awaited<ReturnType<typeof connectWorker>> | undefined;
  let worker: Worker;
  try {
    connection = await connectWorker(target);
    worker = await createAgentTeamWorker({
      connection,
      client,
      namespace: target.namespace,
      taskQueue: options.taskQueue,
      agents: config.team,
      openai: llm.openai,
      endpointChecked: llm.checked,
      ...(client.options.dataConverter.payloadCodecs?.length
        ? { dataConverter: { payloadCodecs: client.options.dataConverter.payloadCodecs } }
        : {}),
      temperature: config.llm.temperature,
      ...(options.onStep ? { onStep: options.onStep } : {}),
      ...(options.onToolCall ? { onToolCall: options.onToolCall } : {}),
      ...(config.toolDefinitions.length ? { tools: config.toolDefinitions } : {}),
      workerOptions: {
        maxConcurrentActivityTaskExecutions: config.worker.max_concurrent_steps,
        ...(config.worker.max_steps_per_second > 0
          ? { maxTaskQueueActivitiesPerSecond: config.worker.max_steps_per_second }
          : {}),
        shutdownGraceTime: config.worker.shutdown_grace_ms,
        ...options.workerOptions,
      },
    });
  } catch (err) {
    await Promise.all([llm.close(), connection?.close()]);
    throw err;
  }
  const opened = connection;
  return {
    worker,
    llm,
    taskQueue: options.taskQueue,
    run: async <T>(until?: Promise<T>) => {
      try {
        return until ? await worker.runUntil(until) : await worker.run();
      } finally {
        await Promise.all([llm.close(), opened.close()]);
      }
    },
  };
}

/** The identity prefix of {@link hostDecider}'s workers: they serve an answer, not a run. */
export const ANSWERING_IDENTITY = 'agent-team answer';

/**
 * A worker that takes workflow tasks only (no activities, no LLM): it lets a run nobody serves take an answer
 * (the `answer` Update needs a worker to validate it) without this process starting the run's next step.
 */
export async function hostDecider(
  env: { target: TemporalTarget; client: Client; log: (line: string) => void },
  taskQueue: string,
): Promise<{ run<T>(until: Promise<T>): Promise<T> }> {
  installRuntime(env.log);
  const connection = await connectWorker(env.target);
  try {
    const codecs = env.client.options.dataConverter.payloadCodecs;
    const worker = await Worker.create({
      connection,
      namespace: env.target.namespace,
      taskQueue,
      identity: `${ANSWERING_IDENTITY} ${process.pid}@${hostname()}`,
      workflowBundle: await workflowBundle(),
      ...(await tracingWorkerOptions()),
      ...(codecs?.length ? { dataConverter: { payloadCodecs: codecs } } : {}),
    });
    return {
      run: async <T>(until: Promise<T>) => {
        try {
          return await worker.runUntil(until);
        } finally {
          await connection.close();
        }
      },
    };
  } catch (err) {
    await connection.close();
    throw err;
  }
}
