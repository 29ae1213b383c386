/**
 * Conversations with a run: follow-ups to a finished one (`ask`: the next turn, a new run of the same workflow id
 * that carries the conversation so far as its seed, see src/conversation/turns.ts), and messages to a running one
 * (`tell`, the `tell` Update), read by the orchestrator at its next plan or progress ledger, or, with `interrupt`,
 * at once (the model step in flight is cancelled, its request aborted, and the orchestrator replans). Like an
 * answer, a message needs no worker of the run to be up: this process takes it with a worker that starts no step.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { tellUpdate, type TellReceipt } from '../../workflows/messages';
import { MAX_MESSAGE_CHARS, MAX_TASK_CHARS, type TeamInput } from '../../workflows/types';
import { checkSeedSize, type SeedPoint } from '../checkpoints/seed';
import { checkpointsOf, stateAt, type Checkpoint, type LoadedCheckpoint } from '../checkpoints/derive';
import { parseAge } from '../checkpoints/prune';
import { endOf, followUpInput, turnsOf, type TurnSummary } from '../conversation/turns';
import { readRun, type RunHistory } from '../history/reader';
import {
  FollowUpRefusedError,
  MessageRefusedError,
  NotFoundError,
  UsageError,
  rootCause,
  type NextStep,
} from '../shared/errors';
import { isNotFound } from '../shared/grpc';
import { requester } from '../shared/user';
import { statusName } from '../temporal/cancel';
import type { CheckpointsClient } from './checkpoints';
import type { ClientContext } from './context';
import type { ExecuteOptions } from './events';
import type { RunOutcome } from './outcome';
import type { RunsClient } from './runs';
import type { WorkersClient } from './workers';

export interface AskOptions extends ExecuteOptions {
  /** Who asks (default: this user). */
  by?: string;
  /**
   * Continue from this checkpoint of the workflow instead of its latest run's end: for a run that failed or was
   * cancelled (the turn it was in is left unanswered), or to take the conversation another way from an earlier turn.
   */
  from?: string;
  /** Told where the turn starts once its input is checked, before it starts (the CLI prints it). */
  onPlanned?: (plan: AskPlan) => void;
}

/** Where a follow-up starts: the turn it opens, the steps it carries over (not sent again), and from which run. */
export interface AskPlan {
  workflowId: string;
  /** The turn it opens (from 2). */
  turn: number;
  /** The run it continues, and its step count there. */
  fromRunId: string;
  fromStep: number;
  /** Set when it continues from a checkpoint (`from`) rather than the run's end. */
  fromCheckpoint: string | null;
  /** What the steps carried over cost: not paid again. */
  reusedTokens: number;
}

/** The outcome of a follow-up: its run, and the conversation's turns up to it. */
export interface AskOutcome extends RunOutcome {
  plan: AskPlan;
}

export interface TellOptions {
  /** Who sends it (default: this user, as answers name them). */
  by?: string;
  /** Stop the model step in flight and have the orchestrator replan with the message. */
  interrupt?: boolean;
  /** @internal How many times the run continued as new as the message came (it is sent to the next link). */
  handovers?: number;
}

/** What `tell` reports: the message the run took, which step it follows, and the step it interrupted. */
export interface TellOutcome extends TellReceipt {
  workflowId: string;
  runId: string;
}

export class ConversationClient {
  constructor(
    private readonly ctx: ClientContext,
    private readonly workers: WorkersClient,
    private readonly runs: RunsClient,
    private readonly checkpoints: CheckpointsClient,
  ) {}

  /**
   * Asks a finished run a follow-up: the next turn of its conversation, a new run of the same workflow id whose
   * seed is every step so far (folded, none sent again, numbers going on), followed to its end like a run. Refused
   * ({@link FollowUpRefusedError}, exit 2, nothing started) while a turn is running, for a run that failed or was
   * cancelled (resume it, or give `from`), past `session.idle_timeout`, or for an empty or oversized follow-up.
   */
  async ask(workflowId: string, text: string, options: AskOptions = {}): Promise<AskOutcome> {
    const { input, plan } = await this.plan(workflowId, text, options);
    options.onPlanned?.(plan);
    try {
      return { ...(await this.runs.execute(input, { ...options, workflowId })), plan };
    } catch (err) {
      if (err instanceof UsageError && /already running/.test(err.message)) {
        throw new FollowUpRefusedError(workflowId, 'another turn started meanwhile (another ask?): nothing started', {
          cause: err,
          next: [{ purpose: 'follow it', args: ['follow', workflowId] }],
        });
      }
      throw err;
    }
  }

