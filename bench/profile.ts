/**
 * Where does a step's time go? Runs the team (model latency 0) on dev servers started with different
 * settings and prints the median gap between consecutive model answers. `tsx bench/profile.ts`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';
import { AgentTeamClient } from '../src/client';
import { installRuntime } from '../src/temporal/runtime';
import { parseConfig } from '../src/config';
import { readOfflineLlmLog, startOfflineLlm } from '../src/llm/offline-server';
import { findTemporalCli } from '../src/temporal/cli-binary';
import { devServerDynamicConfigArgs, freePort, temporalHealthy } from '../src/temporal/dev-server';
import { eventGaps, formatGaps, stepGaps } from './event-gaps';
import { openaiFor, runTemporal } from './systems';
import { readFileSync } from 'node:fs';

const tuned = devServerDynamicConfigArgs();
const variants: Record<string, string[]> = {
  'file, stock': ['--db-filename', 'DB'],
  file: ['--db-filename', 'DB', ...tuned],
  memory: tuned,
  'file+wal': ['--db-filename', 'DB', ...tuned, '--sqlite-pragma', 'journal_mode=wal'],
  'file+wal+normal': [
    '--db-filename',
    'DB',
    ...tuned,
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
  ],
  'file+wal+eager': [
    '--db-filename',
    'DB',
    ...tuned,
    '--sqlite-pragma',
    'journal_mode=wal',
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
  ],
};

/** CPU time (user + system) the process has used, from /proc (Linux). */
function serverCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** SERVER_ENV="GOGC=400 GOMAXPROCS=2": environment for the dev server process. */
const serverEnv = (): Record<string, string> =>
  Object.fromEntries(
    (process.env.SERVER_ENV ?? '')
      .split(' ')
      .filter(Boolean)
      .map((kv) => kv.split('=') as [string, string]),
  );

async function main(): Promise<void> {
  const only = process.argv[2];
  const cli = await findTemporalCli({ install: false });
  installRuntime(() => {});
  for (const [name, extra] of Object.entries(variants)) {
    if (only && !name.startsWith(only)) continue;
    const dir = mkdtempSync(join(tmpdir(), 'prof-'));
    const port = await freePort();
    const args = [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--headless',
      '--log-level',
      'error',
      ...extra.map((a) => (a === 'DB' ? join(dir, 't.db') : a)),
    ];
    const server = spawn(cli.path, args, { stdio: 'ignore', env: { ...process.env, ...serverEnv() } });
    while (!(await temporalHealthy(`127.0.0.1:${port}`, 1000))) await new Promise((r) => setTimeout(r, 200));
    const logPath = join(dir, 'llm.jsonl');
    const llm = await startOfflineLlm({ logPath, latencyMs: Number(process.env.LATENCY ?? 0) });
    const app = await AgentTeamClient.open(parseConfig({ temporal: { task_queue: 'prof' } }), {
      temporal: { kind: 'cluster', address: `127.0.0.1:${port}` },
    });
    // WORKER_OPTS='{"debugMode":true}': Worker.create options to try.
    const workerOptions = JSON.parse(process.env.WORKER_OPTS ?? '{}') as Partial<WorkerOptions>;
    const w = await app.workers.host({ openai: openaiFor(llm.baseURL), taskQueue: 'prof', workerOptions });
    const done = w.run();
    const input = { task: 'Compare quicksort and mergesort', autoResume: { enabled: false } };
    await runTemporal(app, input, 'prof');
    const ids = new Set<string>();
    const walls: number[] = [];
    let steps = 0;
    const cpu0 = { server: serverCpuMs(server.pid!), node: process.cpuUsage() };
    for (let i = 0; i < Number(process.env.PROFILE_RUNS ?? 8); i++) {
      const r = await runTemporal(app, input, 'prof');
      ids.add(r.id);
      walls.push(r.wallMs / r.steps);
      steps += r.steps;
    }
    const cpuServer = serverCpuMs(server.pid!) - cpu0.server;
    const cpuNode = process.cpuUsage(cpu0.node);
    if (process.env.DETAIL)
      console.log(
        `${name.padEnd(14)} CPU per step: server ${(cpuServer / steps).toFixed(1)} ms, this process ${((cpuNode.user + cpuNode.system) / 1000 / steps).toFixed(1)} ms`,
      );
    const conc = Number(process.env.PROFILE_CONCURRENCY ?? 0);
    if (conc) {
      const t0 = performance.now();
      const rs = await Promise.all(Array.from({ length: conc }, () => runTemporal(app, input, 'prof')));
      const secs = (performance.now() - t0) / 1000;
      console.log(
        `${name.padEnd(14)} ${conc} concurrent: ${(rs.reduce((t, r) => t + r.steps, 0) / secs).toFixed(1)} steps/s`,
      );
    }
    if (process.env.DETAIL) {
      const histories = await Promise.all(
        [...ids].map((id) => app.context.temporal.workflow.getHandle(id).fetchHistory()),
      );
      console.log(`${name.padEnd(14)} ${formatGaps(eventGaps(histories))}`);
    }
    const gaps = stepGaps(readOfflineLlmLog(logPath), ids).sort((a, b) => a - b);
    walls.sort((a, b) => a - b);
    console.log(
      `${name.padEnd(14)} step gap median ${gaps[Math.floor(gaps.length / 2)]} ms, p95 ${gaps[Math.floor(gaps.length * 0.95)]} ms; wall/step median ${walls[Math.floor(walls.length / 2)]!.toFixed(1)} ms`,
    );
    w.worker.shutdown();
    await done;
    await app.close();
    await llm.close();
    server.kill('SIGTERM');
  }
}
void main();
