/**
 * Any workflow id Temporal accepts works: accents, CJK, emoji, right-to-left text, quotes and backslashes, spaces
 * and 1,000 characters, each through the everyday path (run with a gate and a tool call, pending, approve, follow,
 * checkpoints list/show, history, timeline, resume, export and import --restore), with the offline model's request
 * log reading the id back from the step headers. An id Temporal refuses is refused with Temporal's reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { readOfflineLlmLog } from '../../src/llm/offline-server';
import { cleanEnv, cli, writeConfig } from '../cli-helpers';
import { testAddress, uniqueId } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;

/** Ids of each kind; a unique suffix keeps reruns apart (the 1,000-character one is cut back to 1,000). */
const IDS: [string, (suffix: string) => string][] = [
  ['accents', (s) => `équipe-ñandú-çà-${s}`],
  ['CJK', (s) => `团队-チーム-팀-${s}`],
  ['emoji', (s) => `équipe-🚀-👩‍💻-${s}`],
  ['right-to-left', (s) => `فريق-צוות-${s}`],
  ['quotes and backslashes', (s) => `it's "quoted" \\ back\\slash \`tick\` $HOME @2-${s}`],
  ['spaces', (s) => `a team  with spaces ${s}`],
  ['1,000 characters', (s) => `${s}-${'x'.repeat(1000)}`.slice(0, 1000)],
];

type Json = Record<string, unknown>;

describe('any workflow id Temporal accepts works', () => {
  let client: Client;
  beforeAll(async () => {
    client = new Client({ connection: await Connection.connect({ address: testAddress() }) });
  });
  afterAll(async () => client.connection.close());

  it.each(IDS)(
    '%s',
    async (_kind, make) => {
      const workflowId = make(uniqueId('id'));
      const logPath = join(dir(), `${uniqueId('llm')}.jsonl`);
      const config = writeConfig(
        dir(),
        `temporal:\n  task_queue: ${uniqueId('odd')}\ngates:\n  plan_review: true\n` +
          `agents:\n  orchestrator: {}\n  researcher: {}\n  coder:\n    tools: [run_code]\n  analyst: {}\n`,
      );
      const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_LOG: logPath });
      const agentTeam = async (...args: string[]): Promise<{ stdout: string; stderr: string }> => {
        const res = await cli([...args, '--config', config], env);
        if (res.code !== 0) throw new Error(`agent-team ${args[0]} exited ${res.code}:\n${res.stderr}`);
        return res;
      };
      const parsed = async <T = Json>(...args: string[]): Promise<T> =>
        JSON.parse((await agentTeam(...args, '--json')).stdout) as T;

      // run, waiting on the plan review; pending lists it; approve; follow runs it through a tool call.
      const started = await parsed('run', TASK, '--workflow-id', workflowId, '--offline', '--detach');
      expect(started).toMatchObject({ workflowId, status: 'RUNNING', waiting: { kind: 'plan_review' } });
      const pending = await parsed<{ workflowId: string }[]>('pending', workflowId);
      expect(pending.map((p) => p.workflowId)).toEqual([workflowId]);
      await agentTeam('approve', workflowId);
      const done = await parsed<{ status: string }>('follow', workflowId, '--offline');
      expect(done.status).toBe('COMPLETED');
      // The model read the id back from the step headers (percent-encoded), whole.
      const requests = readOfflineLlmLog(logPath);
      expect(requests.length).toBeGreaterThan(5);
      expect(new Set(requests.map((r) => r.workflowId))).toEqual(new Set([workflowId]));
      // list, show, history, timeline.
      const listed = await parsed<{ shortId: string; step: number }[]>('checkpoints', 'list', '-w', workflowId);
      expect(listed.length).toBeGreaterThan(8);
      expect(listed[0]!.shortId).toBe(`${workflowId}@${listed[0]!.step}`);
      const shown = await parsed<{ workflowId: string; step: number }>('checkpoints', 'show', `${workflowId}@3`);
      expect(shown).toMatchObject({ workflowId, step: 3 });
      type Trail = { workflowId: string; runs: { steps: { answer: string; tool?: { idempotencyKey: string } }[] }[] };
      const trail = await parsed<Trail>('history', workflowId);
      expect(trail.workflowId).toBe(workflowId);
      // The tool call ran, its idempotency key plain ASCII whatever the id (run_code prints the one it ran under).
      const tool = trail.runs[0]!.steps.find((st) => st.tool);
      expect(tool?.tool?.idempotencyKey.startsWith(`${encodeURIComponent(workflowId)}/`)).toBe(true);
      expect(tool?.answer).toContain(`idempotency key: ${tool?.tool?.idempotencyKey}`);
      const timeline = await agentTeam('timeline', workflowId);
      expect(timeline.stdout).toContain('run 1');

      // resume (time travel from a completed run), then export and restore elsewhere.
      const resumed = await parsed<{ status: string; reusedSteps: number }>('resume', `${workflowId}@4`, '--offline');
      expect(resumed).toMatchObject({ status: 'COMPLETED', reusedSteps: 4 });
      const file = join(dir(), `${uniqueId('export')}.json`);
      await agentTeam('checkpoints', 'export', workflowId, '-o', file);
      expect((JSON.parse(readFileSync(file, 'utf8')) as { manifest: Json }).manifest).toMatchObject({ workflowId });
      const restored = await parsed<{ workflowId: string; status: string }>(
        'checkpoints',
        'import',
        file,
        '--restore',
        'latest',
        '--offline',
      );
      expect(restored.status).toBe('COMPLETED');
      expect(Buffer.byteLength(restored.workflowId)).toBeLessThanOrEqual(1000);
      expect(restored.workflowId.startsWith(workflowId.slice(0, 900))).toBe(true);
    },
    120_000,
  );

  it('an id Temporal refuses: its reason, exit 2, nothing started', async () => {
    const workflowId = `${uniqueId('long')}-${'y'.repeat(1000)}`;
    const logPath = join(dir(), `${uniqueId('llm')}.jsonl`);
    const config = writeConfig(dir(), `temporal:\n  task_queue: ${uniqueId('refused')}\n`);
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_LOG: logPath });
    const res = await cli(['run', TASK, '--workflow-id', workflowId, '--offline', '--config', config], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Temporal refused to start workflow id "long-.*…" \(\d+ bytes\): .*length/);
    await expect(client.workflow.getHandle(workflowId).describe()).rejects.toThrow();
    expect(readOfflineLlmLog(logPath)).toEqual([]);
  });
});
