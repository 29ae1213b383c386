/** Prints a benchmark result (bench/results/*.json) as plain tables. Also: `tsx bench/report.ts FILE`. */
import { readFileSync } from 'node:fs';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

function table(title: string, head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [
    `### ${title}`,
    '',
    line(head),
    '| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |',
    ...cells.slice(1).map(line),
    '',
  ].join('\n');
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
const kb = (bytes: number): string => `${Math.round(bytes / 1024).toLocaleString('en-US')} KB`;
const ms = (s: Json): string => (s ? `${s.median} (p95 ${s.p95}, ${s.min}–${s.max})` : 'n/a');
const SYSTEMS = ['baseline', 'temporal', 'langgraph-sqlite', 'langgraph-memory'];

export function printTables(r: Json): string {
  const out: string[] = [
    `Benchmark ${r.date} · ${r.mode} · ${r.repetitions} repetitions · ${r.machine.cpus} × ${r.machine.cpuModel}, ` +
      `${r.machine.memoryGiB} GiB · Node ${r.machine.node} · Temporal CLI ${r.versions.temporalCli} · ` +
      `SDK ${r.versions.temporalSdk} · LangGraph ${r.versions.langgraph}`,
    '',
  ];
  for (const [key, o] of Object.entries<Json>(r.overhead ?? {})) {
    out.push(
      table(
        `Per-step overhead over the baseline, model latency ${o.latencyMs} ms (ms; median, p95, min–max)`,
        ['system', 'run (ms)', 'step gap (ms)', 'overhead / step (ms)', 'share of wall time'],
        SYSTEMS.filter((s) => o.systems[s]).map((s) => {
          const x = o.systems[s];
          return [
            s,
            ms(x.runMs),
            ms(x.stepGapMs),
            s === 'baseline' ? '—' : ms(x.overheadPerStepMs),
            s === 'baseline' ? '—' : `${(100 * x.overheadShareOfWall).toFixed(1)} %`,
          ];
        }),
      ),
      `temporal / langgraph-sqlite overhead ratio: ${o.ratioTemporalToLangGraphSqlite}; temporal / langgraph-memory: ${o.ratioTemporalToLangGraphMemory} (${key})`,
      '',
    );
  }
  if (r.floor) {
    out.push(
      table(
        "The platform's floor: " + r.floor.what,
        ['steps', 'run (ms)', 'per step (ms)'],
        [[r.floor.steps, ms(r.floor.runMs), ms(r.floor.perStepMs)]],
      ),
    );
  }
  if (r.toolSteps) {
    out.push(
      table(
        `A tool step beside a model step: ${r.toolSteps.what} (ms; median, p95, min–max)`,
        ['step', 'span in history', 'the work itself', 'overhead'],
        Object.entries<Json>(r.toolSteps.kinds).map(([kind, x]) => [
          kind,
          ms(x.spanMs),
          ms(x.workMs),
          ms(x.overheadMs),
        ]),
      ),
      `wall time per step of the whole run: ${ms(r.toolSteps.wallPerStepMs)}`,
      '',
    );
  }
  if (r.servers) {
    const sv = r.servers;
    const rows: [string, (x: Json) => string][] = [
      ['team overhead / step, model 0 ms', (x) => ms(x.overheadPerStepMs_latency0)],
      ['team overhead / step, model 1,000 ms', (x) => ms(x.overheadPerStepMs_latency1000)],
      ['floor / step, TypeScript SDK worker', (x) => ms(x.floorTypeScriptPerStepMs)],
      ['floor / step, Go SDK worker', (x) => ms(x.floorGoPerStepMs)],
      ['resume → first new step answered (ms)', (x) => String(x.resumeToFirstNewStepMs)],
      ...Object.keys(sv.embedded ?? {})
        .filter((k) => k.startsWith('throughput'))
        .map((k): [string, (x: Json) => string] => [
          `steps/s, ${k.replace('throughput', '').replace('TwoWorkerProcesses', ' runs, 2 worker processes')}${k.endsWith('Processes') ? '' : ' runs, 1 worker process'}`,
          (x) => (x[k] ? `${x[k].stepsPerSecond} (${x[k].ok}/${x[k].runs} ok)` : 'n/a'),
        ]),
    ];
    out.push(
      table(
        `The embedded server beside a cluster: Temporal ${sv.clusterInfo.version} on PostgreSQL, ${sv.clusterInfo.services}, ${sv.clusterInfo.shards} shards (ms; median, p95, min–max)`,
        ['measure', 'embedded (dev server, SQLite)', 'cluster (PostgreSQL)'],
        rows.map(([label, f]) => [label, f(sv.embedded), f(sv.cluster)]),
      ),
      sv.clusterInfo.startMs !== null
        ? `cluster start: ${(sv.clusterInfo.startMs / 1000).toFixed(1)} s${sv.clusterInfo.serverBuiltNow ? ' (server built now)' : ''}`
        : 'cluster: already running',
      '',
    );
  }
  for (const [key, row] of Object.entries<Json>(r.retryCost ?? {})) {
    out.push(
      table(
        `Retry cost, ${key} (LLM calls / tokens / USD at the shipped gpt-4o-mini price, spent to recover)`,
        ['system', 'restart from scratch', 'resume from checkpoint', 'saving', 'resume → first new answer (ms)'],
        SYSTEMS.map((s) => {
          const x = row[s];
          const cost = (c: Json): string => `${c.calls} / ${c.tokens}${c.usd !== undefined ? ` / $${c.usd}` : ''}`;
          return [
            s,
            cost(x.restartFromScratch),
            x.resumeFromCheckpoint ? cost(x.resumeFromCheckpoint) : 'n/a',
            x.savingPercent
              ? `${x.savingPercent.calls} % / ${x.savingPercent.tokens} %` +
                `${x.savingPercent.usd !== undefined ? ` / ${x.savingPercent.usd} %` : ''}`
              : 'n/a',
            x.resumeLatencyMs?.toFirstNewStepAnswered ?? 'n/a',
          ];
        }),
      ),
    );
  }
  if (r.resumeLatency) {
    out.push(
      table(
        'Resume, fork and follow-up latency, this project (the call → first new step answered, ms)',
        ['how', 'ms'],
        [
          ['resume (replay check, then reset)', ms(r.resumeLatency.withReplayCheckMs)],
          ['resume --force (reset only)', ms(r.resumeLatency.forceMs)],
          ...(r.resumeLatency.forkMs
            ? [['fork (a new workflow from the checkpoint)', ms(r.resumeLatency.forkMs)]]
            : []),
          ...(r.resumeLatency.followUpMs
            ? [['ask (a follow-up: the next turn, 9 steps carried over)', ms(r.resumeLatency.followUpMs)]]
            : []),
          ...(r.resumeLatency.forkLong
            ? [
                [
                  `fork of a 150-round run, 4 KB answers (step ${r.resumeLatency.forkLong.rounds150.steps}, ` +
                    `state ${kb(r.resumeLatency.forkLong.rounds150.stateBytes)})`,
                  ms(r.resumeLatency.forkLong.rounds150),
                ],
                [
                  `fork of a state over 2 MB, read in pieces (step ${r.resumeLatency.forkLong.overPayloadLimit.steps}, ` +
                    `state ${kb(r.resumeLatency.forkLong.overPayloadLimit.stateBytes)})`,
                  ms(r.resumeLatency.forkLong.overPayloadLimit),
                ],
              ]
            : []),
        ],
      ),
    );
  }
  if (r.throughput) {
    const rows: (string | number)[][] = [];
    for (const [key, per] of Object.entries<Json>(r.throughput)) {
      for (const [s, x] of Object.entries<Json>(per)) {
        rows.push([key, s, `${x.ok}/${x.runs}`, x.wallMs, x.stepsPerSecond, ms(x.stepLatencyMs)]);
      }
    }
    out.push(
      table(
        'Throughput, model latency 0 ms',
        ['runs at once', 'system', 'ok', 'wall (ms)', 'steps / s', 'step latency (ms)'],
        rows,
      ),
    );
  }
  if (r.historySize) {
    const rows: (string | number)[][] = [];
    for (const [key, per] of Object.entries<Json>(r.historySize)) {
      rows.push([key, 'temporal', per.temporal.steps, per.temporal.historyBytes, per.temporal.bytesPerStep]);
      const l = per['langgraph-sqlite'];
      rows.push([key, 'langgraph-sqlite', l.steps, l.checkpointBytes, l.bytesPerStep]);
    }
    out.push(table('Stored bytes per step', ['run', 'system', 'steps', 'bytes', 'bytes / step'], rows));
  }
  if (r.listing?.sizes) {
    const rows: string[][] = [];
    for (const size of r.listing.sizes) {
      const t = size.temporal;
      const lg = size['langgraph-sqlite'];
      rows.push([
        String(size.executions),
        ms(t.recent20RunsMs),
        ms(lg.recent20CheckpointsMs),
        `${round(t.recent20RunsMs.median / lg.recent20CheckpointsMs.median, 2)}`,
        ms(t.oneWorkflowMs),
        ms(lg.oneThreadMs),
      ]);
    }
    out.push(
      table(
        'Listing checkpoints as the namespace grows (ms)',
        [
          'executions',
          'temporal: 20 recent runs',
          'langgraph-sqlite: 20 recent checkpoints',
          'ratio',
          'temporal: one workflow',
          'langgraph: one thread',
        ],
        rows,
      ),
    );
  } else if (r.listing) {
    out.push(
      table(
        `Listing checkpoints with ${r.listing.temporal.executions} executions (ms)`,
        ['system', 'recent (20)', 'one workflow / thread'],
        [
          [
            'temporal (`checkpoints list`)',
            ms(r.listing.temporal.recent20RunsMs),
            ms(r.listing.temporal.oneWorkflowMs),
          ],
          [
            'langgraph-sqlite (`checkpointer.list`)',
            ms(r.listing['langgraph-sqlite'].recent20CheckpointsMs),
            ms(r.listing['langgraph-sqlite'].oneThreadMs),
          ],
        ],
      ),
    );
  }
  if (r.levers) {
    const floor = r.levers.levers.trivial.perStepMs.median;
    out.push(
      table(
        `Ways to execute a durable step: ${r.levers.what} (ms per step)`,
        ['lever', 'a checkpoint per step', 'per step (ms)', '× the floor', 'history events per step'],
        Object.values(r.levers.levers).map((l: any) => [
          l.lever,
          l.checkpointPerStep ? 'yes' : 'no',
          ms(l.perStepMs),
          String(round(l.perStepMs.median / floor, 2)),
          String(l.eventsPerStep),
        ]),
      ),
    );
    if (r.levers.team) {
      const team = r.levers.team.overheadPerStepMs;
      out.push(
        `The team on the same server, by turns with them (model latency 0): ${ms(team)} per step over the plain loop, ` +
          `${round(team.median / floor, 2)} × the floor; the project's own part (team − floor): ` +
          `${round(team.median - floor, 2)} ms.\n`,
      );
      const keys = [...new Set([...Object.keys(r.levers.team.eventGapsMs), ...Object.keys(r.levers.floorEventGapsMs)])];
      out.push(
        table(
          'Where a step goes: mean ms between consecutive history events, the team beside the floor',
          ['events', 'team', 'floor'],
          keys.map((k) => [
            k,
            String(r.levers.team.eventGapsMs[k] ?? '—'),
            String(r.levers.floorEventGapsMs[k] ?? '—'),
          ]),
        ),
      );
    }
  }
  return out.join('\n');
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx bench/report.ts bench/results/<file>.json\n');
    process.exitCode = 2;
  } else process.stdout.write(printTables(JSON.parse(readFileSync(file, 'utf8'))) + '\n');
}
