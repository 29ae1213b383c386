/**
 * People in the loop: `pending` lists the runs waiting on a person; `approve`, `revise`, `reject` and `budget`
 * answer one, from any shell (the run takes the answer through its `answer` Update, whose validator refuses a
 * stale, malformed or second answer with nothing changed: exit 2).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UsageError } from '../../shared/errors';
import type { Hints } from '../hints';
import { requestLines } from '../render/text';
import type { AnswerInput, AnswerReceipt } from '../../client';
import { action, configOption, err, json, jsonOption, load, out, withClient, type CommonOptions } from '../common';

interface AnswerOptions extends CommonOptions {
  request?: string;
}

/** Answering or listing touches no run's data: no note on the namespace's retention. */
const QUIET = { checkRetention: false } as const;

const requestOption = (example = 'plan_review@1#0'): Option =>
  new Option('--request <id>', `the request to answer (default: the one the run waits on now), e.g. ${example}`);

/** Reads `--feedback -` / `--reason -` (or a message `-`) from stdin; anything else as given. */
export async function textOf(value: string, flag: string, max = 4000): Promise<string> {
  let text = value;
  if (value === '-') {
    if (process.stdin.isTTY) throw new UsageError(`${flag} -: reads stdin, which is a terminal: pipe the text in`);
    text = '';
    for await (const chunk of process.stdin) text += String(chunk);
  }
  if (!text.trim()) throw new UsageError(`${flag} must not be empty`);
  if (text.length > max) throw new UsageError(`${flag} is ${text.length} characters; the limit is ${max}`);
  return text.trim();
}

/** Sends the answer and says what happens next. */
async function answer(workflowId: string, input: AnswerInput, options: AnswerOptions, hints: Hints): Promise<number> {
  return withClient(
    load(options),
    async (client) => {
      const receipt: AnswerReceipt = await client.people.respond(
        workflowId,
        { ...input, ...(options.request ? { requestId: options.request } : {}) },
        { onNote: (note) => err(`  ${note}`) },
      );
      if (!options.json) out(`✔ ${receipt.requestId} of ${workflowId}: ${receipt.decision.replace('_', ' ')} taken`);
      if (input.decision === 'reject') err(`  The run ends CANCELED; its checkpoints stay resumable.`);
      else if (input.decision === 'stop' && receipt.served) err(`  The orchestrator writes the final answer now.`);
      else if (receipt.served) err(`  The run goes on. Watch it: ${hints.command('follow', workflowId)}`);
      else
        err(
          `  No worker serves the run now: continue it (a worker, and its steps) with ${hints.command('follow', workflowId)}`,
        );
      if (options.json) json(receipt);
      return 0;
    },
    QUIET,
  );
}

const positiveNumber = (value: string): number => {
  const x = Number(value);
  if (!Number.isFinite(x) || x <= 0) throw new InvalidArgumentError('expected a number > 0');
  return x;
};

