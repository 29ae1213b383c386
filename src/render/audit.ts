/** `history`: a workflow's audit trail as text. */
import type { AuditTrail } from '../history/audit';
import { kindLabel } from '../../workflows/state';

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();
const clip = (s: string, max: number | null): string =>
  max !== null && s.length > max
    ? `${s.slice(0, max)}… (${s.length.toLocaleString('en-US')} characters; --full shows all)`
    : s;
const indent = (s: string, pad: string): string =>
  s
    .split('\n')
    .map((l) => pad + l)
    .join('\n');

/** The audit trail as text: every run, reset and step, with instructions and answers (clipped unless `full`). */
export function renderAudit(trail: AuditTrail, options: { full?: boolean } = {}): string {
  const max = options.full ? null : 400;
  const out: string[] = [`Audit trail of ${trail.workflowId} (namespace ${trail.namespace})`, `Task: ${trail.task}`];
  trail.runs.forEach((run, i) => {
    out.push(
      '',
      `── run ${i + 1}: ${run.runId} · ${run.status} · started ${run.startedAt ?? '?'} · closed ${run.closedAt ?? '(open)'}`,
    );
    if (run.resetFrom) {
      const r = run.resetFrom;
      out.push(
        `   ↺ reset at ${r.at ?? '?'} by ${r.requestedBy ?? 'unknown'} from run ${r.fromRunId} (event ${r.eventId}): ${r.reason}`,
        r.keptSteps > 0
          ? `     kept steps 1-${r.keptSteps} as they were (checkpoint @${r.keptSteps})`
          : '     kept no steps (reset to the start)',
      );
    }
    if (run.restoredFrom) {
      const r = run.restoredFrom;
      out.push(
        `   ⇪ restored from ${r.workflowId} run ${r.runId} (checkpoint ${r.checkpointId}): ${r.steps} steps carried over`,
      );
    }
    for (const s of run.steps) {
      if (s.kept) continue;
      out.push(
        `   #${s.step} ${s.agent} · ${kindLabel(s)} · round ${s.round} · ${s.model} · ${s.usage.promptTokens}→${s.usage.completionTokens} tokens · ` +
          `${s.attempts} attempt(s) · ${s.scheduledAt ?? '?'} → ${s.completedAt ?? '?'} · model ${s.latencyMs} ms`,
      );
      if (s.instruction) out.push(`      asked: ${oneLine(s.instruction)}`);
      out.push(indent(clip(s.answer, max), '      │ '));
    }
    for (const note of run.autoResumes) out.push(`   ↻ ${note}`);
    if (run.failedStep) {
      const f = run.failedStep;
      out.push(
        `   ✖ #${f.step} ${f.agent} · ${f.kind} · round ${f.round} failed after ${f.attempts} attempt(s) at ${f.failedAt ?? '?'}: ${f.message}`,
      );
    }
  });
  return out.join('\n');
}
