/** `history`: a workflow's audit trail as text, in lines that fit an 80-column terminal. */
import { originText } from '../../checkpoints/derive';
import { kindLabel } from '../../../workflows/labels';
import type { AuditGate, AuditTrail } from '../../history/audit';
import { requestTitle, usd } from './text';
import { oneLine, wrap } from '../../shared/util';

const WIDTH = 80;
const clip = (s: string, max: number | null): string =>
  max !== null && s.length > max
    ? `${s.slice(0, max)}… (${s.length.toLocaleString('en-US')} characters; --full shows all)`
    : s;
/** `text` wrapped to the terminal, each line after `first` (then `rest`). */
const block = (first: string, text: string, rest = ' '.repeat(first.length)): string[] =>
  wrap(text, WIDTH - first.length).map((l, i) => (i === 0 ? first : rest) + l);
const time = (iso: string | null): string => (iso ? iso.replace('T', ' ').replace(/Z$/, '') : '?');
/** The time of day alone (a run's heading gives the date). */
const clock = (iso: string | null): string => (iso ? iso.slice(11).replace(/Z$/, '') : '?');

const DECISION_MARK = { approve: '✔', revise: '✎', reject: '✖', add_budget: '+', stop: '⏹' } as const;

/** A question a run asked a person, and the answer: who, when, what they said. */
function gateLines(g: AuditGate): string[] {
  const lines = block('   ⏸ ', `${requestTitle(g.kind)} asked at ${time(g.askedAt)}: ${g.question}`);
  const a = g.answer;
  if (!a) return [...lines, '     … no answer yet: the run waits'];
  const what =
    a.decision === 'add_budget'
      ? `add ${[a.addUsd ? usd(a.addUsd) : null, a.addTokens ? `${a.addTokens.toLocaleString('en-US')} tokens` : null].filter(Boolean).join(' and ')}`
      : a.decision;
  const who = a.timedOut
    ? 'no answer in time (gates.timeout_ms): took'
    : `by ${a.answeredBy ?? 'unknown'} at ${time(a.at)}:`;
  const note = a.feedback ?? a.reason;
  return [
    ...lines,
    ...block(
      `     ${DECISION_MARK[a.decision]} `,
      a.timedOut ? `${who} ${what}` : `${what} ${who.replace(/:$/, '')}${note ? `: ${note}` : ''}`,
    ),
  ];
}