  /**
   * The input the next turn of `workflowId` would start with, and where it starts: checked, nothing started (see
   * {@link ask}, which refuses as this does).
   */
  async plan(
    workflowId: string,
    text: string,
    options: Pick<AskOptions, 'by' | 'from'> = {},
  ): Promise<{ input: TeamInput; plan: AskPlan }> {
    const task = text.trim();
    if (!task) throw new FollowUpRefusedError(workflowId, 'the follow-up is empty');
    if (task.length > MAX_TASK_CHARS) {
      throw new FollowUpRefusedError(
        workflowId,
        `the follow-up is ${task.length.toLocaleString('en-US')} characters, over the ${MAX_TASK_CHARS.toLocaleString('en-US')} a task may have`,
      );
    }
    const latest = await this.ctx.describe(workflowId);
    if (latest.status === 'RUNNING') {
      // Left by a detach, a turn waits for a worker: `follow` hosts one and finishes it.
      const served = (await this.workers.pollersOf(latest.taskQueue)) > 0;
      throw new FollowUpRefusedError(
        workflowId,
        `its run ${latest.runId} is still in a turn${served ? '' : ' (no worker serves it now: follow it to finish the turn)'}`,
        {
          next: [
            { purpose: 'send it a message now', args: ['tell', workflowId, hintText(task)] },
            { purpose: served ? 'or wait for its answer' : 'finish the turn here', args: ['follow', workflowId] },
          ],
        },
      );
    }
    let run: RunHistory;
    let from: SeedPoint;
    let fromCheckpoint: LoadedCheckpoint | null = null;
    if (options.from !== undefined) {
      const located = await this.checkpoints.locate(options.from);
      if (located.checkpoint.workflowId !== workflowId) {
        throw new UsageError(
          `--from ${options.from} is a checkpoint of "${located.checkpoint.workflowId}", not of "${workflowId}": ` +
            'a follow-up continues the workflow it names (fork to start another)',
        );
      }
      ({ run } = located);
      from = located.checkpoint;
      fromCheckpoint = located.checkpoint;
    } else {
      ({ run } = await this.ctx.lookup(workflowId, latest.runId, () =>
        readRun(this.ctx.temporal, workflowId, latest.runId),
      ));
      if (latest.status !== 'COMPLETED') {
        throw new FollowUpRefusedError(
          workflowId,
          `its latest run ${latest.runId} is ${latest.status}: the turn it was in has no answer to follow up`,
          { next: this.closedRunHints(run, task) },
        );
      }
      this.checkIdle(run);
      from = endOf(run, this.ctx.namespace);
    }
    const summarize = this.ctx.config.session.summarize_after_chars;
    const input = followUpInput(run, from, {
      task,
      by: options.by ?? requester(),
      at: new Date().toISOString(),
      ...(summarize > 0 ? { summarizeAfterChars: summarize } : {}),
    });
    checkSeedSize(input, "the follow-up's input without its steps", 'shorten the follow-up');
    // The state there: the located checkpoint's, or the run's end.
    const state = fromCheckpoint ? fromCheckpoint.state : stateAt(run);
    const plan: AskPlan = {
      workflowId,
      turn: (state?.turns?.length ?? 0) + 2,
      fromRunId: run.runId,
      fromStep: from.step,
      fromCheckpoint: fromCheckpoint?.shortId ?? null,
      reusedTokens: state ? state.usage.promptTokens + state.usage.completionTokens : 0,
    };
    return { input, plan };
  }

  /** The turns of a workflow's conversation as its latest run records them, oldest first. */
  async turns(workflowId: string): Promise<TurnSummary[]> {
    const { run } = await this.ctx.lookup(workflowId, undefined, () => readRun(this.ctx.temporal, workflowId));
    const state = stateAt(run, Number.MAX_SAFE_INTEGER);
    if (!state) throw new UsageError(`the latest run of "${workflowId}" has no recorded input`);
    return turnsOf(state, run.status);
  }

  /**
   * What to do with a run that failed or was cancelled (for `ask` and `tell`): resume its turn from its last
   * checkpoint, or follow up from there (the turn left unanswered).
   */
  private closedRunHints(run: RunHistory, text: string): NextStep[] {
    const last = this.lastCheckpoint(run);
    if (!last) return [{ purpose: 'see its checkpoints', args: ['checkpoints', 'list', '-w', run.workflowId] }];
    return [
      { purpose: 'finish that turn first', args: ['resume', last.shortId] },
      { purpose: 'or follow up from there', args: ['ask', run.workflowId, hintText(text), '--from', last.shortId] },
    ];
  }

