/**
 * Faults of a real cluster in the middle of runs: the history service SIGKILLed and restarted, the matching
 * service restarted, PostgreSQL restarted (fast shutdown), the frontend restarted while `run` follows. Every run
 * completes; no step the model answered (HTTP 200) is sent twice except the one in flight at the fault, counted
 * from the offline model's request log; `checkpoints list` keeps every checkpoint.
 */
import { join } from 'node:path';
import type { RunOutcome } from '../../src';
import { readOfflineLlmLog } from '../../src/llm/offline-server';
import { cleanEnv, cli, collect, spawnCli, waitForOutput, writeConfig } from '../cli-helpers';
import { testAddress, uniqueId } from '../helpers';
import { Cluster, type Service } from '../../tools/cluster/cluster';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;
const cluster = new Cluster({ log: () => {} });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What a fault did to a run, from its outcome, its checkpoints and the model's request log. */
interface FaultReport {
  /** How long applying the fault took (the service or database down, then back). */
  faultMs: number;
  outcome: RunOutcome;
  /** Requests per step, in step order: "step:agent ×n (statuses)". */
  requests: string[];
  /** Steps sent more than once after an answer of 200. */
  paidTwice: number[];
  checkpoints: number[];
}

/**
 * Runs the standard task with 800 ms model latency, applies `fault` once step 3 is done, and reports. The run
 * hosts its worker (as `agent-team run` does) and follows the run through the fault.
 */
async function runThrough(name: string, fault: () => Promise<void>): Promise<FaultReport> {
  const workflowId = uniqueId(name);
  const log = join(dir(), `${workflowId}.jsonl`);
  const config = writeConfig(
    dir(),
    `temporal:\n  task_queue: ${uniqueId('tq')}\nllm:\n  initial_retry_ms: 200\n  max_retry_ms: 1000\n`,
  );
  const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_LOG: log, OFFLINE_LLM_LATENCY_MS: '800' });
  const child = spawnCli(['run', TASK, '--offline', '--json', '--workflow-id', workflowId, '--config', config], env);
  const done = collect(child);
  await waitForOutput(child, /#3 +researcher/, 60_000);
  const faultAt = Date.now();
  await fault();
  const faultMs = Date.now() - faultAt;
  const result = await done;
  expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
  const outcome = JSON.parse(result.stdout) as RunOutcome;
  const entries = readOfflineLlmLog(log);
  const bySteps = new Map<number, number[]>();
  for (const e of entries) bySteps.set(e.step ?? 0, [...(bySteps.get(e.step ?? 0) ?? []), e.status]);
  const listed = await cli(['checkpoints', 'list', '-w', workflowId, '--json', '--config', config], env);
  const checkpoints = (JSON.parse(listed.stdout) as { step: number }[]).map((c) => c.step);
  return {
    faultMs,
    outcome,
    requests: [...bySteps].map(([step, statuses]) => `${step}:${statuses.length}×(${statuses.join(',')})`),
    paidTwice: [...bySteps]
      .filter(([, statuses]) => statuses.filter((s) => s === 200).length > 1)
      .map(([step]) => step),
    checkpoints: checkpoints.sort((a, b) => a - b),
  };
}

function expectIntact(report: FaultReport): void {
  expect(report.outcome.status).toBe('COMPLETED');
  expect(report.outcome.steps).toHaveLength(9);
  // At most the step in flight at the fault was sent again after an answer.
  expect(report.paidTwice.length).toBeLessThanOrEqual(1);
  expect(report.checkpoints).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  process.stderr.write(
    `  ${expect.getState().currentTestName}: fault ${report.faultMs} ms; ${report.outcome.status}, ` +
      `${report.outcome.steps.length} steps; requests per step ${report.requests.join(' ')}; ` +
      `answered 200 twice: [${report.paidTwice.join(',')}]; checkpoints ${report.checkpoints.length}\n`,
  );
}

/** Stops `service` as told, checks it is gone, waits, starts it again: a new process. */
async function bounce(service: Service, signal: NodeJS.Signals, downMs: number): Promise<void> {
  const before = cluster.status().services[service].pid;
  await cluster.stopService(service, signal);
  expect(cluster.status().services[service].running).toBe(false);
  await sleep(downMs);
  cluster.startService(service);
  const after = cluster.status().services[service];
  expect(after.running).toBe(true);
  expect(after.pid).not.toBe(before);
}

describe('faults on the cluster', () => {
  it('the history service SIGKILLed mid-run and restarted 2 s later', async () => {
    const report = await runThrough('history-kill', () => bounce('history', 'SIGKILL', 2_000));
    expectIntact(report);
  }, 180_000);

  it('the matching service restarted mid-run', async () => {
    const report = await runThrough('matching-restart', () => bounce('matching', 'SIGTERM', 0));
    expectIntact(report);
  }, 180_000);

  it('PostgreSQL restarted (fast shutdown) mid-run', async () => {
    const report = await runThrough('postgres-restart', async () => {
      cluster.stopPostgres('fast');
      expect(cluster.status().postgres.running).toBe(false);
      await sleep(2_000);
      cluster.startPostgres();
    });
    expectIntact(report);
  }, 180_000);

  it('the frontend restarted while `run` follows', async () => {
    const report = await runThrough('frontend-restart', () => bounce('frontend', 'SIGTERM', 1_000));
    expectIntact(report);
  }, 180_000);
});