/** The audit trail as text: every run, reset and step, with instructions and answers (clipped unless `full`). */
export function renderAudit(trail: AuditTrail, options: { full?: boolean } = {}): string {
  const max = options.full ? null : 400;
  const out: string[] = [
    `Audit trail of ${trail.workflowId} (namespace ${trail.namespace})`,
    ...block('Task: ', oneLine(trail.task)),
  ];
  trail.runs.forEach((run, i) => {
    out.push(
      '',
      `── run ${i + 1}: ${run.runId} · ${run.status}`,
      `   started ${time(run.startedAt)}${run.closedAt ? `, closed ${time(run.closedAt)}` : ', still running'}`,
    );
    if (run.resetFrom) {
      const r = run.resetFrom;
      out.push(
        ...block(
          '   ↺ ',
          `reset at ${time(r.at)} by ${r.requestedBy ?? 'unknown'} from run ${r.fromRunId} (event ${r.eventId}): ${r.reason}`,
        ),
        r.keptSteps > 0
          ? `     kept steps 1-${r.keptSteps} as they were (checkpoint @${r.keptSteps})`
          : '     kept no steps (reset to the start)',
      );
    }
    if (run.restoredFrom) {
      const r = run.restoredFrom;
      out.push(
        ...block(
          '   ⇪ ',
          r.continued
            ? `${originText(r)}: its ${r.steps} steps carried over`
            : r.followUp
              ? `turn ${r.followUp.turn}, a follow-up to run ${r.runId} (its ${r.steps} steps carried over): ` +
                `"${r.followUp.task.replace(/\s+/g, ' ')}"`
              : r.fork
                ? `${originText(r)}, run ${r.runId}: ${r.steps} steps reused`
                : `restored from ${r.workflowId} run ${r.runId}: ${r.steps} steps carried over`,
        ),
        // A link continued as new has no checkpoint id of its own: its entry checkpoint is the last step.
        ...(r.checkpointId ? [`     (checkpoint ${r.checkpointId})`] : []),
      );
    }
    const gatesAfter = (step: number): void => {
      for (const g of run.gates) if (!g.kept && g.afterStep === step) out.push(...gateLines(g));
      for (const m of run.messages.filter((x) => x.afterStep === step))
        out.push(
          ...block(
            '   ✉ ',
            `${m.id} from ${m.by ?? 'someone'} at ${clock(m.at)} UTC${m.interrupt ? ' (interrupt: replan)' : ''}: ${clip(oneLine(m.text), max)}`,
            '     ',
          ),
        );
    };
    gatesAfter(run.steps.find((s) => !s.kept) ? run.steps.find((s) => !s.kept)!.step - 1 : 0);
    for (const s of run.steps) {
      if (s.kept) continue;
      if (s.tool) {
        const t = s.tool;
        out.push(
          ...block(
            `   #${s.step} `,
            `${s.agent} · tool ${t.call.name} · round ${s.round} · ${t.sideEffects} · ${t.ok ? 'ok' : 'error'}` +
              ` · ${clock(s.scheduledAt)} → ${clock(s.completedAt)} UTC${s.attempts > 1 ? ` · ${s.attempts} attempts` : ''}`,
            '      ',
          ),
          ...block('      key: ', t.idempotencyKey),
          ...block('      arguments: ', clip(oneLine(t.call.arguments), max)),
          ...clip(s.answer, max)
            .split('\n')
            .flatMap((line) => block('      │ ', line, '      │ ')),
        );
        gatesAfter(s.step);
        continue;
      }
      out.push(
        ...block(
          `   #${s.step} `,
          `${s.agent} · ${kindLabel(s)} · round ${s.round} · ${s.model} · ` +
            `${s.usage.promptTokens}→${s.usage.completionTokens} tokens${s.costUsd > 0 ? ` · ${usd(s.costUsd)}` : ''}`,
          '      ',
        ),
        ...block(
          '      ',
          `${clock(s.scheduledAt)} → ${clock(s.completedAt)} UTC · span ${s.durationMs ?? '?'} ms, model ${s.latencyMs} ms` +
            `${s.attempts > 1 ? ` · ${s.attempts} attempts` : ''}`,
        ),
      );
      if (s.instruction) out.push(...block('      asked: ', oneLine(s.instruction)));
      if (s.toolCalls?.length) {
        out.push(...block('      calls: ', s.toolCalls.map((c) => `${c.name} ${oneLine(c.arguments)}`).join(' · ')));
      }
      out.push(
        ...clip(s.answer, max)
          .split('\n')
          .flatMap((line) => block('      │ ', line, '      │ ')),
      );
      gatesAfter(s.step);
    }
    if (run.usage.costUsd > 0) {
      out.push(`   cost of this run's ${run.usage.llmCalls} LLM calls: ${usd(run.usage.costUsd)} at its prices`);
    }
    for (const note of run.autoResumes) out.push(...block('   ↻ ', note));
    if (run.stopped) {
      const x = run.stopped;
      out.push(...block('   ⏹ ', `${x.how} at ${time(x.at)} by ${x.requestedBy ?? 'unknown'}: ${x.reason}`));
    }
    if (run.failedStep) {
      const f = run.failedStep;
      out.push(
        ...block(
          '   ✖ ',
          `#${f.step} ${f.agent} · ${f.kind} · round ${f.round} failed after ${f.attempts} attempt(s) at ` +
            `${time(f.failedAt)}: ${f.message}`,
        ),
      );
    }
  });
  return out.join('\n');
}
