/**
 * Scale-out: three `agent-team worker` processes share a task queue; thirty runs; one worker is SIGTERMed
 * (graceful: in-flight steps finish) and one SIGKILLed mid-way (its steps time out on heartbeat and are
 * retried elsewhere). Every run completes, on the surviving workers.
 */
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { parseConfig, teamInputFor } from '../../src/config';
import { readOfflineLlmLog, startOfflineLlm } from '../../src/llm/offline-server';
import { cleanEnv, collect, spawnCli, waitForOutput, writeConfig } from '../cli-helpers';
import { testAddress, uniqueId, until } from '../helpers';
import { join } from 'node:path';

const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;

it('3 workers, 30 runs, one SIGTERMed and one SIGKILLed mid-way: all runs complete', async () => {
  const taskQueue = uniqueId('scale');
  const logPath = join(dir(), `${uniqueId('scale-llm')}.jsonl`);
  const llm = await startOfflineLlm({ latencyMs: 150, logPath });
  const config = writeConfig(
    dir(),
    `temporal:\n  task_queue: ${taskQueue}\nworker:\n  max_concurrent_steps: 4\n  shutdown_grace_ms: 5000\n`,
  );
  const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OPENAI_BASE_URL: llm.baseURL, OPENAI_API_KEY: 'offline' });
  const workers: ChildProcess[] = [0, 1, 2].map(() => spawnCli(['worker', '--config', config], env));
  const exits = workers.map((w) => collect(w));
  const connection = await Connection.connect({ address: testAddress() });
  try {
    await Promise.all(workers.map((w) => waitForOutput(w, /Worker polling task queue/)));
    const client = new Client({ connection });
    const input = {
      ...teamInputFor('Compare quicksort and mergesort', parseConfig({})),
      llm: {
        timeoutMs: 5_000,
        maxAttempts: 5,
        initialRetryMs: 100,
        maxRetryMs: 500,
        backoffCoefficient: 2,
        heartbeatMs: 500,
      },
    };
    const handles = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        client.workflow.start('agentTeamWorkflow', { taskQueue, workflowId: `${taskQueue}-${i}`, args: [input] }),
      ),
    );
    // Mid-way: once a third of the steps are done.
    const answered = (): number => readOfflineLlmLog(logPath).length;
    await until('a third of the steps (90) to be answered', () => answered() >= 90, 120_000);
    workers[0]!.kill('SIGTERM');
    workers[1]!.kill('SIGKILL');
    const results = await Promise.all(handles.map((h) => h.result() as Promise<{ steps: number }>));
    expect(results.map((r) => r.steps)).toEqual(Array(30).fill(9));
    const graceful = await exits[0]!;
    expect(graceful.stderr).toContain('Worker stopped.');
    expect(graceful.code).toBe(0);
    expect((await exits[1]!).code).toBeNull(); // killed
    // Every step was answered at least once; the killed worker's in-flight steps were retried.
    const log = readOfflineLlmLog(logPath);
    const steps = new Set(log.filter((e) => e.status === 200).map((e) => `${e.workflowId}/${e.step}`));
    expect(steps.size).toBe(270);
  } finally {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
    await Promise.all(exits);
    await connection.close();
    await llm.close();
  }
}, 180_000);
