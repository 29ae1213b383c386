/**
 * Conversations with a run: `tell` sends a running run a message that its orchestrator reads at its next plan or
 * progress ledger (`--interrupt`: at once, the model step in flight is cancelled and the orchestrator replans).
 */
import type { Command } from 'commander';
import { MAX_MESSAGE_CHARS } from '../../../workflows/types';
import type { Hints } from '../hints';
import { action, configOption, err, json, jsonOption, load, out, withClient, type CommonOptions } from '../common';
import { textOf } from './answer';

interface TellFlags extends CommonOptions {
  by?: string;
  interrupt?: boolean;
}

export function registerConversation(program: Command): void {
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
    .argument('<message>', `the message (up to ${MAX_MESSAGE_CHARS} characters; - reads it from stdin)`)
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
      action(async (workflowId: string, message: string, options: TellFlags, hints: Hints) => {
        const text = await textOf(message, 'the message', MAX_MESSAGE_CHARS);
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
                    : '  The orchestrator reads it at its next plan or progress ledger.',
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
