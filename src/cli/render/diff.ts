/** `checkpoints diff` as text. */
import type { CheckpointDiff } from '../../checkpoints/diff';
import { oneLine, wrap } from '../../shared/util';
import { answerLine, usd } from './text';

const RELATION = {
  continues: '',
  precedes: 'the second is an earlier point of the same conversation',
  diverges: 'the second does not continue the first (their conversations part ways)',
} as const;

/** One message, on one line of at most 80 columns. */
function message(mark: string, m: CheckpointDiff['messagesAdded'][number]): string {
  const head = `    ${mark} #${m.step} ${m.agent} ${m.kind} r${m.round}: `;
  return head + oneLine(m.content, Math.max(20, 80 - head.length));
}

export function renderDiff(d: CheckpointDiff): string {
  const change = <T>(label: string, v: { from: T; to: T }): string =>
    `  ${label.padEnd(12)} ${v.from === v.to ? `${String(v.from)} (unchanged)` : `${String(v.from)} → ${String(v.to)}`}`;
  const lines = [
    ...wrap(`From ${d.from.shortId} to ${d.to.shortId}${RELATION[d.relation] ? `: ${RELATION[d.relation]}` : ''}`, 80),
    change('phase', d.phase),
    change('round', d.round),
    change('stalls', d.stallCount),
    change('replans', d.replans),
    `  ${'tokens'.padEnd(12)} ${d.tokens.from.toLocaleString('en-US')} → ${d.tokens.to.toLocaleString('en-US')} (${d.tokens.delta >= 0 ? '+' : ''}${d.tokens.delta.toLocaleString('en-US')}, ${d.llmCalls.delta >= 0 ? '+' : ''}${d.llmCalls.delta} LLM calls)`,
    ...(d.costUsd.from || d.costUsd.to
      ? [`  ${'cost'.padEnd(12)} ${usd(d.costUsd.from)} → ${usd(d.costUsd.to)} (+${usd(Math.max(0, d.costUsd.delta))})`]
      : []),
    `  ${'plan'.padEnd(12)} ${d.planChanged ? 'changed' : 'unchanged'}`,
  ];
  if (d.answersAdded.length) {
    lines.push(`  answers added (${d.answersAdded.length}):`);
    for (const a of d.answersAdded) lines.push(oneLine(`    ${answerLine(a)}`, 80));
  }
  if (d.planChanged && d.plan.to) lines.push(`    new plan: ${oneLine(d.plan.to, 66)}`);
  if (d.messagesDropped.length) {
    lines.push(`  messages only in the first (${d.messagesDropped.length}):`);
    for (const m of d.messagesDropped) lines.push(message('-', m));
  }
  if (d.messagesAdded.length || d.relation !== 'precedes') {
    lines.push(`  messages added (${d.messagesAdded.length}):`);
    for (const m of d.messagesAdded) lines.push(message('+', m));
  }
  return lines.join('\n');
}
