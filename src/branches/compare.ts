/**
 * A comparison of branches (a run and its forks, or any runs): the steps they share once, then each branch side by
 * side from where they diverge, the final answers' differences (word level) and the totals. Pure: it takes runs
 * as history records them (a fork's reused steps come from its own input, so a fork compares after its source is
 * gone).
 */
import { diffWords } from 'diff';
import { costOf } from '../../workflows/pricing';
import type { StepKind, StepResult } from '../../workflows/types';
import type { RunHistory, RunStatus } from '../history/reader';
import { seededSteps } from '../checkpoints/derive';

/** One step of a branch, as a comparison shows it. */
export interface ComparedStep {
  step: number;
  agent: string;
  kind: StepKind;
  tokens: number;
  costUsd: number;
  answer: string;
  /** A tool step: the call. */
  tool?: { name: string; arguments: string; ok: boolean; replayedFrom?: string; notRun?: true };
  /** Reused from where the branch started (a fork's or restore's seed, a reset's kept steps): not sent by it. */
  reused: boolean;
}

/** A branch: a workflow's run (its latest, or the one a checkpoint names), up to a step when a checkpoint says so. */
export interface Branch {
  /** What was asked for: a workflow id or a checkpoint. */
  ref: string;
  workflowId: string;
  runId: string | null;
  status: RunStatus | 'GONE';
  /** Set for a fork: where it came from. */
  forkOf: { workflowId: string; step: number; edits: string[]; replaced?: { step: number; content: string }[] } | null;
  steps: ComparedStep[];
  startedAt: string | null;
  closedAt: string | null;
}

/** A word-level difference of two texts: the runs of words each has, or both. */
export interface WordDiff {
  same: boolean;
  parts: { text: string; added?: true; removed?: true }[];
}

export interface Comparison {
  branches: Omit<Branch, 'steps'>[];
  /** The steps every branch has alike (agent, kind, answer), once. */
  shared: ComparedStep[];
  /** The first step number where the branches differ (null when they are alike throughout). */
  divergesAt: number | null;
  /** From the divergence on, each step number with every branch's step there (null: the branch has none). */
  rows: {
    step: number;
    steps: (ComparedStep | null)[];
    /** vs the first branch's answer at that step */ diffs: (WordDiff | null)[];
  }[];
  /** Each branch's final answer, and its difference from the first branch's. */
  finals: { answer: string | null; diff: WordDiff | null }[];
  totals: { steps: number; sent: number; llmCalls: number; tokens: number; costUsd: number; wallMs: number | null }[];
  /** Branches whose workflow is gone (pruned, or past retention): known only up to where their forks started. */
  gone: string[];
}

const total = (s: StepResult): number => s.usage.promptTokens + s.usage.completionTokens;

/** The steps of `run` in number order: its seed (restore, fork), then its own (a reset's kept steps included). */
export function stepsOf(run: RunHistory, upTo = Infinity): ComparedStep[] {
  const pricing = run.input?.pricing ?? {};
  const seed = seededSteps(run);
  const of = (r: StepResult, step: number, reused: boolean): ComparedStep => ({
    step,
    agent: r.agent,
    kind: r.kind,
    tokens: total(r),
    costUsd: costOf(r.usage, r.model, pricing),
    answer: r.content,
    ...(r.tool
      ? {
          tool: {
            name: r.tool.call.name,
            arguments: r.tool.call.arguments,
            ok: r.tool.ok,
            ...(r.tool.replayedFrom ? { replayedFrom: r.tool.replayedFrom } : {}),
            ...(r.tool.notRun ? { notRun: true as const } : {}),
          },
        }
      : {}),
    reused,
  });
  const keptUpTo = run.baseRunId ? keptSteps(run) : 0;
  const own = run.steps.map((s, i) =>
    of(s.result, s.result.kind === 'tool' ? s.result.stepIndex + 1 : seed.length + i + 1, seed.length + i < keptUpTo),
  );
  return [...seed.map((r, i) => of(r, i + 1, true)), ...own]
    .filter((s) => s.step <= upTo)
    .sort((a, b) => a.step - b.step);
}

/** Steps a run made by a reset kept from its base run (those completed before the reset's failed workflow task). */
function keptSteps(run: RunHistory): number {
  const reset = run.events.find((e) => e.workflowTaskFailedEventAttributes?.baseRunId);
  if (!reset) return 0;
  const at = Number(reset.eventId);
  return seededSteps(run).length + run.steps.filter((s) => s.completedEventId < at).length;
}

const alike = (a: ComparedStep | undefined, b: ComparedStep | undefined): boolean =>
  !!a && !!b && a.kind === b.kind && a.agent === b.agent && a.answer === b.answer;

export function wordDiff(from: string, to: string): WordDiff {
  if (from === to) return { same: true, parts: [{ text: to }] };
  return {
    same: false,
    parts: diffWords(from, to).map((p) => ({
      text: p.value,
      ...(p.added ? { added: true as const } : {}),
      ...(p.removed ? { removed: true as const } : {}),
    })),
  };
}

/** Compares two or more branches. */
export function compareBranches(branches: Branch[]): Comparison {
  const byStep = branches.map((b) => new Map(b.steps.map((s) => [s.step, s])));
  const last = Math.max(0, ...branches.flatMap((b) => b.steps.map((s) => s.step)));
  let sharedUpTo = 0;
  while (sharedUpTo < last && byStep.every((m) => alike(m.get(sharedUpTo + 1), byStep[0]!.get(sharedUpTo + 1))))
    sharedUpTo++;
  const rows: Comparison['rows'] = [];
  for (let step = sharedUpTo + 1; step <= last; step++) {
    const steps = byStep.map((m) => m.get(step) ?? null);
    const first = steps[0];
    rows.push({
      step,
      steps,
      diffs: steps.map((s, i) => (i === 0 || !s || !first ? null : wordDiff(first.answer, s.answer))),
    });
  }
  const finalOf = (b: Branch): string | null => [...b.steps].reverse().find((s) => s.kind === 'final')?.answer ?? null;
  const firstFinal = finalOf(branches[0]!);
  return {
    branches: branches.map(({ steps: _steps, ...rest }) => rest),
    shared: branches[0]!.steps.filter((s) => s.step <= sharedUpTo),
    divergesAt: sharedUpTo < last ? sharedUpTo + 1 : null,
    rows,
    finals: branches.map((b, i) => {
      const answer = finalOf(b);
      return { answer, diff: i === 0 || answer === null || firstFinal === null ? null : wordDiff(firstFinal, answer) };
    }),
    totals: branches.map((b) => ({
      steps: b.steps.length,
      sent: b.steps.filter((s) => !s.reused).length,
      llmCalls: b.steps.filter((s) => s.kind !== 'tool').length,
      tokens: b.steps.reduce((n, s) => n + s.tokens, 0),
      costUsd: Math.round(b.steps.reduce((n, s) => n + s.costUsd, 0) * 1e9) / 1e9,
      wallMs: b.startedAt && b.closedAt ? new Date(b.closedAt).getTime() - new Date(b.startedAt).getTime() : null,
    })),
    gone: branches.filter((b) => b.status === 'GONE').map((b) => b.workflowId),
  };
}
