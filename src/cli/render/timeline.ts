/**
 * Drawing a workflow's audit trail (src/audit.ts) as a timeline: plain text for the terminal, Mermaid (a
 * gantt chart) for docs, and a single self-contained HTML page (no scripts, no external assets) with one
 * lane per agent, each run of the reset chain in turn, where resets branched off, and every step's details.
 */
import { originText } from '../../checkpoints/derive';
import type { AuditGate, AuditRun, AuditStep, AuditTrail } from '../../history/audit';
import { requestTitle, usd } from './text';
import { kindLabel } from '../../../workflows/labels';
import { wrap } from '../../shared/util';

export const TIMELINE_FORMATS = ['text', 'mermaid', 'html'] as const;
export type TimelineFormat = (typeof TIMELINE_FORMATS)[number];

const n = (x: number): string => x.toLocaleString('en-US');
const short = (id: string): string => id.slice(0, 8);
const oneLine = (s: string, max: number): string => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
};
const duration = (msValue: number | null): string =>
  msValue === null ? '?' : msValue < 1000 ? `${msValue} ms` : `${(msValue / 1000).toFixed(1)} s`;
const what = (s: Pick<AuditStep, 'kind' | 'instruction' | 'replan'>): string =>
  s.kind === 'agent' ? oneLine(s.instruction ?? 'agent', 40) : kindLabel(s);

/** `plan review after step 1: approve by alice at 10:00:05 (asked 10:00:01)`, or that it still waits. */
function gateText(g: AuditGate): string {
  const clock = (iso: string | null): string => (iso ? iso.slice(11, 19) : '?');
  const head = `${requestTitle(g.kind)} after step ${g.afterStep}`;
  const a = g.answer;
  if (!a) return `${head}: waiting since ${clock(g.askedAt)}`;
  const what =
    a.decision === 'add_budget'
      ? `add ${[a.addUsd ? usd(a.addUsd) : null, a.addTokens ? `${n(a.addTokens)} tokens` : null].filter(Boolean).join(' and ')}`
      : a.decision;
  const who = a.timedOut ? ' (no answer in time)' : ` by ${a.answeredBy ?? 'unknown'}`;
  const note = a.feedback ?? a.reason;
  return `${head}: ${what}${who} at ${clock(a.at)} (asked ${clock(g.askedAt)})${note ? `: ${oneLine(note, 120)}` : ''}`;
}

const cost = (run: AuditRun): string => (run.usage.costUsd > 0 ? ` (${usd(run.usage.costUsd)})` : '');

function runHeading(run: AuditRun, i: number): string {
  const origin = run.resetFrom
    ? ` · reset from run ${short(run.resetFrom.fromRunId)} after step ${run.resetFrom.keptSteps}` +
      `${run.resetFrom.requestedBy ? ` by ${run.resetFrom.requestedBy}` : ''}: ${run.resetFrom.reason}`
    : run.restoredFrom
      ? run.restoredFrom.fork || run.restoredFrom.followUp || run.restoredFrom.continued
        ? ` · ${originText(run.restoredFrom)}`
        : ` · restored from ${run.restoredFrom.workflowId} run ${short(run.restoredFrom.runId)} (${run.restoredFrom.steps} steps carried over)`
      : '';
  return `run ${i + 1} (${run.runId}) ${run.status}${origin}`;
}

/** Lines of at most 80 columns: `text` wrapped, continuation lines indented by `indent`. */
const fit = (text: string, indent = '  '): string[] =>
  wrap(text, 80 - indent.length).map((l, i) => (i === 0 ? l : indent + l));

/**
 * Text, for an 80-column terminal: one table per run, with a bar per step scaled to the run's span (from
 * its scheduling to its completion, retries included; `×2` marks a step that took two attempts).
 */
