/**
 * docs/cli.md, made from the program itself: every command's `--help` at 80 columns. A unit test compares the
 * file with this, so the reference cannot drift from the code; `npm run docs:cli` rewrites it.
 */
import type { Command } from 'commander';
import { buildProgram } from './main';

/** Every command of the program, depth first, with its path (`checkpoints list`). */
function commandsOf(command: Command, path: string[] = []): { path: string[]; command: Command }[] {
  return command.commands.flatMap((sub) => [
    { path: [...path, sub.name()], command: sub },
    ...commandsOf(sub, [...path, sub.name()]),
  ]);
}

/** What `--help` prints: the help and the text commands add after it (examples, notes). */
function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => void (text += s), writeErr: (s) => void (text += s) });
  command.outputHelp();
  return text.trimEnd();
}

export function cliReference(): string {
  const program = buildProgram({ helpWidth: 80 });
  const sections = commandsOf(program).map(
    ({ path, command }) => `## agent-team ${path.join(' ')}\n\n\`\`\`text\n${helpOf(command)}\n\`\`\`\n`,
  );
  return [
    '# CLI reference',
    '',
    '<!-- Made by `npm run docs:cli` from the commands; test/unit/docs.test.ts',
    '     keeps it so. -->',
    '',
    'From a checkout, `npx agent-team <command>` (or `npm start -- <command>`);',
    'installed, `agent-team <command>`. Exit codes: **0** success; **1** the run',
    'or operation failed; **2** bad usage or configuration (nothing was started',
    'or changed); **130** interrupted by Ctrl-C (a run goes on in Temporal:',
    '`agent-team follow <workflowId>` continues it). With `--json`, stdout carries',
    'one JSON document and nothing else; progress goes to stderr.',
    '',
    '```text',
    helpOf(program),
    '```',
    '',
    ...sections,
  ].join('\n');
}

if (require.main === module) {
  process.stdout.write(cliReference());
}
