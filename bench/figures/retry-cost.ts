/** Figure 3: what recovering from a failed step costs (calls, tokens, USD), restart beside resume. */
import { join } from 'node:path';
import { DEFAULT_PRICING } from '../../src/config';
import { costOf } from '../../workflows/pricing';
import { type OfflineLlmLogEntry } from '../../src/llm/offline-server';
import type { ModelPrice } from '../../workflows/types';
import { langGraphSystem, runBaseline, runTemporal } from '../systems';

import { app, faultAt, input, model, round, work, worker } from '../harness';

/** The shipped price table (a snapshot of OpenAI's list prices), as a run records it. */
export const PRICES: Record<string, ModelPrice> = Object.fromEntries(
  Object.entries(DEFAULT_PRICING).map(([m, p]) => [
    m,
    { input: p.input, cachedInput: p.cached_input, output: p.output },
  ]),
);

/** What recovering cost: calls sent, tokens and USD paid (answered calls, at the shipped prices of their model). */
export const spent = (entries: OfflineLlmLogEntry[]) => {
  const paid = entries.filter((e) => e.status === 200);
  return {
    calls: entries.length,
    tokens: paid.reduce((t, e) => t + e.promptTokens + e.completionTokens, 0),
    usd: round(
      paid.reduce((t, e) => t + costOf(e, e.model, PRICES), 0),
      6,
    ),
  };
};

export async function retryCost() {
  const n = 9;
  const out: Record<string, unknown> = {};
  for (const k of [Math.floor(n / 2), n - 1]) {
    const row: Record<string, unknown> = {};
    // baseline: nothing to resume from; the only recovery is a new run from scratch
    {
      const m = await model(0, faultAt(k));
      const failed = await runBaseline(m.server.baseURL, input());
      const before = m.entries().length;
      const again = await runBaseline(m.server.baseURL, input());
      const recovery = spent(m.entries().slice(before));
      row.baseline = {
        failedAtStep: failed.steps,
        restartFromScratch: recovery,
        resumeFromCheckpoint: null,
        recovered: again.ok,
      };
      await m.server.close();
    }
    // temporal: restart from scratch = a new run; resume = reset to the last checkpoint
    {
      const m = await model(0, faultAt(k));
      const queue = await worker(m.server.baseURL);
      const failed = await runTemporal(app, input(), queue);
      const before = m.entries().length;
      const last = (await app.checkpoints.list({ workflowId: failed.id }))[0]!;
      const t0 = performance.now();
      const resumeStarted = Date.now();
      const { runId } = await app.checkpoints.reset(last.checkpointId);
      const resetMs = performance.now() - t0;
      await app.context.temporal.workflow.getHandle(failed.id, runId).result();
      const resumed = m.entries().slice(before);
      const firstStepMs = resumed[0] ? Date.parse(resumed[0].time) - resumeStarted : NaN;
      const before2 = m.entries().length;
      const scratch = await runTemporal(app, input(), queue);
      row.temporal = {
        failedAtStep: last.step,
        resumeFromCheckpoint: spent(resumed),
        restartFromScratch: spent(m.entries().slice(before2)),
        recovered: scratch.ok,
        resumeLatencyMs: { resetCall: round(resetMs), toFirstNewStepAnswered: firstStepMs },
      };
      await m.server.close();
    }
    for (const name of ['langgraph-sqlite', 'langgraph-memory'] as const) {
      const m = await model(0, faultAt(k));
      const lg = langGraphSystem(name, m.server.baseURL, join(work, `lg-retry-${k}.sqlite`));
      const failed = await lg.run(input());
      if (failed.ok) throw new Error(`${name} did not fail at step ${k}`);
      const before = m.entries().length;
      const resumeStarted = Date.now();
      const resumed = await lg.resume(failed.id);
      const resumedEntries = m.entries().slice(before);
      const before2 = m.entries().length;
      await lg.run(input());
      row[name] = {
        failedAtStep: k,
        resumeFromCheckpoint: spent(resumedEntries),
        restartFromScratch: spent(m.entries().slice(before2)),
        recovered: resumed.ok,
        resumeLatencyMs: {
          toFirstNewStepAnswered: resumedEntries[0] ? Date.parse(resumedEntries[0].time) - resumeStarted : NaN,
        },
      };
      await m.server.close();
    }
    for (const v of Object.values(row) as {
      restartFromScratch: { calls: number; tokens: number; usd: number };
      resumeFromCheckpoint: { calls: number; tokens: number; usd: number } | null;
      savingPercent?: unknown;
    }[]) {
      if (v.resumeFromCheckpoint) {
        v.savingPercent = {
          calls: round(100 * (1 - v.resumeFromCheckpoint.calls / v.restartFromScratch.calls), 1),
          tokens: round(100 * (1 - v.resumeFromCheckpoint.tokens / v.restartFromScratch.tokens), 1),
          usd: round(100 * (1 - v.resumeFromCheckpoint.usd / v.restartFromScratch.usd), 1),
        };
      }
    }
    out[`failAtStep${k}of${n}`] = row;
  }
  return out;
}
