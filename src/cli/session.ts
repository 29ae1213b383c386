/**
 * A run followed on the terminal (`run`, `resume`, `follow`, `checkpoints import --restore`): its events rendered
 * as lines on stderr, its questions put to the person (or left to another shell), Ctrl-C detaching, and the closing
 * report (the answer, or `--json`, on stdout). One object per followed run: it knows which run it follows and what
 * that run waits on, for the message a detach prints.
 */
import type { AgentTeamClient, AnswerInput, ExecuteOptions, Responder, RunEvent, RunOutcome } from '../client';
import type { HumanRequest } from '../../workflows/types';
import { DetachedError, errorMessage } from '../shared/errors';
import { oneLine, shellLines, wrap } from '../shared/util';
import { isOwnTaskQueue } from '../temporal/names';
import { err, json, out } from './common';
import type { Hints } from './hints';
import { promptAnswer } from './prompt';
import {
  answerCommands,
  answerText,
  checkpointTable,
  outcomeLine,
  requestLines,
  requestTitle,
  resumeLines,
  stepLine,
  toolScheduledLine,
} from './render/text';
import { WORKFLOW_TYPE } from '../shared/constants';

/** Where the followed run is: the server and its Web UI, for the header. */
export interface Where {
  address: string;
  namespace: string;
  webUiUrl: (workflowId: string, runId?: string) => string | null;
}

export interface SessionOptions {
  /** `--json`: the outcome as one JSON object on stdout. */
  json?: boolean;
  /** Show the text of the step in progress. @default on a terminal, without --json */
  live?: boolean;
  /** `--detach`: leave the run (exit 0) once it waits on a person. */
  detach?: boolean;
  /** A follow-up is prompted for after the answer (so the closing report does not say how to ask one). */
  conversing?: boolean;
}

/**
 * Runs `body` with a signal that the first Ctrl-C aborts: the command detaches from its run (a step in flight
 * finishes, within worker.shutdown_grace_ms) and exits 130; a second Ctrl-C leaves at once, saying `lastWords()`.
 */
export async function detachable<T>(
  body: (signal: AbortSignal, detach: () => void) => Promise<T>,
  words: { first: () => string; last: () => string | null } = {
    first: () => '\n⏸ Ctrl-C: detaching; a step in flight here finishes first (Ctrl-C again: now)',
    last: () => null,
  },
): Promise<T> {
  const controller = new AbortController();
  const now = (): void => {
    const last = words.last();
    if (last) err(last);
    process.exit(130);
  };
  const first = (): void => {
    err(words.first());
    process.once('SIGINT', now);
    controller.abort();
  };
  process.once('SIGINT', first);
  try {
    return await body(controller.signal, () => controller.abort());
  } finally {
    process.removeListener('SIGINT', first);
    process.removeListener('SIGINT', now);
  }
}

export class FollowSession {
  /** The run followed (for the second Ctrl-C's message). */
  private following: string | null = null;
  /** The question the followed run waits on, until its next step (for the detach message). */
  private waitingOn: { request: HumanRequest; workflowId: string } | null = null;
  /** Set when `--detach` left the run because it waits on a person. */
  private leftWaiting = false;
  /** The step whose text is being shown, and how much of it is out; a line left open ends before the next print. */
  private open: { step: number; chars: number } | null = null;
  private readonly live: boolean;

  constructor(
    private readonly where: Where,
    private readonly hints: Hints,
    private readonly options: SessionOptions = {},
  ) {
    this.live = options.live ?? (process.stderr.isTTY && !options.json);
  }

  /**
   * Follows a run: `execute` starts, attaches to, resumes or restores it with the given options. Returns the exit
   * code: 0 completed (or left waiting with --detach), 1 not completed, 130 detached by Ctrl-C.
   */
  async run(execute: (options: ExecuteOptions) => Promise<RunOutcome>): Promise<number> {
    return detachable(
      async (signal, detach) => {
        try {
          const outcome = await execute({
            signal,
            live: this.live,
            onEvent: (event) => this.render(event),
            answer: this.responder(detach),
          });
          return this.report(outcome);
        } catch (e) {
          if (!(e instanceof DetachedError)) throw e;
          return this.detached(e);
        }
      },
      {
        first: () =>
          this.waitingOn
            ? '\n⏸ Ctrl-C: leaving the run waiting for its answer'
            : '\n⏸ Ctrl-C: detaching; a step in flight here finishes first (Ctrl-C again: now)',
        last: () =>
          this.following
            ? `⏸ Left at once. The run goes on in Temporal: ${this.hints.command('follow', this.following)}`
            : null,
      },
    );
  }

