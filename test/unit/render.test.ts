/** The timeline and audit renderings of a workflow's audit trail (built here by hand: no server). */
import type { AuditRun, AuditStep, AuditTrail } from '../../src/history/audit';
import { renderAudit } from '../../src/cli/render/audit';
import { renderTimeline } from '../../src/cli/render/timeline';

const t = (s: number): string => new Date(Date.UTC(2026, 10, 30, 6, 0, s)).toISOString();
function step(n: number, agent: string, extra: Partial<AuditStep> = {}): AuditStep {
  return {
    step: n,
    kind: agent === 'orchestrator' ? 'ledger' : 'agent',
    agent,
    round: Math.floor(n / 2),
    answer: `${agent} <answer> ${n}`,
    model: 'm',
    usage: { promptTokens: 100, completionTokens: 20 },
    costUsd: 0.000027,
    attempts: 1,
    scheduledAt: t(n * 2),
    completedAt: t(n * 2 + 1),
    durationMs: 1000,
    latencyMs: 900,
    kept: false,
    checkpointId: `cp-${n}`,
    ...extra,
  };
}
const usage = { promptTokens: 300, completionTokens: 60, llmCalls: 3, costUsd: 0.000081 };
const first: AuditRun = {
  runId: 'run-aaaaaaaa',
  status: 'FAILED',
  startedAt: t(0),
  closedAt: t(9),
  steps: [step(1, 'orchestrator'), step(2, 'researcher', { attempts: 2 }), step(3, 'orchestrator')],
  failedStep: {
    step: 4,
    kind: 'agent',
    agent: 'coder',
    round: 2,
    attempts: 4,
    scheduledAt: t(6),
    failedAt: t(8),
    message: 'HTTP 400',
  },
  autoResumes: [],
  gates: [],
  messages: [],
  usage,
};
const second: AuditRun = {
  runId: 'run-bbbbbbbb',
  status: 'COMPLETED',
  startedAt: t(20),
  closedAt: t(30),
  resetFrom: { fromRunId: 'run-aaaaaaaa', eventId: 22, keptSteps: 3, reason: 'fixed', requestedBy: 'alice', at: t(20) },
  steps: [
    step(1, 'orchestrator', { kept: true }),
    step(2, 'researcher', { kept: true }),
    step(3, 'orchestrator', { kept: true }),
    step(4, 'coder', { scheduledAt: t(21), completedAt: t(23) }),
  ],
  autoResumes: [],
  messages: [],
  gates: [
    {
      requestId: 'step_approval@3#0',
      kind: 'step_approval',
      afterStep: 3,
      question: 'Let coder run with this instruction, ask for a revised plan, or reject?',
      askedAt: t(20),
      kept: false,
      answer: { decision: 'approve', answeredBy: 'alice', at: t(21) },
    },
  ],
  usage: { promptTokens: 100, completionTokens: 20, llmCalls: 1, costUsd: 0.000027 },
};
const trail: AuditTrail = { workflowId: 'wf-1', namespace: 'default', task: 'Compare <sorts>', runs: [first, second] };

describe('renderTimeline', () => {
  it('text: a bar per executed step, the retry, the failure, and the steps a reset kept', () => {
    const text = renderTimeline(trail, 'text');
    expect(text).toContain('wf-1 · 2 run(s) · Compare <sorts>');
    expect(text).toMatch(/#2 +researcher .*█.* ×2 /);
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    const flat = text.replace(/\n\s+/g, ' ');
    expect(flat).toContain('✖ #4 coder (agent, round 2) failed after 4 attempt(s): HTTP 400');
    expect(flat).toContain('reset from run run-aaaa after step 3 by alice: fixed');
    expect(text).toContain('(steps 1-3 kept from run run-aaaa)');
    expect(text.match(/#\d+ +\w+ +r\d/g)).toHaveLength(4); // 3 + 1: kept steps are not drawn again
  });

  it('mermaid: a gantt section per run, with the reset and the failure marked', () => {
    const text = renderTimeline(trail, 'mermaid');
    expect(text.split('\n')[0]).toBe('gantt');
    expect(text.match(/^ {2}section /gm)).toHaveLength(2);
    expect(text).toMatch(/crit/);
  });

  it('html: one self-contained page, no scripts, escaped text, a lane per agent', () => {
    const html = renderTimeline(trail, 'html');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).not.toMatch(/<script|src="http|href="http/i);
    expect(html).toContain('Compare &lt;sorts&gt;');
    expect(html).not.toContain('<answer>');
    for (const agent of ['orchestrator', 'researcher', 'coder']) expect(html).toContain(agent);
  });
});

describe('renderAudit', () => {
  it('prints each run, its reset and who asked, and clips long answers unless full', () => {
    const long: AuditTrail = {
      ...trail,
      runs: [{ ...first, steps: [step(1, 'orchestrator', { answer: 'x'.repeat(1000) })] }, second],
    };
    const text = renderAudit(long);
    const flat = text.replace(/\n\s+/g, ' ');
    expect(flat).toContain(
      `↺ reset at ${t(20).replace('T', ' ').replace(/Z$/, '')} by alice from run run-aaaaaaaa (event 22): fixed`,
    );
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(text.replace(/\n\s+(│ )?/g, ' ')).toContain('(1,000 characters; --full shows all)');
    expect(renderAudit(long, { full: true })).not.toContain('--full shows all');
  });

  it('prints each question a run asked, right after the step it followed, with the answer, who and when', () => {
    const text = renderAudit(trail);
    const flat = text.replace(/\n\s+/g, ' ');
    const at = (s: number): string => t(s).replace('T', ' ').replace(/Z$/, '');
    expect(flat).toContain(`⏸ step approval asked at ${at(20)}: Let coder run with this instruction`);
    expect(flat).toContain(`✔ approve by alice at ${at(21)}`);
    // After the kept steps (1-3) of the second run, before its step 4.
    expect(text.indexOf('⏸ step approval')).toBeLessThan(text.lastIndexOf('#4 coder'));
    expect(text).toContain('#4 coder · agent · round 2 · m · 100→20 tokens · $0.0000');
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    const waiting = renderAudit({
      ...trail,
      runs: [{ ...second, status: 'RUNNING', gates: [{ ...second.gates[0]!, answer: undefined }] }],
    });
    expect(waiting).toContain('… no answer yet: the run waits');
  });
});
