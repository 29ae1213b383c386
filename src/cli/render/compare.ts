/**
 * `compare` on a terminal: the shared steps once, then from the divergence each step with every branch's answer
 * (the first branch's as it is, the others' as word-level changes from it), the final answers, and the totals.
 * Everything fits `width` columns (the terminal's, else 80).
 */
import type { Comparison, ComparedStep, WordDiff } from '../../branches/compare';
import { oneLine } from '../../shared/util';
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
    for (const row of c.rows) {
      const kinds = [...new Set(row.steps.flatMap((s) => (s ? [label(s)] : [])))];
      lines.push(`  step ${row.step} · ${kinds.join(' | ')}`);
      row.steps.forEach((s, i) => {
        const who = pad(names[i]!, nameWidth);
        if (!s) return lines.push(`    ${who}  (no such step)`);
        const meta = s.reused
          ? 'reused'
          : s.tool?.replayedFrom
            ? 'replayed'
            : s.tool?.notRun
              ? 'not run'
              : s.tool
                ? 'ran'
                : `${s.tokens.toLocaleString('en-US')} tok`;
        const diff = row.diffs[i];
        const body = diff ? inlineDiff(diff, Math.max(20, text - 12)) : s.answer;
        lines.push(line(`    ${who}  ${pad(meta, 10)}`, body, width));
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
