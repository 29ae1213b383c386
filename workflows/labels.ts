/**
 * How steps are named for people: the kind a command prints and the one-line summaries the Temporal Web UI shows
 * for each activity. Display only: nothing decides on these.
 */
import type { StepKind, StepRequest, ToolRequest } from './types';

/** A tool call's one-line summary for the Web UI: `step 5 · coder · tool run_code {"language":"javascript",…}`. */
export function toolSummary(req: ToolRequest): string {
  const args = req.call.arguments.replace(/\s+/g, ' ');
  return `step ${req.stepIndex + 1} · ${req.agent} · round ${req.round} · tool ${req.call.name} ${args.length > 60 ? `${args.slice(0, 59)}…` : args}`;
}

/** The name of a step's kind, as every command and the Web UI print it (a replan is a `plan` step). */
export const kindLabel = (s: { kind: StepKind; replan?: boolean }): string =>
  s.kind === 'plan' && s.replan ? 'replan' : s.kind;

/**
 * A one-line summary of a step, for the Temporal Web UI's timeline: `step 3 · researcher · round 1 · <instruction>`.
 * Step numbers count from 1 (`stepIndex` + 1), as every command prints them; checkpoint N is the state after step N.
 */
export function stepSummary(
  step: Pick<StepRequest, 'kind' | 'agent' | 'round' | 'instruction' | 'replan' | 'stepIndex'>,
): string {
  const what = step.kind === 'agent' ? (step.instruction ?? '').replace(/\s+/g, ' ').slice(0, 60) : kindLabel(step);
  return `step ${step.stepIndex + 1} · ${step.agent} · round ${step.round} · ${what}`;
}
