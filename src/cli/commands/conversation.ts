/**
 * Conversations with a run: `ask` follows up a finished run (the next turn: a new run of the same workflow id that
 * carries the conversation so far, none of it sent again); `tell` sends a running run a message that its
 * orchestrator reads at its next plan or progress ledger (`--interrupt`: at once, the model step in flight is
 * cancelled and the orchestrator replans).
 */
import type { Command } from 'commander';
import { MAX_MESSAGE_CHARS, MAX_TASK_CHARS } from '../../../workflows/types';
import { UsageError } from '../../shared/errors';
import type { Hints } from '../hints';
import {
  action,
  configOption,
  detachOption,
  err,
  executeOptions,
  json,
  jsonOption,
  liveOption,
  load,
  noWorkerOption,
  offlineOption,
  out,
  preflight,
  withClient,
  type CommonOptions,
  type ExecuteFlags,
} from '../common';
import { converse, followUpOption, holdsConversation, noFollowUpOption } from '../follow-ups';
import { followRun } from '../session';
import { textOf } from './answer';
import { askLine, turnLines, turnTotals } from '../render/turns';

interface AskFlags extends ExecuteFlags {
  by?: string;
  followUp?: boolean;
  from?: string;
  detach?: boolean;
  live?: boolean;
}

interface TellFlags extends CommonOptions {
  by?: string;
  interrupt?: boolean;
}

function registerAsk(program: Command): void {
  program
    .command('ask')
    .summary('follow up a finished run: the next turn of its conversation')
    .description(
      'Ask a finished run a follow-up: the team plans and answers it with the earlier turns in view (their ' +
        'questions and answers). The turn is the next run of the same workflow id; it carries the steps so far ' +
        '(none is sent again) and numbers its steps after them, so every step of every turn is a checkpoint. ' +
        'Cost and tokens are per turn and for the conversation; budget applies to the conversation.',
    )
    .argument('<workflowId>', 'the conversation (its latest run must have completed, unless --from)')
    .argument(
      '<followUp...>',
      `what to ask next, up to ${MAX_TASK_CHARS.toLocaleString('en-US')} characters (- reads it from stdin)`,
    )
    .option(
      '--from <checkpoint>',
      'follow up from this checkpoint of the workflow instead of its end (a failed or cancelled turn, or an earlier one)',
    )
    .option('--by <name>', 'who asks (default: this user)')
    .addOption(followUpOption())
    .addOption(noFollowUpOption())
    .addOption(detachOption())
    .addOption(liveOption())
    .addOption(offlineOption())
    .addOption(noWorkerOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExamples:\n  agent-team ask team-x "now benchmark them in Rust"\n' +
        '  agent-team ask team-x "what about timsort?" --from team-x@9\n' +
        '  cat question.md | agent-team ask team-x -\n' +
        '  agent-team turns team-x   (the turns so far, each with its cost)',
    )
    .action(
      action(async (workflowId: string, words: string[], options: AskFlags, hints: Hints) => {
        if (words.length > 1 && words.includes('-'))
          throw new UsageError('"-" reads the follow-up from stdin: give it alone, or give the follow-up as words');
        const text = await textOf(words.join(' '), 'the follow-up', MAX_TASK_CHARS);
        if (options.from !== undefined && !options.from.trim()) throw new UsageError('--from must not be empty');
        const conversing = holdsConversation(options);
        if (options.followUp && words.includes('-'))
          throw new UsageError('--follow-up reads the next follow-ups from stdin: give this one as words');
        const config = await preflight(options);
        return withClient(config, async (client) => {
          const code = await followRun(client, hints, { ...options, conversing }, async (follow) => {
            const outcome = await client.conversation.ask(workflowId, text, {
              ...(options.by !== undefined ? { by: options.by } : {}),
              ...(options.from !== undefined ? { from: options.from } : {}),
              onPlanned: (plan) => err(askLine(plan)),
              ...executeOptions(options),
              ...follow,
            });
            return outcome;
          });
          if (code !== 0 || !conversing) return code;
          return converse(client, hints, { ...options, conversing }, workflowId);
        });
      }),
    );
}

function registerTurns(program: Command): void {
  program
    .command('turns')
    .summary("the turns of a run's conversation, each with its steps and cost")
    .description(
      "The turns of a workflow's conversation (its first task, then each follow-up), oldest first: who asked, " +
        "the steps each took, its answer and its own tokens and cost, and the conversation's total",
    )
    .argument('<workflowId>', 'the conversation')
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (workflowId: string, options: CommonOptions) =>
        withClient(
          load(options),
          async (client) => {
            const turns = await client.conversation.turns(workflowId);
            if (options.json) json({ workflowId, turns, total: turnTotals(turns) });
            else for (const line of turnLines(turns)) out(line);
            return 0;
          },
          { checkRetention: false },
        ),
      ),
    );
}

export function registerConversation(program: Command): void {
  registerAsk(program);
  registerTurns(program);
  program
    .command('tell')
    .summary('send a running run a message for its orchestrator')
    .description(
      'Send a running run a message: its orchestrator reads it at its next plan or progress ledger and the team ' +
        'goes on with it in view. With --interrupt the model step in flight is stopped (its request is cancelled, ' +
        'so it is not paid twice) and the orchestrator replans with the message. The message is recorded in ' +
        'history, with who sent it and when; a run waiting on a person takes it too and reads it after the answer',
    )
    .argument('<workflowId>', 'the running workflow')
    .argument(
      '<message...>',
      `the message, up to ${MAX_MESSAGE_CHARS.toLocaleString('en-US')} characters (quote it, or pass the words; - reads it from stdin)`,
    )
    .option('--interrupt', 'stop the model step in flight and have the orchestrator replan with the message')
    .option('--by <name>', 'who sends it (default: this user)')
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExamples:\n  agent-team tell team-x "also consider timsort"\n' +
        '  agent-team tell team-x "stop: compare only stable sorts" --interrupt\n' +
        '  cat notes.md | agent-team tell team-x -',
    )
    .action(
      action(async (workflowId: string, words: string[], options: TellFlags, hints: Hints) => {
        if (words.length > 1 && words.includes('-'))
          throw new UsageError('"-" reads the message from stdin: give it alone, or give the message as words');
        const text = await textOf(words.join(' '), 'the message', MAX_MESSAGE_CHARS);
        return withClient(
          load(options),
          async (client) => {
            const told = await client.conversation.tell(workflowId, text, {
              ...(options.by !== undefined ? { by: options.by } : {}),
              ...(options.interrupt ? { interrupt: true } : {}),
            });
            if (options.json) json(told);
            else {
              out(`✉ ${told.id} taken by ${workflowId} after step ${told.step}`);
              err(
                told.interrupted !== null
                  ? `  Step ${told.interrupted} was stopped; the orchestrator replans with the message.`
                  : options.interrupt
                    ? '  No model step was in flight; the orchestrator replans with the message next.'
                    : '  The orchestrator reads it at its next plan or progress ledger (if this turn has\n' +
                      "  none left, the next turn's plan: ask a follow-up).",
              );
              err(`  Watch it: ${hints.command('follow', workflowId)}`);
            }
            return 0;
          },
          { checkRetention: false },
        );
      }),
    );
}
