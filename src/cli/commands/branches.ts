/**
 * `fork <checkpoint>` (a new workflow from the state at any checkpoint, with edits) and `branches <workflowId>`
 * (the tree of its forks). See docs/branches.md.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { Hints } from '../hints';
import type { ForkEdits } from '../../branches/edits';
import { parseAnswerEdit, parseModelEdit } from '../../branches/edits';
import { parseCheckpointId } from '../../checkpoints/ids';
import { loadConfig } from '../../config';
import { UsageError } from '../../shared/errors';
import { forkLine, forkTree } from '../render/branches';
import { renderComparison, renderComparisonHtml } from '../render/compare';
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
  writeAtomically,
  type CommonOptions,
  type ExecuteFlags,
} from '../common';
import { followRun } from '../session';

interface ForkFlags extends ExecuteFlags {
  workflowId?: string;
  answer?: string[];
  task?: string;
  note?: string;
  model?: string[];
  teamConfig?: string;
  tools?: string;
  detach?: boolean;
  live?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `<text>` as given, or the contents of `@<file>`. */
function textOrFile(text: string, flag: string): string {
  if (!text.startsWith('@')) return text;
  try {
    return readFileSync(text.slice(1), 'utf8');
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${text.slice(1)} (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
}

/** The edits the flags ask for. */
function editsOf(options: ForkFlags): ForkEdits {
  const answers = (options.answer ?? []).map((a) => {
    const edit = parseAnswerEdit(a);
    return { step: edit.step, text: textOrFile(edit.text, `--answer ${edit.step}`) };
  });
  const models = Object.fromEntries((options.model ?? []).map(parseModelEdit));
  return {
    ...(answers.length ? { answers } : {}),
    ...(options.task !== undefined ? { task: textOrFile(options.task, '--task') } : {}),
    ...(options.note !== undefined ? { note: textOrFile(options.note, '--note') } : {}),
    ...(Object.keys(models).length ? { models } : {}),
    ...(options.teamConfig !== undefined ? { config: loadConfig(options.teamConfig) } : {}),
    ...(options.tools !== undefined ? { tools: options.tools as 'live' | 'replay' } : {}),
  };
}

export function registerBranches(program: Command): void {
  program
    .command('fork')
    .summary('start a new workflow from any checkpoint of a run, with edits')
    .description(
      'Start a new workflow from the state at a checkpoint: the steps up to it are reused (not sent again) and keep ' +
        'their numbers; the source is untouched. Edits are checked before anything starts. The fork keeps the ' +
        "source's team unless --team-config or --model says otherwise (-c only chooses the server, as everywhere)",
    )
    .argument('<checkpointId>', 'a checkpoint id from `checkpoints list` (`<workflowId>@<step>`)')
    .option('--workflow-id <id>', "the fork's workflow id (default: <source>-fork-<random>)")
    .option(
      '--answer <step=text>',
      'replace the recorded answer of a step up to the fork (text, or @file); repeatable',
      collect,
    )
    .option('--task <text>', 'a new task from the fork on (text, or @file)')
    .option('--note <text>', 'a note the orchestrator reads at its next progress ledger (text, or @file)')
    .option(
      '--team-config <file>',
      'a configuration file whose team and run settings (models, prompts, tools, gates, budget) apply from the fork on',
    )
    .addOption(
      new Option(
        '--tools <mode>',
        'replay: calls the source made after the fork get its results, other calls run only to read-only tools (nothing outside changes); live: every call runs',
      )
        .choices(['replay', 'live'])
        .default('replay'),
    )
    .option('--model <agent=model>', 'another model for an agent from the fork on; repeatable', collect)
    .addOption(detachOption())
    .addOption(liveOption())
    .addOption(offlineOption())
    .addOption(noWorkerOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExamples:\n  agent-team fork team-x@4 --answer 4=@better-research.md\n' +
        '  agent-team fork team-x@6 --model coder=gpt-4o --note "prefer the standard library"\n' +
        '  agent-team compare team-x team-x-fork-1a2b3c',
    )
    .action(
      action(async (checkpointId: string, options: ForkFlags, hints: Hints) => {
        parseCheckpointId(checkpointId); // a damaged id fails before any connection
        if (options.workflowId !== undefined && !options.workflowId.trim())
          throw new UsageError('--workflow-id must not be empty');
        const edits = editsOf(options); // a bad edit fails before any connection
        const config = await preflight(options);
        return withClient(config, async (client) =>
          followRun(client, hints, options, (follow) =>
            client.branches.fork(checkpointId, {
              edits,
              onPlanned: (checkpoint, changed) => err(forkLine(checkpoint, changed)),
              ...(options.workflowId ? { workflowId: options.workflowId } : {}),
              ...executeOptions(options),
              ...follow,
            }),
          ),
        );
      }),
    );

  program
    .command('branches')
    .summary('the tree of forks of a workflow')
    .description(
      'The forks of a workflow, their forks, and so on: each with its status, the checkpoint it came from and what was edited',
    )
    .argument('<workflowId>', 'the workflow whose forks to show')
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (workflowId: string, options: CommonOptions) => {
        const tree = await withClient(load(options), (client) => client.branches.tree(workflowId));
        if (options.json) json(tree);
        else out(forkTree(tree));
      }),
    );

  program
    .command('compare')
    .summary('compare branches: the shared steps once, then side by side from where they diverge')
    .description(
      'Compare two or more branches (workflow ids, or checkpoints for a run up to there): the steps they share, then ' +
        "each step from the divergence with the answers' word-level differences, the final answers and the totals",
    )
    .argument('<branches...>', 'two or more workflow ids or checkpoints')
    .option('--width <columns>', "fit the text to this many columns (default: the terminal's, else 80)")
    .addOption(
      new Option('--format <format>', 'text (fitted to the terminal) or html (one self-contained page)')
        .choices(['text', 'html'])
        .default('text'),
    )
    .option('-o, --output <file>', 'write here (default: stdout)')
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (refs: string[], options: CommonOptions & { width?: string; format: string; output?: string }) => {
        if (refs.length < 2) throw new UsageError('compare needs two branches or more (workflow ids or checkpoints)');
        const width = options.width === undefined ? (process.stdout.columns ?? 80) : Number(options.width);
        if (!Number.isInteger(width) || width < 40)
          throw new UsageError('--width must be a whole number of columns, 40 or more');
        if (options.json && options.format === 'html') throw new UsageError('give --json or --format html, not both');
        const comparison = await withClient(load(options), (client) => client.branches.compare(refs));
        const text = options.json
          ? JSON.stringify(comparison, null, 2)
          : options.format === 'html'
            ? renderComparisonHtml(comparison)
            : renderComparison(comparison, width);
        if (options.output) {
          await writeAtomically(options.output, text + '\n');
          err(`✔ comparison of ${refs.length} branches → ${options.output}`);
        } else out(text);
      }),
    );
}
