/**
 * Figure 7: listing checkpoints as the namespace grows (100, 1,000 and, in full mode, 10,000 executions), beside
 * LangGraph's checkpointer with as many threads.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { agentTeamWorkflow } from '../../workflows';
import { langGraphSystem } from '../systems';

import { LISTING_SIZES, QUICK, app, input, log, model, stats, work } from '../harness';

export async function listing() {
  const m = await model(0);
  // Executions without a worker: they stay open with a short history, as many as asked.
  const queue = `bench-idle-${Date.now()}`;
  const ids: string[] = [];
  const db = join(work, 'lg-listing.sqlite');
  const lg = langGraphSystem('langgraph-sqlite', m.server.baseURL, db);
  const startTemporal = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, to - i) }, async (_, j) => {
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
  /**
   * LangGraph's threads: the first 100 are real runs of the team; past them, copies of those runs' rows under new
   * thread ids (running the graph 10,000 times would take most of an hour; the rows are the same size).
   */
  const REAL_THREADS = 100;
  const seedLangGraph = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < Math.min(to, REAL_THREADS); i += 50)
      await Promise.all(Array.from({ length: Math.min(50, Math.min(to, REAL_THREADS) - i) }, () => lg.run(input())));
    if (to <= REAL_THREADS) return;
    const sqlite = new Database(db);
    const threads = (
      sqlite.prepare('SELECT DISTINCT thread_id FROM checkpoints LIMIT ?').all(REAL_THREADS) as { thread_id: string }[]
    ).map((r) => r.thread_id);
    const copyCheckpoints = sqlite.prepare(
      'INSERT INTO checkpoints SELECT ?, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata FROM checkpoints WHERE thread_id = ?',
    );
    const copyWrites = sqlite.prepare(
      'INSERT INTO writes SELECT ?, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, value FROM writes WHERE thread_id = ?',
    );
    const copy = sqlite.transaction((n: number) => {
      for (let k = Math.max(from, REAL_THREADS); k < n; k++) {
        const source = threads[k % threads.length]!;
        copyCheckpoints.run(`copy-${k}`, source);
        copyWrites.run(`copy-${k}`, source);
      }
    });
    copy(to);
    sqlite.close();
  };
  const time = async (f: () => Promise<unknown>) => {
    await f(); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < (QUICK ? 3 : 5); i++) {
      const t0 = performance.now();
      await f();
      samples.push(performance.now() - t0);
    }
    return stats(samples);
  };
  const all = async (it: AsyncIterable<unknown>, limit?: number) => {
    let n = 0;
    for await (const _ of it) if (++n === limit) break;
    return n;
  };
  const sizes: Record<string, unknown>[] = [];
  let seeded = 0;
  for (const n of LISTING_SIZES) {
    log(`  listing: seeding to ${n} executions`);
    // Seeding is not measured: both stores fill at the same time.
    await Promise.all([startTemporal(seeded, n), seedLangGraph(seeded, n)]);
    seeded = n;
    // Visibility catches up with the starts.
    for (let i = 0; i < 300; i++) {
      const { count } = await app.context.temporal.workflow.count(`TaskQueue = "${queue}"`);
      if (count >= n) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const sqlite = new Database(db, { readonly: true });
    const thread = (sqlite.prepare('SELECT thread_id FROM checkpoints LIMIT 1').get() as { thread_id: string })
      .thread_id;
    const threads = (sqlite.prepare('SELECT COUNT(DISTINCT thread_id) AS n FROM checkpoints').get() as { n: number }).n;
    sqlite.close();
    sizes.push({
      executions: n,
      temporal: {
        recent20RunsMs: await time(() => app.checkpoints.list({ limit: 20 })),
        oneWorkflowMs: await time(() => app.checkpoints.list({ workflowId: ids[0]! })),
      },
      'langgraph-sqlite': {
        threads,
        recent20CheckpointsMs: await time(() => all(lg.checkpointer.list({}, { limit: 20 }))),
        oneThreadMs: await time(() => all(lg.checkpointer.list({ configurable: { thread_id: thread } }))),
      },
    });
  }
  // The open executions end here (a large namespace is left as it is: the bench's server goes with its work dir).
  if (ids.length <= 1000) {
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
  }
  await m.server.close();
  return { what: 'the 20 most recent runs (temporal) or checkpoints (langgraph), and one workflow or thread', sizes };
}
