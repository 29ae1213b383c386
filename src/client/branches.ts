/**
 * Branches: a fork is a new workflow that starts from the state at any checkpoint of another (its steps up to it
 * folded, not sent again, and numbered as they were), with edits; the source is untouched. A fork records its
 * origin in its input (`TeamInput.fork`) and its memo (`forkOf`), so it stands on its own after its source is
 * gone, and the forks of a workflow are found from visibility.
 */
import { randomBytes } from 'node:crypto';
import { compareBranches, stepsOf, type Branch, type Comparison } from '../branches/compare';
import type { RecordedToolResult } from '../../workflows/types';
import { forkInput, type ForkEdits } from '../branches/edits';
import { listForks, type ForkInfo } from '../branches/forks';
import { readRun, type RunHistory } from '../history/reader';
import { NotFoundError, UsageError } from '../shared/errors';
import { checkSeedSize, inPieces, piecedWhenLarge, seedInput } from '../checkpoints/seed';
import type { Checkpoint } from '../checkpoints/derive';
import { derivedWorkflowId } from '../temporal/names';
import type { CheckpointsClient } from './checkpoints';
import type { ClientContext } from './context';
import type { ExecuteOptions } from './events';
import { reuseOf, type Reuse, type RunOutcome } from './outcome';
import type { RunsClient } from './runs';

export interface ForkOptions extends ExecuteOptions {
  /** The fork's workflow id (default `<source>-fork-<random>`). */
  workflowId?: string;
  edits?: ForkEdits;
  /**
   * How the fork gets its steps: `auto` (the default) carries them in its input when they fit (1.5 MB) and has
   * its first activities read them from the source in pieces otherwise; `pieces` always reads them.
   */
  seed?: 'auto' | 'pieces';
  /** Told what the fork starts from once its input is checked, before it starts (the CLI prints it). */
  onPlanned?: (checkpoint: Checkpoint, edits: string[]) => void;
}

/** The outcome of a fork: its run, what it reused, and where it came from. */
export interface ForkOutcome extends RunOutcome, Reuse {
  forkedFrom: Checkpoint;
  edits: string[];
}

export class BranchesClient {
  constructor(
    private readonly ctx: ClientContext,
    private readonly runs: RunsClient,
    private readonly checkpoints: CheckpointsClient,
  ) {}

  /**
   * The input a fork of `checkpointId` would start with: the source's input and its steps up to the checkpoint,
   * the edits applied and checked. Refused (a UsageError, nothing started) for an edit that does not fit.
   */
  async plan(
    checkpointId: string,
    edits: ForkEdits = {},
    seed: ForkOptions['seed'] = 'auto',
  ): Promise<{ checkpoint: Checkpoint; input: ReturnType<typeof forkInput> }> {
    const { checkpoint, run } = await this.checkpoints.locate(checkpointId);
    const { state: _state, ...plain } = checkpoint;
    // What a replay branch answers its tool calls with: the source's calls after the fork point that ran.
    const recorded = run.steps.flatMap((s): RecordedToolResult[] => {
      const r = s.result;
      if (r.kind !== 'tool' || !r.tool || r.tool.notRun || r.stepIndex + 1 <= checkpoint.step) return [];
      const from = r.tool.replayedFrom ?? `${run.workflowId}@${r.stepIndex + 1}`;
      return [{ name: r.tool.call.name, arguments: r.tool.call.arguments, content: r.content, ok: r.tool.ok, from }];
    });
    // A state too large for a workflow input is read by the fork's first activities, in pieces, from the source.
    const whole = forkInput(seedInput(run, checkpoint), checkpoint, edits, recorded);
    const input = seed === 'pieces' ? inPieces(whole, run) : piecedWhenLarge(whole, run);
    checkSeedSize(
      input,
      "the fork's input without its steps (its edits and the source's tool calls it replays)",
      'fork with --tools live (nothing replayed), or with shorter edits',
    );
    return { checkpoint: plain, input };
  }

  /** Starts a fork of `checkpointId` and follows it to its end (as `runs.execute` does a run). */
  async fork(checkpointId: string, options: ForkOptions = {}): Promise<ForkOutcome> {
    const { checkpoint, input } = await this.plan(checkpointId, options.edits, options.seed);
    options.onPlanned?.(checkpoint, input.fork!.edits);
    const workflowId =
      options.workflowId ?? derivedWorkflowId(checkpoint.workflowId, `-fork-${randomBytes(3).toString('hex')}`);
    const outcome = await this.runs.execute(input, { ...options, workflowId });
    return {
      ...outcome,
      forkedFrom: checkpoint,
      edits: input.fork!.edits,
      ...reuseOf(checkpoint, outcome.steps.length),
    };
  }

