/**
 * Messages to a running run (`agent-team tell`, or the `tell` Update with plain Temporal): the orchestrator reads
 * each at its next plan or progress ledger; one that interrupts stops the model step in flight and has the
 * orchestrator replan with it. A message is taken in the workflow task the Update arrives in, and recorded in
 * the memo (`lastMessage`) there, so the checkpoint tools fold it in the order the run took it.
 */
import { defineUpdate, setHandler, upsertMemo } from '@temporalio/workflow';
import type { TeamState } from './model';
import { apply } from './state';
import { MAX_MESSAGE_CHARS, type PersonMessage } from './types';

/** What a person sends: the text, who they are, and whether to interrupt the step in flight. */
export interface TellInput {
  text: string;
  by?: string | null;
  interrupt?: boolean;
}

/** What the `tell` Update returns once the run has taken the message. */
export interface TellReceipt {
  id: string;
  /** Steps completed when it was taken: the orchestrator reads it at a step after this one. */
  step: number;
  /** An interrupted model step (its number), when the message stopped one. */
  interrupted: number | null;
}

/** Update: a message for the orchestrator (see the module's comment). Refused, changing nothing, once the run has answered. */
export const tellUpdate = defineUpdate<TellReceipt, [TellInput]>('tell');

/** Why `message` cannot be taken by a run in `state`, or null when it can. */
export function checkMessage(state: TeamState, message: TellInput): string | null {
  if (!message || typeof message.text !== 'string' || !message.text.trim()) return 'the message is empty';
  if (message.text.length > MAX_MESSAGE_CHARS) {
    return `the message is ${message.text.length} characters, over the ${MAX_MESSAGE_CHARS} a message may have`;
  }
  if (message.by !== undefined && message.by !== null && typeof message.by !== 'string') return '`by` must be a string';
  if (state.phase === 'done') return 'the run has answered already: a message would never be read';
  return null;
}

/**
 * Takes messages for the run whose state `run` reads and replaces. `interrupt`: stops the model step running now and
 * returns its number (null between steps).
 */
export function takeMessages(run: {
  state: () => TeamState;
  setState: (state: TeamState) => void;
  /** Told of each message taken, after how many steps (a run that continues as new carries them on). */
  taken?: (message: PersonMessage, afterSteps: number) => void;
  interrupt: () => number | null;
}): void {
  setHandler(
    tellUpdate,
    (input) => {
      const state = run.state();
      const message: PersonMessage = {
        id: `msg-${(state.told?.length ?? 0) + 1}`,
        text: input.text.trim(),
        by: input.by?.trim() || null,
        // Workflow time: the same on replay.
        at: new Date().toISOString(),
        ...(input.interrupt ? { interrupt: true } : {}),
      };
      run.setState(apply(state, { message }));
      run.taken?.(message, state.steps);
      upsertMemo({ lastMessage: message });
      return { id: message.id, step: state.steps, interrupted: input.interrupt ? run.interrupt() : null };
    },
    {
      validator: (input) => {
        const problem = checkMessage(run.state(), input);
        if (problem) throw new Error(problem);
      },
    },
  );
}