export function renderText(trail: AuditTrail): string {
  const lines = fit(`${trail.workflowId} · ${trail.runs.length} run(s) · ${oneLine(trail.task, 120)}`);
  trail.runs.forEach((run, i) => {
    lines.push('', ...fit(runHeading(run, i)));
    const own = run.steps.filter((s) => !s.kept);
    if (run.resetFrom?.keptSteps)
      lines.push(`  (steps 1-${run.resetFrom.keptSteps} kept from run ${short(run.resetFrom.fromRunId)})`);
    const start = own[0]?.scheduledAt ?? run.startedAt;
    const end = run.closedAt ?? own.at(-1)?.completedAt ?? start;
    const span = Math.max(1, (end ? Date.parse(end) : 0) - (start ? Date.parse(start) : 0));
    const WIDTH = 20;
    if (own.length)
      lines.push(
        `  ${'step'.padEnd(4)} ${'agent'.padEnd(13)} ${'round'.padEnd(5)} ${'span'.padEnd(WIDTH + 12)} tokens  kind`,
      );
    for (const s of own) {
      const from = s.scheduledAt && start ? Date.parse(s.scheduledAt) - Date.parse(start) : 0;
      const offset = Math.min(WIDTH - 1, Math.floor((from / span) * WIDTH));
      const width = Math.max(1, Math.round(((s.durationMs ?? 0) / span) * WIDTH));
      const bar = ' '.repeat(offset) + '█'.repeat(Math.min(width, WIDTH - offset));
      lines.push(
        `  #${String(s.step).padEnd(3)} ${s.agent.padEnd(13)} r${String(s.round).padEnd(4)} ${bar.padEnd(WIDTH)} ` +
          `${duration(s.durationMs).padStart(8)} ${(s.attempts > 1 ? `×${s.attempts}` : '').padEnd(2)} ` +
          `${n(s.usage.promptTokens + s.usage.completionTokens).padStart(6)}  ${kindLabel(s)}`,
      );
    }
    for (const g of run.gates.filter((x) => !x.kept)) lines.push(...fit(`  ⏸ ${gateText(g)}`, '    '));
    for (const note of run.autoResumes) lines.push(...fit(`  ↻ ${note}`, '    '));
    if (run.stopped)
      lines.push(
        ...fit(`  ⏹ ${run.stopped.how} by ${run.stopped.requestedBy ?? 'unknown'}: ${run.stopped.reason}`, '    '),
      );
    if (run.failedStep) {
      const f = run.failedStep;
      lines.push(
        ...fit(
          `  ✖ #${f.step} ${f.agent} (${kindLabel(f)}, round ${f.round}) failed after ${f.attempts} attempt(s): ${oneLine(f.message, 200)}`,
          '    ',
        ),
      );
    }
    lines.push(
      `  ${own.length} steps executed, ${n(run.usage.promptTokens + run.usage.completionTokens)} tokens in ${run.usage.llmCalls} LLM calls${cost(run)}`,
    );
  });
  return lines.join('\n');
}

