/**
 * A conversation on the terminal (`run --follow-up`, `ask --follow-up`, and `run` on a terminal by default): after
 * each answer, the next follow-up is read (a prompt on stderr, or the next line of piped stdin) and asked as the
 * next turn, until an empty line or the end of input.
 */
import { createInterface, type Interface } from 'node:readline';
import { Option } from 'commander';
import type { AgentTeamClient } from '../client';
import { err, executeOptions, type ExecuteFlags } from './common';
import type { Hints } from './hints';
import { followRun, type SessionOptions } from './session';
import { askLine } from './render/turns';

/** `--follow-up`, for the commands that end with an answer (`run`, `ask`); with {@link noFollowUpOption}. */
export const followUpOption = (): Option =>
  new Option(
    '--follow-up',
    'after the answer, read follow-ups (each the next turn) from the terminal or stdin, one per line, until an ' +
      'empty line (the default on a terminal; with --json, one JSON object per turn, a line each)',
  );
export const noFollowUpOption = (): Option => new Option('--no-follow-up', 'end after the answer, even on a terminal');

/** Whether a command holds a conversation: `--follow-up` / `--no-follow-up`, else on a terminal without --json. */
export function holdsConversation(options: { followUp?: boolean; json?: boolean; detach?: boolean }): boolean {
  if (options.followUp !== undefined) return options.followUp;
  return !options.json && !options.detach && Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/** Reads follow-ups: prompted on a terminal, line by line from a pipe; null at an empty line or the end. */
class FollowUpReader {
  private lines: AsyncIterator<string> | null = null;
  private rl: Interface | null = null;

  async next(): Promise<string | null> {
    if (process.stdin.isTTY) {
      const { input } = await import('@inquirer/prompts');
      try {
        const text = await input(
          { message: 'Follow up (an empty line ends the conversation)' },
          { output: process.stderr, clearPromptOnDone: false },
        );
        return text.trim() || null;
      } catch (e) {
        if (e instanceof Error && e.name === 'ExitPromptError') return null; // Ctrl-C at the prompt
        throw e;
      }
    }
    if (!this.lines) {
      this.rl = createInterface({ input: process.stdin, terminal: false });
      this.lines = this.rl[Symbol.asyncIterator]();
    }
    const { value, done } = await this.lines.next();
    if (done) return null;
    const text = String(value).trim();
    if (text) err(`↪ Follow-up: ${text.length > 70 ? `${text.slice(0, 69)}…` : text}`);
    return text || null;
  }

  close(): void {
    this.rl?.close();
  }
}

/** Asks follow-ups of `workflowId` until the person ends the conversation; the exit code of the last turn. */
export async function converse(
  client: AgentTeamClient,
  hints: Hints,
  options: ExecuteFlags & SessionOptions,
  workflowId: string,
): Promise<number> {
  const reader = new FollowUpReader();
  try {
    for (;;) {
      const text = await reader.next();
      if (text === null) return 0;
      const code = await followRun(client, hints, options, (follow) =>
        client.conversation.ask(workflowId, text, {
          onPlanned: (plan) => err(askLine(plan)),
          ...executeOptions(options),
          ...follow,
        }),
      );
      if (code !== 0) return code;
    }
  } finally {
    reader.close();
  }
}
