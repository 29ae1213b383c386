/**
 * No length limit: a run continues as new before its history grows past a bound (the server's suggestion,
 * `continueAsNewSuggested`, or `TeamInput.continueAsNewAfterEvents`), carrying what it has done as the next link's
 * seed: every step so far (inline, or read in pieces from this link's history when over the input limit), the
 * answers, people's messages and follow-ups each after the step count it followed. The next link folds them with
 * the same reducer, so nothing is sent again and step numbers go on; each link is a run of the same workflow id,
 * which every command reads as the conversation's chain (see docs/conversations.md).
 *
 * No I/O: bundled into the workflow sandbox.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { TeamState } from './model';
import { utf8Length } from './requests';
import type { HumanAnswer, PersonMessage, RestoreSeed, StepResult, TeamInput } from './types';

/** The patch that marks histories whose runs may continue as new (older ones replay as they ran). */
export const CONTINUE_AS_NEW_PATCH = 'continue-as-new';

/** Events a link may reach before it continues as new, unless its input says otherwise (Temporal warns at 10,240). */
export const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;

/**
 * Steps a link runs before it follows the server's suggestion (`continueAsNewSuggested`, from 4,096 events or 4 MB
 * by default): a large seed alone can pass the size, and a link that handed over before a step of its own would
 * hand over again at once, for ever.
 */
const MIN_STEPS_BEFORE_SUGGESTED = 20;

/** A seed's steps carried inline up to this much JSON; past it, the next link reads them in pieces. */
const INLINE_SEED_BYTES = 1_000_000;

/** What a link has done, recorded as it goes, for the next link's seed. */
export class LinkRecord {
  private readonly steps: StepResult[];
  private readonly seeded: number;
  private readonly answers: NonNullable<RestoreSeed['answers']>;
  private readonly messages: NonNullable<RestoreSeed['messages']>;

  constructor(
    private readonly input: TeamInput,
    seeded: readonly StepResult[],
  ) {
    this.steps = [...seeded];
    this.seeded = seeded.length;
    this.answers = [...(input.restore?.answers ?? [])];
    this.messages = [...(input.restore?.messages ?? [])];
  }

  step(result: StepResult): void {
    this.steps.push(result);
  }

  answer(afterSteps: number, answer: HumanAnswer): void {
    this.answers.push({ afterSteps, answer });
  }

  message(afterSteps: number, message: PersonMessage): void {
    this.messages.push({ afterSteps, message });
  }

  /**
   * Whether this link should hand over now: the run has more to do, this link has run a step of its own, and its
   * history is past the bound (or the server suggests it, after a few steps of its own).
   */
  due(state: TeamState): boolean {
    if (state.phase === 'done' || state.rejected) return false;
    const own = this.steps.length - this.seeded;
    if (own === 0) return false;
    const info = workflowInfo();
    const bound = this.input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;
    return info.historyLength >= bound || (info.continueAsNewSuggested && own >= MIN_STEPS_BEFORE_SUGGESTED);
  }

  /** The next link's input: this one's, with everything done so far as its seed. */
  nextInput(): TeamInput {
    const { base, turns } = carriedOver(this.input, this.seeded);
    const { workflowId, runId } = workflowInfo();
    const inline = utf8Length(JSON.stringify(this.steps)) <= INLINE_SEED_BYTES;
    const restore: RestoreSeed = {
      checkpointId: '',
      workflowId,
      runId,
      continued: true,
      steps: inline ? this.steps : [],
      ...(inline ? {} : { pieces: { workflowId, runId, count: this.steps.length } }),
      ...(this.answers.length ? { answers: this.answers } : {}),
      ...(this.messages.length ? { messages: this.messages } : {}),
      ...(turns.length ? { turns } : {}),
    };
    return { ...base, restore };
  }
}

/**
 * What a run's input hands on to a run that continues from it (a link continued as new, a fork, a follow-up, a
 * restore): the input without its seed and follow-up, the fork's note dropped (its first ledger read it), and the
 * conversation's follow-ups so far, this run's own after the `seeded` steps it started from.
 */
export function carriedOver(
  input: TeamInput,
  seeded: number,
): { base: Omit<TeamInput, 'restore' | 'followUp'>; turns: NonNullable<RestoreSeed['turns']> } {
  const { restore: previous, followUp, ...base } = input;
  if (base.fork?.note !== undefined) {
    const { note: _read, ...fork } = base.fork;
    base.fork = fork;
  }
  const turns = [...(previous?.turns ?? []), ...(followUp ? [{ afterSteps: seeded, followUp }] : [])];
  return { base, turns };
}
