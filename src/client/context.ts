/**
 * What every sub-client of {@link AgentTeamClient} shares: the configuration, where Temporal is (and the embedded
 * server this process started, if any), the Temporal client over one connection, and the log. Opened once by
 * `AgentTeamClient.open`, closed once by its `close`.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { WAITING_ATTRIBUTE } from '../../workflows/types';
import type { AgentTeamConfig } from '../config';
import type { RunStatus } from '../shared/constants';
import { NotFoundError } from '../shared/errors';
import { isNotFound } from '../shared/grpc';
import { requestCancel, statusName } from '../temporal/cancel';
import { dataConverterFromEnv } from '../temporal/codec';
import { connectClient, resolveTemporal, type TemporalChoice, type TemporalTarget } from '../temporal/connection';
import type { DevServer } from '../temporal/dev-server';
import { applyRetention } from '../temporal/retention';
import { flushTracing } from '../temporal/tracing';

export interface ClientOptions {
  /** Progress lines (the CLI prints them on stderr). */
  log?: (line: string) => void;
  /** Start the embedded server when needed. @default true */
  startServer?: boolean;
  /** Where Temporal is. @default { kind: 'auto' }: a configured cluster, else the embedded server */
  temporal?: TemporalChoice;
  /** Apply (embedded) or check (cluster) the namespace's retention. @default true */
  checkRetention?: boolean;
}

/** A fresh workflow id, short enough to type: `team-<yymmdd>-<hhmmss UTC>-<6 hex>`, sortable by time. */
export function newWorkflowId(now = new Date()): string {
  const [date, time] = now.toISOString().slice(2, 19).replace(/[-:]/g, '').split('T');
  return `team-${date}-${time}-${randomBytes(3).toString('hex')}`;
}

/** A workflow's run as the server describes it. */
export interface RunDescription {
  runId: string;
  taskQueue: string;
  status: RunStatus;
}

export class ClientContext {
  private waitingAttribute?: Promise<boolean>;

  private constructor(
    readonly config: AgentTeamConfig,
    readonly target: TemporalTarget,
    readonly temporal: Client,
    readonly log: (line: string) => void,
    private readonly ownedServer: DevServer | null,
  ) {}

  /** Resolves Temporal (starting the embedded server if needed) and connects a client. */
  static async open(config: AgentTeamConfig, options: ClientOptions = {}): Promise<ClientContext> {
    const log = options.log ?? (() => {});
    // Encryption at rest (AGENT_TEAM_ENCRYPTION_KEY…): the same codec for this client and its workers. Read
    // first, so a bad key stops before any server starts.
    const dataConverter = dataConverterFromEnv();
    const { server, ...target } = await resolveTemporal(config, {
      start: options.startServer ?? true,
      log,
      ...(options.temporal ? { choice: options.temporal } : {}),
    });
    try {
      const client = await connectClient(target, dataConverter);
      if (options.startServer !== false && options.checkRetention !== false) {
        // Retention is housekeeping: a failure to read or set it must not stop the command.
        await applyRetention(
          client,
          target.namespace,
          config.workflow.checkpointing.cleanup_after_days,
          target.mode,
          log,
        ).catch((e: Error) => log(`warning: could not check the namespace retention: ${e.message}`));
      }
      return new ClientContext(config, target, client, log, server);
    } catch (err) {
      await server?.stop();
      throw err;
    }
  }

  get namespace(): string {
    return this.target.namespace;
  }

  /** The shared task queue (`temporal.task_queue`) that `agent-team worker` deployments serve. */
  get taskQueue(): string {
    return this.config.temporal.task_queue;
  }

  /** The Web UI page of a run, when the UI is known. */
  webUiUrl(workflowId: string, runId?: string): string | null {
    if (!this.target.uiUrl) return null;
    const ns = encodeURIComponent(this.namespace);
    return `${this.target.uiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`;
  }

  /** Runs `read`, turning "no such workflow or run" into a {@link NotFoundError} (exit 2). */
  async lookup<T>(workflowId: string, runId: string | undefined, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(workflowId, this.namespace, runId, { cause: err });
      throw err;
    }
  }

  /** A workflow's latest run (or `runId`): its id, task queue and status ({@link NotFoundError} when not here). */
  async describe(workflowId: string, runId?: string): Promise<RunDescription> {
    const d = await this.lookup(workflowId, runId, () =>
      this.temporal.workflow.getHandle(workflowId, runId).describe(),
    );
    return { runId: d.runId, taskQueue: d.taskQueue, status: statusName(d.status.name) as RunStatus };
  }

  /** Asks Temporal to cancel a run, recording who asked and why. */
  requestCancel(run: { workflowId: string; runId: string }, reason: string, by: string): Promise<void> {
    return requestCancel(this.temporal, this.namespace, run, reason, by);
  }

  /**
   * Whether the namespace has the {@link WAITING_ATTRIBUTE} search attribute, which a run waiting on a person
   * keeps current. The embedded server gets it registered (at start, or here for a server started before);
   * a cluster's operator registers it (`temporal operator search-attribute create`); without it, `pending`
   * asks each running run instead.
   */
  hasWaitingAttribute(): Promise<boolean> {
    this.waitingAttribute ??= (async () => {
      const ops = this.temporal.connection.operatorService;
      const { customAttributes } = await ops.listSearchAttributes({ namespace: this.namespace });
      if (customAttributes?.[WAITING_ATTRIBUTE] !== undefined) return true;
      if (this.target.mode !== 'embedded') return false;
      await ops.addSearchAttributes({
        namespace: this.namespace,
        searchAttributes: { [WAITING_ATTRIBUTE]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
      });
      return true;
    })().catch(() => false);
    return this.waitingAttribute;
  }

  /** Closes the connection, and stops the embedded server if this process started it in-process (memory storage). */
  async close(): Promise<void> {
    await flushTracing(); // never throws, waits at most 5 s
    await this.temporal.connection.close();
    await this.ownedServer?.stop();
  }
}
