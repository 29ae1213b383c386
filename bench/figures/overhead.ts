/** Figures 1 and 2: the team's per-step overhead at model latency 0 and 200 ms, and its share of wall time. */
import { join } from 'node:path';
import { langGraphSystem, runBaseline, runTemporal, SYSTEMS, type RunReport, type SystemName } from '../systems';
import { stepGaps } from '../event-gaps';

import { LATENCIES, QUICK, REPS, app, input, model, quantile, round, stats, work, worker } from '../harness';

export async function overhead() {
  const out: Record<string, unknown> = {};
  for (const latency of LATENCIES) {
    const m = await model(latency);
    const queue = await worker(m.server.baseURL);
    const lgSqlite = langGraphSystem('langgraph-sqlite', m.server.baseURL, join(work, `lg-${latency}.sqlite`));
    const lgMemory = langGraphSystem('langgraph-memory', m.server.baseURL, '');
    const runs: Record<SystemName, RunReport[]> = {
      baseline: [],
      temporal: [],
      'langgraph-sqlite': [],
      'langgraph-memory': [],
    };
    const exec: Record<SystemName, () => Promise<RunReport>> = {
      baseline: () => runBaseline(m.server.baseURL, input()),
      temporal: () => runTemporal(app, input(), queue),
      'langgraph-sqlite': () => lgSqlite.run(input()),
      'langgraph-memory': () => lgMemory.run(input()),
    };
    // Warm-up (JIT, workflow bundle, connections), not counted; once is enough for the whole process.
    if (latency === LATENCIES[0]) for (const s of SYSTEMS) await exec[s]();
    // Quick mode leaves LangGraph's MemorySaver out at 200 ms (its SqliteSaver stays) to finish under 2 minutes.
    const systems = SYSTEMS.filter((s) => !(QUICK && latency > 0 && s === 'langgraph-memory'));
    for (let rep = 0; rep < REPS; rep++) {
      for (const s of systems) {
        const r = await exec[s]();
        if (!r.ok) throw new Error(`${s} failed: ${r.error}`);
        runs[s].push(r);
      }
    }
    const entries = m.entries();
    const perSystem: Record<string, unknown> = {};
    const baseStepMs = runs.baseline.map((r) => r.wallMs / r.steps);
    for (const s of systems) {
      const gaps = stepGaps(entries, new Set(runs[s].map((r) => r.id)));
      const stepMs = runs[s].map((r) => r.wallMs / r.steps);
      const overheadMs = stepMs.map((x, i) => x - baseStepMs[i]!);
      perSystem[s] = {
        runMs: stats(runs[s].map((r) => r.wallMs)),
        steps: runs[s][0]!.steps,
        stepGapMs: stats(gaps),
        overheadPerStepMs: stats(overheadMs),
        overheadShareOfWall: round(
          quantile(
            runs[s].map((r, i) => (r.wallMs - runs.baseline[i]!.wallMs) / r.wallMs),
            0.5,
          ),
          4,
        ),
      };
    }
    const o = (s: SystemName): number =>
      (perSystem[s] as { overheadPerStepMs: { median: number } }).overheadPerStepMs.median;
    out[`latency${latency}ms`] = {
      latencyMs: latency,
      systems: perSystem,
      ratioTemporalToLangGraphSqlite: round(o('temporal') / o('langgraph-sqlite')),
      ratioTemporalToLangGraphMemory: perSystem['langgraph-memory']
        ? round(o('temporal') / o('langgraph-memory'))
        : null,
    };
    await m.server.close();
  }
  return out;
}
