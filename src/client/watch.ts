/**
 * What following a run shows besides its history: the text of the step in progress (live output, carried by the
 * step's heartbeats, which history never keeps) and whether any worker serves the run's task queue at all. Both
 * are read by polling the server; neither is recorded anywhere.
 */
import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { LiveText } from '../../activities';
import { decodeValue } from '../history/decode';
import { toDate } from '../shared/util';
import { alive } from '../temporal/dev-server';
import { ANSWERING_IDENTITY } from './hosted-worker';

/**
 * The workers that poll `taskQueue` for workflow tasks now: those that polled in the last 90 seconds, less the
 * answering ones, and less those of this machine whose process has ended (a `run` that detached a moment ago
 * still shows as a recent poller; its identity, `<pid>@<host>`, says it is gone).
 */
export async function pollersOf(client: Client, namespace: string, taskQueue: string): Promise<number> {
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const since = Date.now() - 90_000;
  const here = hostname();
  return (pollers ?? []).filter((p) => {
    if ((toDate(p.lastAccessTime)?.getTime() ?? 0) < since) return false;
    const identity = p.identity ?? '';
    if (identity.startsWith(ANSWERING_IDENTITY)) return false;
    const local = /^(\d+)@(.+)$/.exec(identity);
    return !(local && local[2] === here && !alive(Number(local[1])));
  }).length;
}

export interface WatchOptions {
  /** Told the text of the step in progress as it grows (polled every 400 ms). */
  onLive?: (live: LiveText) => void;
  /**
   * Told when no worker polls the run's task queue (checked after 3 s, then every 5 s; told again only after a
   * worker came and went): nothing runs the run's steps until one does. Leave it out when this process serves it.
   */
  onUnserved?: (taskQueue: string) => void;
  taskQueue?: string;
}

/** Watches a run until stopped; a poll that fails (the run closing, a blip) is skipped. */
export function watchRun(
  client: Client,
  namespace: string,
  run: { workflowId: string; runId: string },
  options: WatchOptions,
): { stop: () => void } {
  let stopped = false;
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, first: number, tick: () => Promise<void>): void => {
    const loop = async (): Promise<void> => {
      if (stopped) return;
      await tick().catch(() => undefined);
      if (!stopped) timers.push(setTimeout(() => void loop(), ms));
    };
    timers.push(setTimeout(() => void loop(), first));
  };
  const { onLive, onUnserved, taskQueue } = options;
  if (onLive) {
    const seen = new Map<number, number>();
    every(400, 0, async () => {
      const d = await client.workflowService.describeWorkflowExecution({ namespace, execution: run });
      for (const a of d.pendingActivities ?? []) {
        if (a.activityType?.name !== 'callAgent' || !a.heartbeatDetails?.payloads?.length) continue;
        const text = await decodeValue<LiveText | null>(
          client.options.loadedDataConverter,
          a.heartbeatDetails.payloads,
        );
        if (!stopped && text?.text && seen.get(text.step) !== text.chars) {
          seen.set(text.step, text.chars);
          onLive(text);
        }
      }
    });
  }
  if (onUnserved && taskQueue) {
    let told = false;
    every(5_000, 3_000, async () => {
      const served = (await pollersOf(client, namespace, taskQueue)) > 0;
      if (!served && !told && !stopped) onUnserved(taskQueue);
      told = !served;
    });
  }
  return {
    stop: () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
    },
  };
}
