/**
 * Observability: a worker's logs as JSON lines (AGENT_TEAM_LOG_FORMAT=json) carrying workflow id, run id,
 * agent and round; the SDK's metrics for Prometheus at AGENT_TEAM_METRICS_ADDRESS.
 */
import type { RunOutcome } from '../../src';
import { freePort } from '../../src/temporal/dev-server';
import { cleanEnv, cli, collect, spawnCli, waitForOutput, writeConfig } from '../cli-helpers';
import { testAddress, uniqueId } from '../helpers';

const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;

it('JSON logs with workflow, run, agent and round; Prometheus metrics', async () => {
  const metricsPort = await freePort();
  const config = writeConfig(dir(), `temporal:\n  task_queue: ${uniqueId('tq')}\n`);
  const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress() });
  const worker = spawnCli(['worker', '--offline', '--config', config], {
    ...env,
    AGENT_TEAM_LOG_FORMAT: 'json',
    AGENT_TEAM_LOG_LEVEL: 'INFO',
    AGENT_TEAM_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
  });
  const exited = collect(worker);
  try {
    await waitForOutput(worker, /Worker polling task queue/);
    const run = await cli(['run', 'Compare quicksort and mergesort', '--no-worker', '--json', '--config', config], env);
    expect(run.code).toBe(0);
    const outcome = JSON.parse(run.stdout) as RunOutcome;
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^temporal_activity_execution_latency\w*\{/m);
    expect(metrics).toMatch(/^temporal_workflow_task_execution_latency\w*\{/m);
    worker.kill('SIGTERM');
    const { stderr } = await exited;
    const lines = stderr.trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>); // every line is JSON
    const steps = records.filter((r) => r.message === 'Agent step completed' && r.workflowId === outcome.workflowId);
    expect(steps).toHaveLength(9);
    expect(steps[0]).toMatchObject({
      level: 'INFO',
      workflowRunId: outcome.runId, // the SDK's field names: workflowId, workflowRunId, activityType, attempt
      agent: 'orchestrator',
      round: 0,
      kind: 'plan',
      step: 1,
      activityType: 'callAgent',
    });
    expect(new Set(steps.map((s) => s.agent))).toEqual(new Set(['orchestrator', 'researcher', 'coder', 'analyst']));
    expect(records.some((r) => r.message === 'Worker stopped.')).toBe(true);
  } finally {
    if (worker.exitCode === null) worker.kill('SIGKILL');
    await exited;
  }
});
