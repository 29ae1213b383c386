/**
 * Figure 10: how else a durable step can be executed. Each lever on no-op steps (bench/floor/workflow.ts), run by
 * turns on one server of their own: the project's embedded server (file storage, its dynamic config) with eager
 * activity dispatch on and timers that fire on time, so that every lever can be measured on it.
 */
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ensureDevServer, freePort } from '../../src/temporal/dev-server';
import { AgentTeamClient } from '../../src/client';
import { parseConfig } from '../../src/config';
import { eventGaps } from '../event-gaps';
import { runBaseline, runTemporal } from '../systems';
import { REPS, hosted, input, model, stats, work, worker } from '../harness';

export const LEVERS = {
  trivial: { lever: 'activity, eager dispatch (the floor)', checkpointPerStep: true },
  trivialQueued: { lever: 'activity through the task queue', checkpointPerStep: true },
  trivialLocal: { lever: 'local activity + 1 ms timer', checkpointPerStep: true },
  trivialSignal: { lever: 'local activity that signals its run', checkpointPerStep: true },
  trivialLocalBatch: { lever: 'local activities back to back', checkpointPerStep: false },
} as const;

const STEPS = 20;

/**
 * The server flags the levers need beyond the project's: eager dispatch (the dev server's default, said here for
 * clarity), and timers that fire on time (by default the timer queue may fire up to 1 s late).
 */
export const LEVER_SERVER_FLAGS = [
  '--dynamic-config-value',
  'system.enableActivityEagerExecution=true',
  '--dynamic-config-value',
  'history.timerProcessorMaxTimeShift="1ms"',
];

export async function levers() {
  const server = await ensureDevServer({
    storage: 'file',
    dir: join(work, 'levers'),
    port: await freePort(),
    uiPort: 0,
    headless: true,
    namespace: 'default',
    detached: false,
    extraArgs: LEVER_SERVER_FLAGS,
  });
  const { NativeConnection } = await import('@temporalio/worker');
  const { createFloorWorker } = await import('../floor/worker');
  try {
    const { address } = server;
    const client = new Client({ connection: await Connection.connect({ address }) });
    const connection = await NativeConnection.connect({ address });
    const taskQueue = 'bench-levers';
    const w = await createFloorWorker(connection, taskQueue, {}, client);
    const done = w.run();
    // The team on the same server (model latency 0), with the plain loop beside it: what the project adds.
    const teamApp = await AgentTeamClient.open(parseConfig({ temporal: { task_queue: 'bench-levers-team' } }), {
      temporal: { kind: 'cluster', address },
    });
    const m = await model(0);
    const teamQueue = await worker(m.server.baseURL, teamApp);
    const perStep: Record<string, number[]> = {};
    const events: Record<string, number> = {};
    const teamOverhead: number[] = [];
    const teamIds: string[] = [];
    const gaps: Record<'team' | 'floor', Record<string, number>> = { team: {}, floor: {} };
    try {
      // By turns, so that a slow moment of the machine falls on every lever alike; the first round warms up.
      for (let rep = 0; rep <= REPS; rep++) {
        for (const name of Object.keys(LEVERS)) {
          const workflowId = `levers-${name}-${rep}`;
          const t0 = performance.now();
          await client.workflow.execute(name, { taskQueue, workflowId, args: [STEPS] });
          if (rep === 0) continue;
          (perStep[name] ??= []).push((performance.now() - t0) / STEPS);
          if (rep === 1) {
            const history = await client.workflow.getHandle(workflowId).fetchHistory();
            events[name] = Math.round(((history.events?.length ?? 0) / STEPS) * 10) / 10;
          }
        }
        const base = await runBaseline(m.server.baseURL, input());
        const team = await runTemporal(teamApp, input(), teamQueue);
        if (!team.ok) throw new Error(`levers: the team's run failed: ${team.error}`);
        if (rep === 0) continue;
        teamOverhead.push(team.wallMs / team.steps - base.wallMs / base.steps);
        teamIds.push(team.id);
      }
      // Where a step's time goes (mean ms between consecutive event types), the team beside the floor.
      const histories = async (on: Client, ids: string[]) =>
        Promise.all(ids.map((id) => on.workflow.getHandle(id).fetchHistory()));
      gaps.team = eventGaps(await histories(teamApp.context.temporal, teamIds));
      gaps.floor = eventGaps(
        await histories(
          client,
          Array.from({ length: REPS }, (_, i) => `levers-trivial-${i + 1}`),
        ),
      );
    } finally {
      w.shutdown();
      await done;
      const i = hosted.findIndex((h) => h.queue === teamQueue);
      const [team] = hosted.splice(i, 1);
      team?.worker.worker.shutdown();
      await team?.done;
      await m.server.close();
      await teamApp.close();
      await connection.close();
      await client.connection.close();
    }
    return {
      team: { overheadPerStepMs: stats(teamOverhead), eventGapsMs: gaps.team },
      floorEventGapsMs: gaps.floor,
      what: `workflows of ${STEPS} no-op steps, run by turns on a server with ${LEVER_SERVER_FLAGS.filter((f) => !f.startsWith('--')).join(', ')}`,
      steps: STEPS,
      levers: Object.fromEntries(
        Object.entries(LEVERS).map(([name, l]) => [
          name,
          { ...l, perStepMs: stats(perStep[name] ?? []), eventsPerStep: events[name] ?? null },
        ]),
      ),
    };
  } finally {
    await server.stop();
  }
}
