/** `checkpoints diff` as text. */
import type { CheckpointDiff } from '../checkpoints/diff';

export function renderDiff(d: CheckpointDiff): string {
  const change = <T>(label: string, v: { from: T; to: T }): string =>
    `  ${label.padEnd(12)} ${v.from === v.to ? `${String(v.from)} (unchanged)` : `${String(v.from)} → ${String(v.to)}`}`;
  const lines = [
    `From step ${d.from.step} (run ${d.from.runId.slice(0, 8)}) to step ${d.to.step} (run ${d.to.runId.slice(0, 8)})` +
      (d.sameLineage ? '' : ': the second does not continue the first (their conversations part ways)'),
    change('phase', d.phase),
    change('round', d.round),
    change('stalls', d.stallCount),
    change('replans', d.replans),
    `  ${'tokens'.padEnd(12)} ${d.tokens.from.toLocaleString('en-US')} → ${d.tokens.to.toLocaleString('en-US')} (${d.tokens.delta >= 0 ? '+' : ''}${d.tokens.delta.toLocaleString('en-US')}, ${d.llmCalls.delta >= 0 ? '+' : ''}${d.llmCalls.delta} LLM calls)`,
    `  ${'plan'.padEnd(12)} ${d.planChanged ? 'changed' : 'unchanged'}`,
  ];
  if (d.planChanged && d.plan.to) lines.push(`    new plan: ${d.plan.to.replace(/\s+/g, ' ').slice(0, 200)}`);
  if (d.messagesDropped.length) {
    lines.push(`  messages only in the first (${d.messagesDropped.length}):`);
    for (const m of d.messagesDropped)
      lines.push(`    - #${m.step} ${m.agent} ${m.kind} r${m.round}: ${m.content.replace(/\s+/g, ' ').slice(0, 100)}`);
  }
  lines.push(`  messages added (${d.messagesAdded.length}):`);
  for (const m of d.messagesAdded)
    lines.push(`    + #${m.step} ${m.agent} ${m.kind} r${m.round}: ${m.content.replace(/\s+/g, ' ').slice(0, 100)}`);
  return lines.join('\n');
}
