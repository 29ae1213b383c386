/** Figure 8: a tool step beside a model step. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, teamInputFor } from '../../src/config';
import { runTemporal } from '../systems';

import { REPS, ROOT, TASK, app, input, model, stats, work, worker } from '../harness';

/**
 * The team with tools (the researcher lists and reads two workspace files, the coder runs a snippet), model
 * latency 0. For each kind of step, its span in history (scheduled → completed) and what of it is the work
 * itself (the model's answer time; the tool's own duration): the rest is the step's overhead.
 */
export async function toolSteps() {
  const m = await model(0);
  const queue = await worker(m.server.baseURL);
  const workspace = join(work, 'workspace');
  mkdirSync(workspace, { recursive: true });
  for (const f of ['notes.md', 'timings.csv'])
    writeFileSync(join(workspace, f), readFileSync(join(ROOT, 'examples/tools/workspace', f)));
  const config = parseConfig({
    tools: { workspace },
    agents: {
      orchestrator: {},
      researcher: { tools: ['list_files', 'read_file'] },
      coder: { tools: ['run_code'] },
      analyst: {},
    },
  });
  const { team, tools } = teamInputFor(TASK, config);
  const samples: Record<'model' | 'file tool' | 'run_code', { span: number[]; work: number[] }> = {
    model: { span: [], work: [] },
    'file tool': { span: [], work: [] },
    run_code: { span: [], work: [] },
  };
  const perRun: number[] = [];
  for (let rep = 0; rep <= REPS; rep++) {
    const r = await runTemporal(app, input({ team, tools }), queue);
    if (!r.ok) throw new Error(`the run with tools failed: ${r.error}`);
    if (rep === 0) continue; // warm-up
    perRun.push(r.wallMs / r.steps);
    for (const s of (await app.history.audit(r.id)).runs[0]!.steps) {
      if (s.durationMs === null) continue;
      const kind = s.tool ? (s.tool.call.name === 'run_code' ? 'run_code' : 'file tool') : 'model';
      samples[kind].span.push(s.durationMs);
      samples[kind].work.push(s.tool ? s.tool.durationMs : s.latencyMs);
    }
  }
  await m.server.close();
  return {
    what: 'the team with tools: list_files, 2 read_file at once, run_code (JavaScript); model latency 0',
    steps: 16,
    wallPerStepMs: stats(perRun),
    kinds: Object.fromEntries(
      Object.entries(samples).map(([kind, x]) => [
        kind,
        { spanMs: stats(x.span), workMs: stats(x.work), overheadMs: stats(x.span.map((v, i) => v - x.work[i]!)) },
      ]),
    ),
  };
}