  /**
   * Compares two or more branches, each a workflow id (its latest run) or a checkpoint (its run up to there). A
   * workflow that is gone (pruned, past retention) but is the source of another branch given is compared from
   * that fork's reused steps, and said to be gone.
   */
  async compare(refs: string[]): Promise<Comparison> {
    if (refs.length < 2) throw new UsageError('compare needs two branches or more (workflow ids or checkpoints)');
    const read: (Branch | { ref: string; gone: NotFoundError })[] = [];
    for (const ref of refs) {
      try {
        read.push(await this.branch(ref));
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        read.push({ ref, gone: err });
      }
    }
    const branches = read.map((b): Branch => {
      if (!('gone' in b)) return b;
      // Its fork among the others knows its steps up to the fork point.
      const fork = read.find((o): o is Branch => !('gone' in o) && o.forkOf?.workflowId === b.ref);
      if (!fork) throw b.gone;
      return {
        ref: b.ref,
        workflowId: b.ref,
        runId: null,
        status: 'GONE',
        forkOf: null,
        // The fork's reused steps, with the answers it replaced put back: the source's, as it had them.
        steps: fork.steps
          .filter((s) => s.step <= fork.forkOf!.step)
          .map((s) => ({
            ...s,
            answer: fork.forkOf!.replaced?.find((r) => r.step === s.step)?.content ?? s.answer,
            reused: false,
          })),
        startedAt: null,
        closedAt: null,
      };
    });
    return compareBranches(branches);
  }

  /** A branch: the latest run of workflow `ref`, or, when no such workflow exists and `ref` is a checkpoint, its run up to it. */
  private async branch(ref: string): Promise<Branch> {
    let run: RunHistory;
    let upTo = Infinity;
    try {
      ({ run } = await this.ctx.lookup(ref, undefined, () => readRun(this.ctx.temporal, ref)));
    } catch (err) {
      if (!(err instanceof NotFoundError) || !looksLikeCheckpoint(ref)) throw err;
      const located = await this.checkpoints.locate(ref);
      run = located.run;
      upTo = located.checkpoint.step;
    }
    const fork = run.input?.fork;
    return {
      ref,
      workflowId: run.workflowId,
      runId: run.runId,
      status: run.status,
      forkOf: fork
        ? {
            workflowId: fork.workflowId,
            step: fork.step,
            edits: fork.edits,
            ...(fork.replaced ? { replaced: fork.replaced } : {}),
          }
        : null,
      steps: stepsOf(run, upTo),
      startedAt: run.createdAt?.toISOString() ?? null,
      closedAt: run.closeEvent?.eventTime ? eventDate(run.closeEvent.eventTime) : null,
    };
  }

  /** The forks made of `workflowId`'s runs (not of their forks: see {@link tree}), oldest first. */
  async forksOf(workflowId: string): Promise<ForkInfo[]> {
    return (await this.allForks()).filter((f) => f.origin.workflowId === workflowId);
  }

  /** Every fork in the namespace, oldest first (from visibility: each fork's memo names its origin). */
  allForks(): Promise<ForkInfo[]> {
    return listForks(this.ctx.temporal);
  }

  /** The tree of forks below `workflowId`: its forks, their forks, and so on. */
  async tree(workflowId: string): Promise<ForkTree> {
    const all = await this.allForks();
    const below = (id: string, seen: Set<string>): ForkNode[] =>
      all
        .filter((f) => f.origin.workflowId === id && !seen.has(f.workflowId))
        .map((f) => ({ ...f, forks: below(f.workflowId, new Set([...seen, f.workflowId])) }));
    const self = all.find((f) => f.workflowId === workflowId);
    const forks = below(workflowId, new Set([workflowId]));
    // An id that is not here is a mistake, unless it is a source that is gone and its forks remain.
    if (!self && forks.length === 0) await this.ctx.describe(workflowId);
    return { workflowId, origin: self?.origin ?? null, forks };
  }
}

/** A fork and the forks made of it. */
export interface ForkNode extends ForkInfo {
  forks: ForkNode[];
}

export interface ForkTree {
  workflowId: string;
  /** Where this workflow was forked from (null for a workflow that is not a fork). */
  origin: ForkInfo['origin'] | null;
  forks: ForkNode[];
}

const looksLikeCheckpoint = (ref: string): boolean => ref.startsWith('cp') || /@\d+(~[0-9a-f-]+)?$/i.test(ref);

function eventDate(t: { seconds?: unknown; nanos?: number | null }): string | null {
  const seconds = Number(t.seconds ?? 0);
  return seconds ? new Date(seconds * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString() : null;
}

export type { ForkInfo } from '../branches/forks';
