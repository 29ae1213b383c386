/**
 * A run no worker serves is never silent: a command that follows a run without serving it says so within seconds
 * (naming the queue and the command that serves it), `resume --no-worker` of a run on its own queue refuses with
 * what would serve it, and an answer given to a run nobody serves says so. The hints it prints work pasted back,
 * `-c` included.
 */
import { cleanEnv, cli, collect, spawnCli, waitForOutput, writeConfig } from '../cli-helpers';
import { testAddress, uniqueId } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;
const env = (): NodeJS.ProcessEnv => cleanEnv({ TEMPORAL_ADDRESS: testAddress() });

/** Runs a printed command (`agent-team …`, words quoted for a shell only where needed) as pasted. */
const paste = (line: string): ReturnType<typeof cli> => {
  const words = line.trim().split(/\s+/);
  expect(words[0]).toBe('agent-team');
  return cli(words.slice(1), env());
};

describe('a run no worker serves is never silent', () => {
  it('run --no-worker warns within seconds, naming the queue and the worker that serves it; that worker finishes it', async () => {
    const taskQueue = uniqueId('nobody');
    const config = writeConfig(dir(), `temporal:\n  task_queue: ${taskQueue}\n`);
    const run = spawnCli(['run', TASK, '--no-worker', '--offline', '--config', config], env());
    const done = collect(run);
    const started = Date.now();
    const served = `agent-team worker --task-queue ${taskQueue} -c ${config}`;
    const warning =
      `⚠ No worker polls task queue "${taskQueue}": nothing runs this run's steps until one does.\n` +
      `    Serve it from another shell: ${served}`;
    await waitForOutput(run, new RegExp(warning.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), 20_000);
    expect(Date.now() - started).toBeLessThan(15_000);
    const worker = spawnCli(served.split(' ').slice(1), cleanEnv({ TEMPORAL_ADDRESS: testAddress() }));
    const workerDone = collect(worker);
    const res = await done;
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(`⚠ No worker polls task queue "${taskQueue}"`);
    expect(res.stdout).toMatch(/^Final answer on/m);
    worker.kill('SIGINT');
    await workerDone;
  }, 90_000);

  it('resume --no-worker of a run on its own task queue refuses, saying what would serve it; nothing changes', async () => {
    const config = writeConfig(dir(), `temporal:\n  task_queue: ${uniqueId('own')}\n`);
    const workflowId = uniqueId('own');
    const first = await cli(
      ['run', TASK, '--workflow-id', workflowId, '--offline', '--json', '--config', config],
      env(),
    );
    expect(first.code).toBe(0);
    const { runId } = JSON.parse(first.stdout) as { runId: string };
    const refused = await cli(['resume', `${workflowId}@4`, '--no-worker', '--config', config], env());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/its own task queue ".*\/.*" \(.*\), and no worker polls it/);
    expect(refused.stderr).toContain('Nothing was changed');
    expect(refused.stderr).toMatch(/agent-team worker --task-queue \S+ -c /);
    const list = await cli(['checkpoints', 'list', '-w', workflowId, '--json', '--config', config], env());
    expect(new Set((JSON.parse(list.stdout) as { runId: string }[]).map((c) => c.runId))).toEqual(new Set([runId]));
  }, 60_000);

  it('after run -c FILE --detach, the printed approve works pasted, and says that no worker serves the run', async () => {
    const config = writeConfig(dir(), `temporal:\n  task_queue: ${uniqueId('gated')}\ngates:\n  plan_review: true\n`);
    const detached = await cli(['run', TASK, '--offline', '--detach', '--config', config], env());
    expect(detached.code).toBe(0);
    const approve = /^\s*(agent-team approve .*)$/m.exec(detached.stderr)?.[1];
    expect(approve).toMatch(/^agent-team approve \S+ -c /);
    // At once, while the detached `run` still shows as a recent poller of its queue: its process is gone.
    const answered = await paste(approve!);
    expect(answered.code).toBe(0);
    expect(answered.stdout).toContain('approve taken');
    expect(answered.stderr).toContain('No worker serves the run now');
    const follow = /continue it \(a worker, and its steps\) with (agent-team follow .*)$/m.exec(answered.stderr)?.[1];
    expect(follow).toMatch(/ -c /);
    const followed = await paste(`${follow!} --offline`);
    expect(followed.code).toBe(0);
    expect(followed.stderr).toContain('✔ COMPLETED');
  }, 90_000);
});
