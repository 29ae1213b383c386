/**
 * Seeing a run: `history`, `timeline` (text, mermaid, html in headless Chromium) and `checkpoints diff`, through
 * the CLI on the shared server, over a reset chain with a retried step.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { RunOutcome } from '../../src';
import type { AuditTrail } from '../../src/history/audit';
import type { CheckpointDiff } from '../../src/checkpoints/diff';
import { cleanEnv, cli, writeConfig } from '../cli-helpers';
import { CHROMIUM_ARGS, findChromium } from '../browser';
import { testAddress, uniqueId } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const AGENTS = ['orchestrator', 'researcher', 'coder', 'analyst'];
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

describe('history, timeline and diff of a reset chain', () => {
  let env: NodeJS.ProcessEnv;
  let config: string;
  let first: RunOutcome;
  let second: RunOutcome;

  beforeAll(async () => {
    env = cleanEnv({ TEMPORAL_ADDRESS: testAddress() });
    config = writeConfig(
      dir(),
      `temporal:\n  task_queue: ${uniqueId('tq')}\nllm:\n  initial_retry_ms: 50\n  max_retry_ms: 100\n`,
    );
    // The researcher's first call gets an HTTP 500: Temporal retries it (attempt 2).
    const run = await cli(['run', TASK, '--offline', '--json', '--config', config], {
      ...env,
      OFFLINE_LLM_FAULTS: 'researcher:1:transient',
    });
    expect(run.code).toBe(0);
    first = JSON.parse(run.stdout) as RunOutcome;
    const at3 = first.checkpoints.find((c) => c.step === 3)!;
    const resumed = await cli(['resume', at3.checkpointId, '--offline', '--json', '--config', config], env);
    expect(resumed.code).toBe(0);
    second = JSON.parse(resumed.stdout) as RunOutcome;
  });

  it('history --json is the audit trail: steps with instruction, answer, model, tokens, attempts, times; resets with who and why', async () => {
    const res = await cli(['history', first.workflowId, '--json', '--config', config], env);
    expect(res.code).toBe(0);
    const trail = JSON.parse(res.stdout) as AuditTrail;
    expect(trail.task).toBe(TASK);
    expect(trail.runs.map((r) => r.runId)).toEqual([first.runId, second.runId]);
    const [a, b] = trail.runs as [AuditTrail['runs'][0], AuditTrail['runs'][0]];
    expect(a.steps).toHaveLength(9);
    const researcher = a.steps[2]!;
    expect(researcher).toMatchObject({
      step: 3,
      agent: 'researcher',
      kind: 'agent',
      attempts: 2,
      model: 'gpt-4o-mini',
    });
    expect(researcher.instruction).toContain('researcher');
    expect(researcher.answer).toContain('Key facts');
    expect(researcher.usage.promptTokens).toBeGreaterThan(0);
    for (const s of a.steps) expect(Date.parse(s.completedAt!)).toBeGreaterThanOrEqual(Date.parse(s.scheduledAt!));
    expect(b.resetFrom).toMatchObject({
      fromRunId: first.runId,
      keptSteps: 3,
      requestedBy: userInfo().username,
      reason: 'agent-team resume from checkpoint at step 3',
    });
    expect(b.steps.filter((s) => s.kept).map((s) => s.step)).toEqual([1, 2, 3]);
    expect(b.usage.llmCalls).toBe(6);

    const text = await cli(['history', first.workflowId, '--config', config], env);
    expect(text.stdout).toContain(`↺ reset at `);
    // (Lines are wrapped for an 80-column terminal.)
    expect(text.stdout.replace(/\n\s+/g, ' ')).toContain(`by ${userInfo().username} from run ${first.runId}`);
    expect(Math.max(...text.stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(text.stdout).toContain('asked: As the researcher');
  });

  it('timeline as text and as a mermaid gantt chart', async () => {
    const text = await cli(['timeline', first.workflowId, '--config', config], env);
    expect(text.code).toBe(0);
    for (const agent of AGENTS) expect(text.stdout).toContain(agent);
    expect(text.stdout.replace(/\n\s+/g, ' ')).toContain(
      `reset from run ${first.runId.slice(0, 8)} after step 3 by ${userInfo().username}`,
    );
    expect(text.stdout).toMatch(/#3\s+researcher .* ×2 /);
    expect(Math.max(...text.stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    const mermaid = await cli(['timeline', first.workflowId, '--format', 'mermaid', '--config', config], env);
    const lines = mermaid.stdout.trim().split('\n');
    expect(lines[0]).toBe('gantt');
    expect(lines.filter((l) => l.trim().startsWith('section '))).toHaveLength(2);
    expect(lines.filter((l) => l.includes(':milestone,'))).toHaveLength(1);
    // 9 steps in run 1, 6 executed by run 2; the retried step is marked active.
    expect(lines.filter((l) => /:(done|active), s\d+, \d+, \d+$/.test(l))).toHaveLength(15);
    expect(lines.filter((l) => l.includes(':active,'))).toHaveLength(1);
  });

  it('the html timeline opens in headless Chromium and shows each agent in each run (screenshot kept)', async () => {
    const page = join(dir(), `${uniqueId('timeline')}.html`);
    const res = await cli(['timeline', first.workflowId, '--format', 'html', '-o', page, '--config', config], env);
    expect(res.stderr).toContain(`html timeline of ${first.workflowId} (2 run(s)) → ${page}`);
    expect(readFileSync(page, 'utf8')).not.toMatch(/<script|src="http|href="http/); // self-contained
    const browser = await chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
    try {
      const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await tab.goto(`file://${page}`);
      expect(await tab.title()).toBe(`Timeline · ${first.workflowId}`);
      const runs = tab.locator('section.run');
      expect(await runs.count()).toBe(2);
      for (let i = 0; i < 2; i++) {
        const labels = await runs.nth(i).locator('.lane-label').allInnerTexts();
        expect(labels).toEqual(AGENTS);
        for (const agent of AGENTS)
          expect(await runs.nth(i).locator('.lane-label', { hasText: agent }).isVisible()).toBe(true);
      }
      expect(await runs.nth(0).locator('.bar').count()).toBe(9);
      expect(await runs.nth(0).locator('.bar.retried').count()).toBe(1);
      expect(await runs.nth(1).locator('.bar').count()).toBe(6);
      expect(await runs.nth(1).locator('.origin').innerText()).toContain('Steps 1–3 were kept');
      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, 'timeline.png');
      await tab.screenshot({ path: shot, fullPage: true });
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
      expect(statSync(shot).size).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });

  it('checkpoints diff: the messages, rounds and tokens between two checkpoints', async () => {
    const at = (step: number) => first.checkpoints.find((c) => c.step === step)!;
    const res = await cli(
      ['checkpoints', 'diff', at(2).checkpointId, at(5).checkpointId, '--json', '--config', config],
      env,
    );
    expect(res.code).toBe(0);
    const d = JSON.parse(res.stdout) as CheckpointDiff;
    expect(d.sameLineage).toBe(true);
    expect(d.messagesAdded.map((m) => [m.step, m.agent, m.kind])).toEqual([
      [3, 'researcher', 'agent'],
      [4, 'orchestrator', 'ledger'],
      [5, 'coder', 'agent'],
    ]);
    expect(d.messagesDropped).toEqual([]);
    expect(d.round).toEqual({ from: 1, to: 2 });
    expect(d.tokens.delta).toBe(at(5).usage.totalTokens - at(2).usage.totalTokens);
    expect(d.llmCalls.delta).toBe(3);
    expect(d.planChanged).toBe(false);
    const text = await cli(['checkpoints', 'diff', at(5).checkpointId, at(2).checkpointId, '--config', config], env);
    expect(text.stdout.replace(/\n/g, ' ')).toContain('the second is an earlier point of the same conversation');
    expect(text.stdout).toContain('messages only in the first (3)');
  });

  it('names an unknown workflow (exit 2)', async () => {
    const res = await cli(['timeline', uniqueId('nope'), '--config', config], env);
    expect(res.stderr).toMatch(/no workflow "nope-[^"]+" in namespace "default"/);
    expect(res.code).toBe(2);
  });
});
