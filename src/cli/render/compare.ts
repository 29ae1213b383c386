/**
 * `compare` on a terminal: the shared steps once, then from the divergence each step with every branch's answer
 * (the first branch's as it is, the others' as word-level changes from it), the final answers, and the totals.
 * Everything fits `width` columns (the terminal's, else 80).
 */
import type { Comparison, ComparedStep, WordDiff } from '../../branches/compare';
import { oneLine } from '../../shared/util';
import { escapeHtml } from './timeline';
import { usd } from './text';

const label = (s: ComparedStep): string => `${s.agent} ${s.kind === 'tool' && s.tool ? `tool ${s.tool.name}` : s.kind}`;

/** A difference inline: `[-removed-]{+added+}`, on one line cut to `max` columns around the first change. */
export function inlineDiff(d: WordDiff, max: number): string {
  if (d.same) return '(same)';
  const text = d.parts
    .map((p) => (p.added ? `{+${p.text}+}` : p.removed ? `[-${p.text}-]` : p.text))
    .join('')
    .replace(/\s+/g, ' ');
  const first = Math.max(0, text.search(/\{\+|\[-/) - 20);
  const from = first > 0 ? `…${text.slice(first)}` : text;
  return oneLine(from, max);
}

/** `indent` then `text` on one line, the whole within `width` columns. */
const line = (indent: string, text: string, width: number): string => indent + oneLine(text, width - indent.length);

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length);
}

export function renderComparison(c: Comparison, width = 80): string {
  const names = c.branches.map((b) => b.workflowId);
  const nameWidth = Math.min(24, Math.max(...names.map((n) => n.length)));
  const text = width - nameWidth - 6;
  const lines: string[] = [];
  lines.push(`Comparing ${names.join(', ')}`);
  for (const b of c.branches) {
    if (b.status === 'GONE')
      lines.push(`  ${b.workflowId}: gone (pruned, or past retention): known up to its forks' start`);
    else if (b.forkOf)
      lines.push(
        line(
          '  ',
          `${b.workflowId}: a fork of ${b.forkOf.workflowId}@${b.forkOf.step}` +
            `${b.forkOf.edits.length ? ` (edited: ${b.forkOf.edits.join(', ')})` : ''}`,
          width,
        ),
      );
  }
  if (c.shared.length > 0) {
    lines.push('', `Shared: steps 1–${c.shared.length}`);
    for (const s of c.shared) lines.push(line(`  ${String(s.step).padStart(3)}  `, `${label(s)}: ${s.answer}`, width));
  } else lines.push('', 'Shared: no steps');
  if (c.divergesAt === null) lines.push('', 'The branches are alike throughout.');
  else {
    lines.push('', `From step ${c.divergesAt} they differ:`);
    // What each step was (reused, replayed, its tokens), in a column as wide as the widest, and a space.
    const metaWidth = Math.max(10, ...c.rows.flatMap((r) => r.steps.map((s) => (s ? metaOf(s).length + 1 : 0))));
    for (const row of c.rows) {
      const kinds = [...new Set(row.steps.flatMap((s) => (s ? [label(s)] : [])))];
      lines.push(`  step ${row.step} · ${kinds.join(' | ')}`);
      row.steps.forEach((s, i) => {
        const who = pad(names[i]!, nameWidth);
        if (!s) return lines.push(`    ${who}  (no such step)`);
        const diff = row.diffs[i];
        const body = diff ? inlineDiff(diff, Math.max(20, text - 12)) : s.answer;
        lines.push(line(`    ${who}  ${pad(metaOf(s), metaWidth)}`, body, width));
      });
    }
  }
  lines.push('', 'Final answers:');
  c.finals.forEach((f, i) => {
    const who = pad(names[i]!, nameWidth);
    const body = f.answer === null ? '(none)' : f.diff ? inlineDiff(f.diff, text) : f.answer;
    lines.push(line(`  ${who}  `, body, width));
  });
  lines.push('', 'Totals:');
  const col = Math.max(12, Math.min(nameWidth, Math.floor((width - 14) / names.length) - 1));
  lines.push(`  ${pad('', 11)}${names.map((n) => pad(n, col)).join(' ')}`);
  const row = (what: string, values: string[]): string =>
    `  ${pad(what, 11)}${values.map((v) => pad(v, col)).join(' ')}`;
  lines.push(
    row(
      'steps',
      c.totals.map((t) => String(t.steps)),
    ),
  );
  lines.push(
    row(
      'sent',
      c.totals.map((t) => String(t.sent)),
    ),
  );
  lines.push(
    row(
      'LLM calls',
      c.totals.map((t) => String(t.llmCalls)),
    ),
  );
  lines.push(
    row(
      'tokens',
      c.totals.map((t) => t.tokens.toLocaleString('en-US')),
    ),
  );
  lines.push(
    row(
      'USD',
      c.totals.map((t) => usd(t.costUsd)),
    ),
  );
  lines.push(
    row(
      'wall time',
      c.totals.map((t) => (t.wallMs === null ? '–' : `${(t.wallMs / 1000).toFixed(1)} s`)),
    ),
  );
  return lines.join('\n');
}

