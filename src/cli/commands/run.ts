/** `run <task…>` (or `run -`, `run --task-file F`): start the team on a task and follow it to its end. */
import type { Command } from 'commander';
import { validateTask } from '../../config';
import { MAX_TASK_CHARS } from '../../../workflows/types';
import { UsageError, errorMessage } from '../../shared/errors';
import type { Hints } from '../hints';
import {
  action,
  configOption,
  detachOption,
  liveOption,
  executeOptions,
  jsonOption,
  noWorkerOption,
  offlineOption,
  preflight,
  withClient,
  type ExecuteFlags,
} from '../common';
import { converse, followUpOption, holdsConversation, noFollowUpOption } from '../follow-ups';
import { followRun } from '../session';
import { forceOption, repeatSideEffectsOption, resume } from './resume';

/** The task: the words given, all of stdin (`-`), or a file; never a bare `-` as text. */
async function readTask(words: string[], taskFile: string | undefined, hints: Hints): Promise<string> {
  if (taskFile !== undefined) {
    if (words.length > 0) throw new UsageError('give the task as words, with -, or with --task-file, not several');
    const { readFileSync } = await import('node:fs');
    try {
      return readFileSync(taskFile, 'utf8');
    } catch (e) {
      throw new UsageError(`--task-file: cannot read ${taskFile} (${errorMessage(e)})`, { cause: e });
    }
  }
  if (words.includes('-')) {
    if (words.length > 1)
      throw new UsageError('"-" reads the task from stdin: give it alone, or give the task as words');
    if (process.stdin.isTTY) {
      throw new UsageError(
        `"-" reads the task from stdin, which is a terminal: pipe the task in, e.g. \`echo "…" | ${hints.command('run', '-')}\``,
      );
    }
    let text = '';
    for await (const chunk of process.stdin) {
      text += String(chunk);
      if (text.length > MAX_TASK_CHARS * 4) break; // enough to say it is too long
    }
    if (!text.trim()) throw new UsageError('"-" read the task from stdin, and stdin was empty: pipe the task in');
    return text;
  }
  return words.join(' ');
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .summary('run the team on a task')
    .description(
      'Run the team on a task and print the final answer (starts the embedded server and a worker as needed)',
    )
    .argument(
      '[task...]',
      `what the team should do, up to ${MAX_TASK_CHARS.toLocaleString('en-US')} characters (quote it, or pass the words; - reads it from stdin)`,
    )
    .option('--task-file <path>', 'read the task from this file')
    .option(
      '--workflow-id <id>',
      'workflow id for the run: any text up to 1,000 bytes (default: team-<yymmdd>-<hhmmss>-<random>)',
    )
    .option('--resume <checkpointId>', 'instead of a new run, resume from this checkpoint (same as `resume <id>`)')
    .option('--workspace <dir>', "the directory the agents' file tools work in (overrides tools.workspace)")
    .addOption(followUpOption())
    .addOption(noFollowUpOption())
    .addOption(detachOption())
    .addOption(liveOption())
    .addOption(forceOption())
    .addOption(repeatSideEffectsOption())
    .addOption(offlineOption())
    .addOption(noWorkerOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExamples:\n  agent-team run "Compare quicksort and mergesort"\n  agent-team run "Compare quicksort and mergesort" --offline --json\n' +
        '  echo "Compare quicksort and mergesort" | agent-team run -\n  agent-team run --resume <workflowId>@<step>\n' +
        '  agent-team run "Summarise the notes in ./docs" --workspace ./docs   (agents with file tools read there)\n' +
        '\nCtrl-C detaches: the run goes on in Temporal, and\n  agent-team follow <workflowId>\ncontinues it.\n' +
        '\nOn a terminal, the answer is followed by a prompt for a follow-up (the next turn of the conversation;\n' +
        'an empty line ends it); later: agent-team ask <workflowId> "<follow-up>".\n' +
        '\nWhen the run waits on a person (gates, budget in config/workflow.yaml), a terminal is asked; otherwise\n' +
        'the question and the commands that answer it are printed and the run is followed until someone does.',
    )
    .action(
      action(
        async (
          words: string[],
          options: ExecuteFlags & {
            workflowId?: string;
            resume?: string;
            force?: boolean;
            taskFile?: string;
            detach?: boolean;
            live?: boolean;
            workspace?: string;
            followUp?: boolean;
          },
          hints: Hints,
        ) => {
          if (options.force && options.resume === undefined)
            throw new UsageError('--force goes with --resume <checkpointId>');
          if (options.workspace !== undefined && options.resume !== undefined)
            throw new UsageError('--workspace goes with a new run: a resumed run keeps the workspace it started with');
          if (options.resume !== undefined) {
            if (words.length > 0 || options.taskFile !== undefined)
              throw new UsageError('give either a task or --resume <checkpointId>, not both');
            return resume(options.resume, options, hints);
          }
          if (words.length === 0 && options.taskFile === undefined)
            throw new UsageError("missing required argument 'task' (or -, --task-file, --resume <checkpointId>)");
          if (options.workflowId !== undefined && !options.workflowId.trim()) {
            throw new UsageError('--workflow-id must not be empty');
          }
          const conversing = holdsConversation(options);
          if (options.followUp && words.includes('-'))
            throw new UsageError('--follow-up reads the follow-ups from stdin: give the task as words or --task-file');
          const task = validateTask(await readTask(words, options.taskFile, hints));
          const config = await preflight(options);
          if (options.workspace !== undefined) {
            const { resolve } = await import('node:path');
            const { statSync } = await import('node:fs');
            const dir = resolve(options.workspace);
            if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
              throw new UsageError(`--workspace: ${dir} is not a directory`);
            config.workspaceDir = dir;
          }
          return withClient(config, async (client) => {
            let workflowId: string | null = null;
            const code = await followRun(client, hints, { ...options, conversing }, async (follow) => {
              const outcome = await client.runs.run(task, {
                ...(options.workflowId ? { workflowId: options.workflowId } : {}),
                ...executeOptions(options),
                ...follow,
              });
              workflowId = outcome.workflowId;
              return outcome;
            });
            // After the answer, the next turn: on a terminal (or with --follow-up), until an empty line.
            if (code !== 0 || workflowId === null || !conversing) return code;
            return converse(client, hints, { ...options, conversing }, workflowId);
          });
        },
      ),
    );
}
