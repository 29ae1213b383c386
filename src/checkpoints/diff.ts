/** `checkpoints diff`: what changed in the team's state between two checkpoints. */
import type { TeamState } from '../../workflows/model';
import type { LoadedCheckpoint } from './derive';

/** What changed between two checkpoints' states (`checkpoints diff`). */
export interface CheckpointDiff {
  from: { checkpointId: string; shortId: string; step: number; workflowId: string; runId: string };
  to: { checkpointId: string; shortId: string; step: number; workflowId: string; runId: string };
  /** True when `to` continues `from` (the same conversation up to `from`). */
  sameLineage: boolean;
  /** `continues`: `to` goes on from `from`; `precedes`: `to` is an earlier point of it; else `diverges`. */
  relation: 'continues' | 'precedes' | 'diverges';
  /** Messages in `to` that are not in `from` (by position), and those of `from` that `to` does not share. */
  messagesAdded: TeamState['messages'];
  messagesDropped: TeamState['messages'];
  planChanged: boolean;
  plan: { from: string | null; to: string | null };
  phase: { from: string; to: string };
  round: { from: number; to: number };
  stallCount: { from: number; to: number };
  replans: { from: number; to: number };
  tokens: { from: number; to: number; delta: number };
  llmCalls: { from: number; to: number; delta: number };
  /** USD at the runs' prices. */
  costUsd: { from: number; to: number; delta: number };
  /** Answers to gates (people in the loop) taken after the first checkpoint. */
  answersAdded: TeamState['answers'];
}

/** Compares the states of two loaded checkpoints (of the same run, the same reset chain, or any two). */
export function diffCheckpoints(a: LoadedCheckpoint, b: LoadedCheckpoint): CheckpointDiff {
  const same = (x: TeamState['messages'][number], y: TeamState['messages'][number]): boolean =>
    x.kind === y.kind && x.agent === y.agent && x.round === y.round && x.content === y.content;
  let shared = 0;
  while (
    shared < a.state.messages.length &&
    shared < b.state.messages.length &&
    same(a.state.messages[shared]!, b.state.messages[shared]!)
  )
    shared++;
  const tokens = (s: TeamState): number => s.usage.promptTokens + s.usage.completionTokens;
  const ref = (c: LoadedCheckpoint) => ({
    checkpointId: c.checkpointId,
    shortId: c.shortId,
    step: c.step,
    workflowId: c.workflowId,
    runId: c.runId,
  });
  const sameTask = a.state.task === b.state.task;
  const continues = sameTask && shared === a.state.messages.length;
  return {
    from: ref(a),
    to: ref(b),
    sameLineage: continues,
    relation: continues ? 'continues' : sameTask && shared === b.state.messages.length ? 'precedes' : 'diverges',
    messagesAdded: b.state.messages.slice(shared),
    messagesDropped: a.state.messages.slice(shared),
    planChanged: a.state.plan !== b.state.plan,
    plan: { from: a.state.plan, to: b.state.plan },
    phase: { from: a.state.phase, to: b.state.phase },
    round: { from: a.state.round, to: b.state.round },
    stallCount: { from: a.state.stallCount, to: b.state.stallCount },
    replans: { from: a.state.replans, to: b.state.replans },
    tokens: { from: tokens(a.state), to: tokens(b.state), delta: tokens(b.state) - tokens(a.state) },
    llmCalls: {
      from: a.state.usage.llmCalls,
      to: b.state.usage.llmCalls,
      delta: b.state.usage.llmCalls - a.state.usage.llmCalls,
    },
    costUsd: {
      from: a.state.usage.costUsd,
      to: b.state.usage.costUsd,
      delta: b.state.usage.costUsd - a.state.usage.costUsd,
    },
    answersAdded: b.state.answers.filter((x) => !a.state.answers.some((y) => y.requestId === x.requestId)),
  };
}