  /** One event as lines on stderr. */
  render(event: RunEvent): void {
    switch (event.type) {
      case 'live-text': {
        const { live } = event;
        if (this.open?.step !== live.step) {
          this.endLive();
          process.stderr.write(`  ✎ #${live.step} ${live.agent}: `);
          this.open = { step: live.step, chars: 0 };
        }
        // The heartbeat carries the end of the text: print what is new since the last one.
        const fresh = live.chars - this.open.chars;
        if (fresh > 0) process.stderr.write(live.text.slice(-fresh).replace(/\s+/g, ' '));
        this.open.chars = live.chars;
        return;
      }
      case 'hosting':
        return this.say(
          `  A worker here serves task queue "${event.taskQueue}": ` +
            (event.reason === 'own-queue'
              ? 'the run has a task queue of its own'
              : 'no worker polls it: this process serves it until the run ends'),
        );
      case 'replay-checked':
        return this.say(
          `✔ Replay check: the ${event.report.events} events this resume keeps replay against the current workflow code`,
        );
      case 'reset': {
        const { checkpoint, resetCommand } = event;
        return this.say(
          `↺ Resuming ${checkpoint.workflowId} from step ${checkpoint.step}` +
            `${checkpoint.agent ? ` (after ${checkpoint.agent}, round ${checkpoint.round})` : ' (the entry checkpoint)'}:\n` +
            `  ${checkpoint.step} steps reused, ${checkpoint.usage.totalTokens.toLocaleString('en-US')} tokens not paid again\n` +
            `  same as:\n${shellLines(resetCommand, '    ')}`,
        );
      }
      case 'started': {
        this.following = event.workflowId;
        this.say(`▶ ${WORKFLOW_TYPE} ${event.workflowId} (run ${event.runId})`);
        this.say(`  on ${this.where.address}, namespace ${this.where.namespace}, task queue ${event.taskQueue}`);
        const ui = this.where.webUiUrl(event.workflowId, event.runId);
        if (ui) this.say(`  Web UI: ${ui}`);
        return;
      }
      case 'step':
        this.waitingOn = null;
        return this.say(
          stepLine(event.step.result, event.step.costUsd) + (event.reused ? '  (reused from the checkpoint)' : ''),
        );
      case 'tool-scheduled':
        return this.say(toolScheduledLine(event.request));
      case 'auto-resume':
        return this.say(`  ↻ ${event.note}`);
      case 'unserved':
        return this.say(
          `  ⚠ No worker polls task queue "${event.taskQueue}": nothing runs this run's steps until one does.\n` +
            `    Serve it from another shell: ${this.hints.command('worker', '--task-queue', event.taskQueue)}`,
        );
      case 'waiting': {
        const ask = !this.options.detach && process.stdin.isTTY && process.stderr.isTTY;
        this.endLive();
        for (const line of requestLines(event.request, event.workflowId, this.hints, ask ? 'here' : 'elsewhere'))
          err(line);
        this.waitingOn = { request: event.request, workflowId: event.workflowId };
        return;
      }
      case 'answered':
        this.endLive();
        for (const line of wrap(`✔ answered: ${answerText(event.answer)}`, 76)) err(`  ${line}`);
        return;
      case 'continued':
        return this.say(
          `  ↻ continued as new after step ${event.step} (${event.events.toLocaleString('en-US')} events): ` +
            `run ${event.runId.slice(0, 13)}…`,
        );
      case 'message': {
        const m = event.message;
        const what = m.interrupt ? 'interrupts: the orchestrator replans with it' : 'for the next plan or ledger';
        return this.say(
          wrap(`✉ ${m.id} from ${m.by ?? 'someone'} (${what}): ${oneLine(m.text)}`, 76)
            .map((line, i) => (i === 0 ? `  ${line}` : `    ${line}`))
            .join('\n'),
        );
      }
      case 'answer-refused':
        this.endLive();
        return err(`  ✖ ${errorMessage(event.error)}`, 'ERROR');
      case 'finished':
        return this.endLive();
    }
  }