/** A word difference in HTML: removed words struck through, added ones highlighted. */
function htmlDiff(d: WordDiff): string {
  return d.parts
    .map((p) =>
      p.added
        ? `<ins>${escapeHtml(p.text)}</ins>`
        : p.removed
          ? `<del>${escapeHtml(p.text)}</del>`
          : escapeHtml(p.text),
    )
    .join('');
}

/** One self-contained HTML page: the shared steps once, then a column per branch from the divergence, and totals. */
export function renderComparisonHtml(c: Comparison): string {
  const names = c.branches.map((b) => b.workflowId);
  const origin = c.branches
    .map((b) =>
      b.status === 'GONE'
        ? `<li><code>${escapeHtml(b.workflowId)}</code>: gone (pruned, or past retention), known up to where its forks start</li>`
        : b.forkOf
          ? `<li><code>${escapeHtml(b.workflowId)}</code>: a fork of <code>${escapeHtml(b.forkOf.workflowId)}@${b.forkOf.step}</code>` +
            `${b.forkOf.edits.length ? ` (edited: ${escapeHtml(b.forkOf.edits.join(', '))})` : ''}</li>`
          : `<li><code>${escapeHtml(b.workflowId)}</code>: ${escapeHtml(b.status.toLowerCase())}</li>`,
    )
    .join('');
  const cell = (s: ComparedStep | null, diff: WordDiff | null): string => {
    if (!s) return '<td class="none">(no such step)</td>';
    const how = s.reused
      ? 'reused'
      : s.tool?.replayedFrom
        ? `replayed from ${escapeHtml(s.tool.replayedFrom)}`
        : s.tool?.notRun
          ? 'not run'
          : s.tool
            ? 'ran'
            : `${s.tokens.toLocaleString('en-US')} tokens`;
    const body = diff
      ? diff.same
        ? '<span class="same">(same as the first)</span>'
        : htmlDiff(diff)
      : escapeHtml(s.answer);
    return `<td><div class="meta">${escapeHtml(label(s))} · ${how}</div><div class="text">${body}</div></td>`;
  };
  const shared = c.shared
    .map(
      (s) =>
        `<tr><td>#${s.step}</td><td>${escapeHtml(label(s))}</td><td class="text">${escapeHtml(s.answer)}</td></tr>`,
    )
    .join('');
  const rows = c.rows
    .map((row) => `<tr><th>#${row.step}</th>${row.steps.map((s, i) => cell(s, row.diffs[i] ?? null)).join('')}</tr>`)
    .join('');
  const finals = c.finals
    .map(
      (f) => `<td class="text">${f.answer === null ? '(none)' : f.diff ? htmlDiff(f.diff) : escapeHtml(f.answer)}</td>`,
    )
    .join('');
  const total = (what: string, f: (t: Comparison['totals'][number]) => string): string =>
    `<tr><th>${what}</th>${c.totals.map((t) => `<td>${f(t)}</td>`).join('')}</tr>`;
  const head = `<tr><th></th>${names.map((n) => `<th><code>${escapeHtml(n)}</code></th>`).join('')}</tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Comparing ${escapeHtml(names.join(', '))}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%;margin:1em 0}td,th{border:1px solid #ddd;padding:.4em;vertical-align:top;text-align:left}
.text{white-space:pre-wrap;word-break:break-word}.meta{color:#666;font-size:12px;margin-bottom:.3em}
ins{background:#d4f7d4;text-decoration:none}del{background:#f9d0d0}.same,.none{color:#888}
</style></head><body>
<h1>Comparing ${names.map((n) => `<code>${escapeHtml(n)}</code>`).join(', ')}</h1>
<ul>${origin}</ul>
<h2>Shared: ${c.shared.length ? `steps 1–${c.shared.length}` : 'no steps'}</h2>
<table>${shared}</table>
<h2>${c.divergesAt === null ? 'The branches are alike throughout' : `From step ${c.divergesAt} they differ`}</h2>
<table>${head}${rows}</table>
<h2>Final answers</h2>
<table>${head}<tr><th></th>${finals}</tr></table>
<h2>Totals</h2>
<table>${head}${total('steps', (t) => String(t.steps))}${total('sent', (t) => String(t.sent))}${total('LLM calls', (t) => String(t.llmCalls))}${total('tokens', (t) => t.tokens.toLocaleString('en-US'))}${total('USD', (t) => usd(t.costUsd))}${total('wall time', (t) => (t.wallMs === null ? '–' : `${(t.wallMs / 1000).toFixed(1)} s`))}</table>
</body></html>`;
}

/** How a step came about in a branch: reused from its source, a tool call replayed, not run or run, or its tokens. */
function metaOf(s: ComparedStep): string {
  if (s.reused) return 'reused';
  if (s.tool?.replayedFrom) return 'replayed';
  if (s.tool?.notRun) return 'not run';
  if (s.tool) return 'ran';
  return `${s.tokens.toLocaleString('en-US')} tok`;
}