/** Mermaid: a gantt chart, one section per run; resets and failures are marked. */
export function renderMermaid(trail: AuditTrail): string {
  const label = (s: string): string => s.replace(/[:#;]/g, ' ').replace(/\s+/g, ' ').trim();
  const lines = [
    'gantt',
    `  title ${label(`${trail.workflowId} — ${oneLine(trail.task, 60)}`)}`,
    '  dateFormat x',
    '  axisFormat %M.%S',
  ];
  let id = 0;
  trail.runs.forEach((run, i) => {
    lines.push(`  section ${label(`run ${i + 1} ${short(run.runId)} ${run.status}`)}`);
    if (run.resetFrom && run.resetFrom.at) {
      const t = Date.parse(run.resetFrom.at);
      lines.push(`  ${label(`reset after step ${run.resetFrom.keptSteps}`)} :milestone, m${id++}, ${t}, ${t}`);
    }
    for (const s of run.steps.filter((x) => !x.kept)) {
      if (!s.scheduledAt || !s.completedAt) continue;
      const start = Date.parse(s.scheduledAt);
      const end = Math.max(start + 1, Date.parse(s.completedAt));
      const tag = s.attempts > 1 ? 'active' : 'done';
      lines.push(`  ${label(`${s.step} ${s.agent} ${what(s)}`)} :${tag}, s${id++}, ${start}, ${end}`);
    }
    const f = run.failedStep;
    if (f?.scheduledAt && f.failedAt) {
      const start = Date.parse(f.scheduledAt);
      lines.push(
        `  ${label(`${f.step} ${f.agent} failed`)} :crit, f${id++}, ${start}, ${Math.max(start + 1, Date.parse(f.failedAt))}`,
      );
    }
  });
  return lines.join('\n');
}

export const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const PALETTE = ['#5b6ee1', '#2f9e77', '#d9822b', '#b04fbf', '#c43c4e', '#3b94c4', '#8a8f2c'];

/** HTML: a self-contained page with a lane per agent for each run, and the steps' details below. */
export function renderHtml(trail: AuditTrail): string {
  const agents = [
    ...new Set(
      trail.runs.flatMap((r) => [...r.steps.map((s) => s.agent), ...(r.failedStep ? [r.failedStep.agent] : [])]),
    ),
  ];
  agents.sort((a, b) => (a === 'orchestrator' ? -1 : b === 'orchestrator' ? 1 : 0));
  const color = (agent: string): string => PALETTE[agents.indexOf(agent) % PALETTE.length]!;
  const totalTokens = trail.runs.reduce((t, r) => t + r.usage.promptTokens + r.usage.completionTokens, 0);
  const totalCalls = trail.runs.reduce((t, r) => t + r.usage.llmCalls, 0);

  const runSection = (run: AuditRun, i: number): string => {
    const own = run.steps.filter((s) => !s.kept);
    const t0 = Date.parse(own[0]?.scheduledAt ?? run.startedAt ?? new Date(0).toISOString());
    const tEnd = Math.max(
      t0 + 1,
      ...own.map((s) => Date.parse(s.completedAt ?? '') || t0),
      run.failedStep?.failedAt ? Date.parse(run.failedStep.failedAt) : t0,
    );
    const pct = (t: number): number => Math.max(0, Math.min(100, ((t - t0) / (tEnd - t0)) * 100));
    const bar = (start: number, end: number, cls: string, agent: string, text: string, title: string): string =>
      `<div class="bar ${cls}" style="left:${pct(start).toFixed(2)}%;width:${Math.max(0.8, pct(end) - pct(start)).toFixed(2)}%;background:${color(agent)}" title="${escapeHtml(title)}">${escapeHtml(text)}</div>`;
    const lanes = agents
      .map((agent) => {
        const bars = own
          .filter((s) => s.agent === agent && s.scheduledAt && s.completedAt)
          .map((s) =>
            bar(
              Date.parse(s.scheduledAt!),
              Date.parse(s.completedAt!),
              s.attempts > 1 ? 'retried' : '',
              agent,
              `#${s.step}`,
              `#${s.step} ${agent} · ${kindLabel(s)} · round ${s.round} · took ${duration(s.durationMs)} (model ${duration(s.latencyMs)}) · ${s.attempts} attempt(s) · ` +
                `${s.usage.promptTokens + s.usage.completionTokens} tokens${s.instruction ? ` · ${oneLine(s.instruction, 120)}` : ''}`,
            ),
          );
        const f = run.failedStep;
        if (f && f.agent === agent && f.scheduledAt && f.failedAt) {
          bars.push(
            bar(
              Date.parse(f.scheduledAt),
              Date.parse(f.failedAt),
              'failed',
              agent,
              `✖ #${f.step}`,
              `#${f.step} failed: ${f.message}`,
            ),
          );
        }
        return `<div class="lane"><div class="lane-label" style="border-color:${color(agent)}">${escapeHtml(agent)}</div><div class="track">${bars.join('')}</div></div>`;
      })
      .join('\n');
    const origin = run.resetFrom
      ? `<p class="origin">↳ Reset from run <code>${escapeHtml(short(run.resetFrom.fromRunId))}</code> after step ${run.resetFrom.keptSteps}` +
        `${run.resetFrom.requestedBy ? ` by <b>${escapeHtml(run.resetFrom.requestedBy)}</b>` : ''}: “${escapeHtml(run.resetFrom.reason)}”. ` +
        `${run.resetFrom.keptSteps ? `Steps 1–${run.resetFrom.keptSteps} were kept, not executed again.` : 'No steps were kept.'}</p>`
      : run.restoredFrom
        ? run.restoredFrom.fork || run.restoredFrom.followUp || run.restoredFrom.continued
          ? `<p class="origin">↳ ${escapeHtml(originText(run.restoredFrom))}: ${run.restoredFrom.steps} steps of run <code>${escapeHtml(short(run.restoredFrom.runId))}</code> reused.</p>`
          : `<p class="origin">↳ Restored from <code>${escapeHtml(run.restoredFrom.workflowId)}</code> run <code>${escapeHtml(short(run.restoredFrom.runId))}</code>: ${run.restoredFrom.steps} steps carried over.</p>`
        : '';
    const rows = own
      .map(
        (s) =>
          `<tr><td>#${s.step}</td><td><span class="dot" style="background:${color(s.agent)}"></span>${escapeHtml(s.agent)}</td><td>${kindLabel(s)}</td><td>${s.round}</td>` +
          `<td>${duration(s.durationMs)} (${duration(s.latencyMs)})</td><td class="${s.attempts > 1 ? 'warn' : ''}">${s.attempts}</td><td>${n(s.usage.promptTokens)} → ${n(s.usage.completionTokens)}</td>` +
          `<td><details><summary>${escapeHtml(s.instruction ? oneLine(s.instruction, 70) : what(s))}</summary><pre>${escapeHtml(s.answer)}</pre></details></td></tr>`,
      )
      .join('\n');
    const failure = run.failedStep
      ? `<p class="failure">✖ Step #${run.failedStep.step} (${escapeHtml(run.failedStep.agent)}, round ${run.failedStep.round}) failed after ${run.failedStep.attempts} attempt(s): ${escapeHtml(run.failedStep.message)}</p>`
      : '';
    const resumes = run.autoResumes.map((a) => `<li>↻ ${escapeHtml(a)}</li>`).join('');
    const gates = run.gates
      .filter((g) => !g.kept)
      .map((g) => `<li class="${g.answer?.decision ?? 'open'}">⏸ ${escapeHtml(gateText(g))}</li>`)
      .join('');
    return `<section class="run">
<h2>Run ${i + 1} <code>${escapeHtml(run.runId)}</code> <span class="status ${run.status.toLowerCase()}">${run.status}</span></h2>
${origin}
<div class="lanes">${lanes}</div>
<div class="axis"><span>0 s</span><span>${duration(tEnd - t0)}</span></div>
${gates ? `<h3>People in the loop</h3><ul class="gates">${gates}</ul>` : ''}
${failure}${resumes ? `<ul class="resumes">${resumes}</ul>` : ''}
<table><thead><tr><th>step</th><th>agent</th><th>kind</th><th>round</th><th>span (model)</th><th>attempts</th><th>tokens in → out</th><th>instruction / answer</th></tr></thead>
<tbody>${rows}</tbody></table>
<p class="summary">${own.length} steps executed · ${n(run.usage.promptTokens + run.usage.completionTokens)} tokens in ${run.usage.llmCalls} LLM calls${escapeHtml(cost(run))}</p>
</section>`;
  };

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Timeline · ${escapeHtml(trail.workflowId)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#1d2330;background:#fbfbfd}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}code{font:12px ui-monospace,Menlo,monospace;background:#eef0f5;padding:1px 4px;border-radius:3px}
.task{color:#4a5266;margin:0 0 8px}.meta{color:#69708a;font-size:13px}
.legend span{display:inline-block;margin-right:14px}.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px;vertical-align:baseline}
.lanes{border:1px solid #dfe2ea;border-radius:6px;background:#fff}
.lane{display:flex;align-items:center;border-bottom:1px solid #eef0f5;height:34px}.lane:last-child{border-bottom:0}
.lane-label{width:120px;flex:none;padding-left:10px;border-left:4px solid;font-weight:600}
.track{position:relative;flex:1;height:24px;margin-right:10px}
.bar{position:absolute;top:2px;height:20px;border-radius:4px;color:#fff;font-size:11px;line-height:20px;padding-left:4px;overflow:hidden;white-space:nowrap;box-sizing:border-box}
.bar.retried{outline:2px dashed #e0a100}.bar.failed{background:repeating-linear-gradient(45deg,#c43c4e,#c43c4e 6px,#9e2236 6px,#9e2236 12px)!important}
.axis{display:flex;justify-content:space-between;color:#69708a;font-size:12px;margin:2px 10px 0 130px}
.status{font-size:12px;padding:2px 8px;border-radius:10px;background:#e6e8ef}.status.completed{background:#d8f3e6;color:#17603f}.status.failed{background:#fbe0e4;color:#8d1c2f}
.origin{background:#f1f4ff;border-left:3px solid #5b6ee1;padding:6px 10px;margin:6px 0}
.failure{background:#fdecef;border-left:3px solid #c43c4e;padding:6px 10px}
table{border-collapse:collapse;width:100%;margin-top:12px;background:#fff}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eef0f5;vertical-align:top}
th{font-size:12px;color:#69708a;font-weight:600}td.warn{color:#b36b00;font-weight:600}
details summary{cursor:pointer}pre{white-space:pre-wrap;max-height:320px;overflow:auto;background:#f6f7fa;padding:8px;border-radius:4px}
.summary{color:#4a5266}h3{font-size:14px;margin:14px 0 4px}
.gates li{margin:2px 0}.gates li.open{color:#b36b00;font-weight:600}.gates li.reject{color:#8d1c2f}
</style></head>
<body>
<h1>Agent team timeline · <code>${escapeHtml(trail.workflowId)}</code></h1>
<p class="task">${escapeHtml(trail.task)}</p>
<p class="meta">${trail.runs.length} run(s) · ${totalCalls} LLM calls · ${n(totalTokens)} tokens · namespace ${escapeHtml(trail.namespace)}</p>
<p class="legend">${agents.map((a) => `<span><span class="dot" style="background:${color(a)}"></span>${escapeHtml(a)}</span>`).join('')}</p>
${trail.runs.map(runSection).join('\n')}
</body></html>
`;
}

export function renderTimeline(trail: AuditTrail, format: TimelineFormat): string {
  return format === 'html' ? renderHtml(trail) : format === 'mermaid' ? renderMermaid(trail) : renderText(trail);
}
