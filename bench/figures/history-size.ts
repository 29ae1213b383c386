/** Figure 6: history bytes per step. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startOfflineLlm } from '../../src/llm/offline-server';
import { langGraphSystem, runTemporal } from '../systems';

import { app, input, work, worker } from '../harness';

export async function historySize() {
  const out: Record<string, unknown> = {};
  // The model keeps the task open (turns), so each run goes to max_rounds: 2 steps per round. Bytes do not
  // depend on timing, so the systems and sizes run at the same time.
  const turnsModel = await startOfflineLlm({ turns: 100_000 });
  const queue = await worker(turnsModel.baseURL);
  const db = join(work, 'lg-history.sqlite');
  const lg = langGraphSystem('langgraph-sqlite', turnsModel.baseURL, db);
  await Promise.all(
    [10, 150].map(async (rounds) => {
      const run = input({ maxRounds: rounds, maxStalls: 1000 });
      const [t, l] = await Promise.all([runTemporal(app, run, queue), lg.run(run)]);
      const info = await app.context.temporal.workflow.getHandle(t.id).describe();
      const bytes = Number(info.raw.workflowExecutionInfo?.historySizeBytes ?? 0);
      const sqlite = new Database(db, { readonly: true });
      const row = sqlite
        .prepare(
          `SELECT (SELECT COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) FROM checkpoints WHERE thread_id = ?) +
                  (SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes WHERE thread_id = ?) AS bytes`,
        )
        .get(l.id, l.id) as { bytes: number };
      sqlite.close();
      out[`rounds${rounds}`] = {
        temporal: { steps: t.steps, historyBytes: bytes, bytesPerStep: Math.round(bytes / t.steps) },
        'langgraph-sqlite': {
          steps: l.steps,
          checkpointBytes: row.bytes,
          bytesPerStep: Math.round(row.bytes / l.steps),
        },
      };
    }),
  );
  await turnsModel.close();
  return { rounds10: out.rounds10, rounds150: out.rounds150 };
}