export function registerAnswers(program: Command): void {
  program
    .command('pending')
    .summary('list the runs waiting on a person (plan review, approvals, budget)')
    .description(
      'List the running runs that wait on a person, longest waiting first: what each asks, since when, and the ' +
        'commands that answer it. No worker needs to be up: it reads visibility and each run’s memo',
    )
    .argument('[workflowId]', 'only this workflow')
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText('after', '\nExamples:\n  agent-team pending\n  agent-team pending --json')
    .action(
      action(async (workflowId: string | undefined, options: CommonOptions, hints: Hints) =>
        withClient(
          load(options),
          async (client) => {
            // A mistyped id is an error (exit 2), not an empty list.
            if (workflowId !== undefined) await client.context.describe(workflowId);
            const runs = await client.people.pending(workflowId);
            if (options.json) {
              json(runs);
              return 0;
            }
            if (runs.length === 0) {
              err(workflowId ? `${workflowId} waits on no one.` : 'No run waits on a person.');
              return 0;
            }
            for (const r of runs) {
              out(`${r.workflowId} · since ${r.since?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? '?'}`);
              for (const line of requestLines(r.request, r.workflowId, hints, 'elsewhere')) out(line);
              out('');
            }
            return 0;
          },
          QUIET,
        ),
      ),
    );

  program
    .command('approve')
    .summary('approve what a run waits on (its plan, a step, its final answer)')
    .description('Approve the plan, the step or the final answer a run waits on; the run goes on')
    .argument('<workflowId>', 'the waiting workflow')
    .addOption(requestOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText('after', '\nExample:\n  agent-team approve team-261130-101500-a1b2c3')
    .action(
      action(async (workflowId: string, options: AnswerOptions, hints: Hints) =>
        answer(workflowId, { decision: 'approve' }, options, hints),
      ),
    );

  program
    .command('revise')
    .summary('ask for a revised plan (or final answer), with feedback')
    .description(
      'Ask for a revision of what the run waits on, with your feedback: for a plan (or a step waiting for ' +
        'approval) the orchestrator writes a new plan with it (a new step, checkpointed); for a final answer, a ' +
        'new final answer',
    )
    .argument('<workflowId>', 'the waiting workflow')
    .requiredOption('--feedback <text>', 'what to change (- reads it from stdin)')
    .addOption(requestOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText('after', '\nExample:\n  agent-team revise team-261130-101500-a1b2c3 --feedback "add a benchmark step"')
    .action(
      action(async (workflowId: string, options: AnswerOptions & { feedback: string }, hints: Hints) =>
        answer(
          workflowId,
          { decision: 'revise', feedback: await textOf(options.feedback, '--feedback') },
          options,
          hints,
        ),
      ),
    );

  program
    .command('reject')
    .summary('reject a waiting run: it ends CANCELED with your reason')
    .description('Reject what a run waits on: the run ends CANCELED, with the reason and who rejected in its history')
    .argument('<workflowId>', 'the waiting workflow')
    .option('--reason <text>', 'why (- reads it from stdin)')
    .addOption(requestOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText('after', '\nExample:\n  agent-team reject team-261130-101500-a1b2c3 --reason "out of scope"')
    .action(
      action(async (workflowId: string, options: AnswerOptions & { reason?: string }, hints: Hints) =>
        answer(
          workflowId,
          {
            decision: 'reject',
            ...(options.reason !== undefined ? { reason: await textOf(options.reason, '--reason') } : {}),
          },
          options,
          hints,
        ),
      ),
    );

  program
    .command('budget')
    .summary('answer a run that spent its budget: add to it, or stop')
    .description(
      'A run past its budget (budget.on_exceed: pause) waits: add USD and/or tokens to its budget, or stop it (the ' +
        'orchestrator then writes its final answer from what the team has, marked as cut short by the budget)',
    )
    .argument('<workflowId>', 'the waiting workflow')
    .addOption(new Option('--add-usd <usd>', 'add this many US dollars').argParser(positiveNumber))
    .addOption(new Option('--add-tokens <n>', 'add this many tokens').argParser(positiveNumber))
    .option('--stop', 'stop: write the final answer now')
    .addOption(requestOption('budget@6#0'))
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExamples:\n  agent-team budget team-261130-101500-a1b2c3 --add-usd 0.50\n  agent-team budget team-261130-101500-a1b2c3 --stop',
    )
    .action(
      action(
        async (
          workflowId: string,
          options: AnswerOptions & { addUsd?: number; addTokens?: number; stop?: boolean },
          hints: Hints,
        ) => {
          const adding = options.addUsd !== undefined || options.addTokens !== undefined;
          if (adding === Boolean(options.stop)) {
            throw new UsageError('give --add-usd and/or --add-tokens, or --stop (one of the two answers)');
          }
          return answer(
            workflowId,
            options.stop
              ? { decision: 'stop' }
              : {
                  decision: 'add_budget',
                  ...(options.addUsd !== undefined ? { addUsd: options.addUsd } : {}),
                  ...(options.addTokens !== undefined ? { addTokens: options.addTokens } : {}),
                },
            options,
            hints,
          );
        },
      ),
    );
}
