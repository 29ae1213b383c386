/** Figure 7: listing checkpoints among many executions, beside LangGraph's checkpointer. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { agentTeamWorkflow } from '../../workflows';
import { langGraphSystem } from '../systems';

import { LISTING_RUNS, QUICK, app, input, model, stats, work } from '../harness';

export async function listing() {
  const m = await model(0);
  // Executions without a worker: they stay open with a short history, as many as asked.
  const queue = `bench-idle-${Date.now()}`;
  const ids: string[] = [];
  const db = join(work, 'lg-listing.sqlite');
  const lg = langGraphSystem('langgraph-sqlite', m.server.baseURL, db);
  // Seeding is not measured: both stores fill at the same time.
  const seedTemporal = async (): Promise<void> => {
    for (let i = 0; i < LISTING_RUNS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, LISTING_RUNS - i) }, async (_, j) => {
          const id = `bench-list-${i + j}-${Date.now().toString(36)}`;
          await app.context.temporal.workflow.start(agentTeamWorkflow, {
            taskQueue: queue,
            workflowId: id,
            args: [input()],
          });
          ids.push(id);
        }),
      );
    }
  };
  const seedLangGraph = async (): Promise<void> => {
    for (let i = 0; i < LISTING_RUNS; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, LISTING_RUNS - i) }, () => lg.run(input())));
    }
  };
  await Promise.all([seedTemporal(), seedLangGraph()]);
  // Visibility catches up with the starts.
  for (let i = 0; i < 100; i++) {
    const { count } = await app.context.temporal.workflow.count(`TaskQueue = "${queue}"`);
    if (count >= LISTING_RUNS) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const time = async (f: () => Promise<unknown>) => {
    const samples: number[] = [];
    for (let i = 0; i < (QUICK ? 3 : 5); i++) {
      const t0 = performance.now();
      await f();
      samples.push(performance.now() - t0);
    }
    return stats(samples);
  };
  const temporal = {
    executions: LISTING_RUNS,
    recent20RunsMs: await time(() => app.checkpoints.list({ limit: 20 })),
    oneWorkflowMs: await time(() => app.checkpoints.list({ workflowId: ids[0]! })),
  };
  // LangGraph: the same number of threads, each with a completed run's checkpoints.
  const threads: string[] = [];
  const sqlite = new Database(db, { readonly: true });
  for (const r of sqlite.prepare('SELECT DISTINCT thread_id FROM checkpoints LIMIT 1').all() as { thread_id: string }[])
    threads.push(r.thread_id);
  sqlite.close();
  const all = async (it: AsyncIterable<unknown>, limit?: number) => {
    let n = 0;
    for await (const _ of it) if (++n === limit) break;
    return n;
  };
  const langgraph = {
    threads: LISTING_RUNS,
    recent20CheckpointsMs: await time(() => all(lg.checkpointer.list({}, { limit: 20 }))),
    oneThreadMs: await time(() => all(lg.checkpointer.list({ configurable: { thread_id: threads[0]! } }))),
  };
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(
      ids.slice(i, i + 50).map((id) =>
        app.context.temporal.workflow
          .getHandle(id)
          .terminate('bench done')
          .catch(() => {}),
      ),
    );
  }
  await m.server.close();
  return { temporal, 'langgraph-sqlite': langgraph };
}