  /** The last checkpoint of the workflow's latest run (where a resume, a fork or `ask --from` goes on). */
  private lastCheckpoint(run: RunHistory): Checkpoint | undefined {
    return checkpointsOf(run, this.ctx.namespace, { latest: true }).at(-1);
  }

  /**
   * Refuses a follow-up to a conversation idle longer than its `session.idle_timeout`: the one its first run
   * recorded (every turn keeps the setting the conversation started with), else this configuration's.
   */
  private checkIdle(run: RunHistory): void {
    const recorded = run.input?.session?.idleTimeout;
    const setting = recorded !== undefined ? recorded : this.ctx.config.session.idle_timeout;
    const limit = setting === null ? null : parseAge(setting);
    const closed = run.closeEvent?.eventTime;
    if (limit === null || !closed) return;
    const at = Number(closed.seconds ?? 0) * 1000;
    const idle = Date.now() - at;
    if (idle > limit) {
      throw new FollowUpRefusedError(
        run.workflowId,
        `the conversation ended: its last turn answered ${new Date(at).toISOString()}, longer ago than ` +
          `session.idle_timeout (${setting}, ${recorded !== undefined ? "as the conversation's first run recorded it" : "this configuration's"})`,
        {
          next: [
            {
              purpose: 'fork it to go on in a new workflow',
              args: ['fork', this.lastCheckpoint(run)?.shortId ?? run.workflowId],
            },
          ],
        },
      );
    }
  }

  /**
   * Sends a running run a message for its orchestrator. Refused, changing nothing ({@link MessageRefusedError},
   * exit 2), when the message is empty or too long, or the run has closed or answered already.
   */
  async tell(workflowId: string, text: string, options: TellOptions = {}): Promise<TellOutcome> {
    if (!text.trim()) throw new MessageRefusedError(workflowId, 'the message is empty');
    if (text.length > MAX_MESSAGE_CHARS) {
      throw new MessageRefusedError(
        workflowId,
        `the message is ${text.length.toLocaleString('en-US')} characters, over the ${MAX_MESSAGE_CHARS.toLocaleString('en-US')} a message may have`,
      );
    }
    const d = await this.ctx.lookup(workflowId, undefined, () =>
      this.ctx.temporal.workflow.getHandle(workflowId).describe(),
    );
    if (d.status.name !== 'RUNNING') {
      const status = statusName(d.status.name);
      // Answered: the message is a follow-up; failed or cancelled: its turn is resumed first.
      const next =
        status === 'COMPLETED'
          ? [{ purpose: 'ask it as a follow-up (the next turn)', args: ['ask', workflowId, hintText(text)] }]
          : this.closedRunHints((await readRun(this.ctx.temporal, workflowId, d.runId)).run, text);
      throw new MessageRefusedError(
        workflowId,
        `its latest run ${d.runId} is ${status}: a closed run reads no messages`,
        {
          next,
        },
      );
    }
    const handle = this.ctx.temporal.workflow.getHandle(workflowId, d.runId);
    const input = { text, by: options.by ?? requester(), ...(options.interrupt ? { interrupt: true } : {}) };
    await this.workers.releaseSticky(workflowId, d.runId);
    try {
      const decider = await this.workers.decider(d.taskQueue);
      const receipt = await decider.run(handle.executeUpdate(tellUpdate, { args: [input] }));
      return { workflowId, runId: d.runId, ...receipt };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const cause = rootCause(err);
        throw new MessageRefusedError(workflowId, cause instanceof Error ? cause.message : err.message, { cause: err });
      }
      if (isNotFound(err)) {
        const now = await handle.describe().catch(() => null);
        // The run handed over to its next link (continue-as-new) as the message came: the next link takes it.
        if (now?.status.name === 'CONTINUED_AS_NEW' && (options.handovers ?? 0) < 3) {
          return this.tell(workflowId, text, { ...options, handovers: (options.handovers ?? 0) + 1 });
        }
        if (now && now.status.name !== 'RUNNING') {
          throw new MessageRefusedError(
            workflowId,
            `its run ended ${statusName(now.status.name)} before the message was taken: nothing changed`,
            { cause: err },
          );
        }
        throw new NotFoundError(workflowId, this.ctx.namespace, undefined, { cause: err });
      }
      throw err;
    } finally {
      await this.workers.releaseSticky(workflowId, d.runId);
    }
  }
}

/** A text as a hint shows it: whole when short, else a placeholder (the person has it already). */
const hintText = (text: string): string => (text.length <= 60 && !/\n/.test(text) ? text : '<your text>');