  /** How a question is answered: on a terminal, asked; with --detach, the run is left; else someone elsewhere. */
  private responder(detach: () => void): Responder {
    return async (request, { signal }): Promise<AnswerInput | undefined> => {
      if (this.options.detach) {
        this.leftWaiting = true;
        detach();
        return undefined;
      }
      if (process.stdin.isTTY && process.stderr.isTTY) return promptAnswer(request, signal);
      err('  No terminal here: following the run until it is answered (Ctrl-C leaves it).');
      return undefined;
    };
  }

  /** The closing report on stderr, and the answer (or JSON) on stdout. Returns the exit code. */
  report(outcome: RunOutcome): number {
    this.endLive();
    if (outcome.checkpoints.length > 0)
      err(checkpointTable([...outcome.checkpoints].reverse(), { title: 'Checkpoints of this run' }));
    err(outcomeLine(outcome));
    for (const line of resumeLines(outcome, this.hints)) err(line);
    if (outcome.status === 'COMPLETED' && !this.options.json && !this.options.conversing)
      err(`  Follow up (the next turn): ${this.hints.command('ask', outcome.workflowId, '<follow-up>')}`);
    // A conversation (--follow-up) prints an object per turn, each on a line of its own (JSON Lines).
    if (this.options.json && this.options.conversing) out(JSON.stringify(outcome));
    else if (this.options.json) json(outcome);
    else if (outcome.result) out(outcome.result.answer);
    return outcome.status === 'COMPLETED' ? 0 : 1;
  }

  /** What a detach prints: the run goes on, and the command that continues it. Returns the exit code. */
  private detached(e: DetachedError): number {
    this.endLive();
    const waiting = this.waitingOn?.workflowId === e.workflowId ? this.waitingOn : null;
    if (waiting && this.leftWaiting) {
      // --detach: left on purpose, waiting for its answer.
      err(
        `⏸ Left ${e.workflowId} waiting for you: it waits durably in Temporal, with no worker up.\n` +
          `  Answer with a command above, then run its next steps: ${this.hints.command('follow', e.workflowId)}`,
      );
      if (this.options.json)
        json({ workflowId: e.workflowId, runId: e.runId, status: 'RUNNING', waiting: waiting.request });
      return 0;
    }
    if (waiting) {
      err(
        [
          `⏸ Detached from ${e.workflowId}: it waits durably for an answer (${requestTitle(waiting.request.kind)}).`,
          '  Answer from any shell:',
          ...answerCommands(waiting.request, e.workflowId, this.hints).map((c) => `    ${c}`),
          `  then run its next steps: ${this.hints.command('follow', e.workflowId)}`,
        ].join('\n'),
      );
      return 130;
    }
    const ownQueue = e.taskQueue !== null && isOwnTaskQueue(e.taskQueue, e.workflowId);
    err(
      [
        `⏸ Detached from ${e.workflowId}.`,
        '  The run goes on durably in Temporal: no completed step is lost or paid again.',
        ...(ownQueue
          ? ['  No worker executes its steps now. Continue it (a worker, and its steps):']
          : [`  The workers of task queue "${e.taskQueue ?? '?'}" go on with it. Watch it:`]),
        `    ${this.hints.command('follow', e.workflowId)}`,
        `  Or stop it: ${this.hints.command('cancel', e.workflowId)}`,
      ].join('\n'),
    );
    return 130;
  }

  private say(line: string): void {
    this.endLive();
    err(line);
  }

  private endLive(): void {
    if (this.open) process.stderr.write('\n');
    this.open = null;
  }
}

/** Follows a run of `client` in a {@link FollowSession}; returns the exit code. */
export function followRun(
  client: AgentTeamClient,
  hints: Hints,
  options: SessionOptions,
  execute: (options: ExecuteOptions) => Promise<RunOutcome>,
): Promise<number> {
  const where = {
    address: client.target.address,
    namespace: client.target.namespace,
    webUiUrl: (workflowId: string, runId?: string) => client.webUiUrl(workflowId, runId),
  };
  return new FollowSession(where, hints, options).run(execute);
}
