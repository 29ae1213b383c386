#!/usr/bin/env node
/**
 * `agent-team`: the command line. Each command (./commands/*) parses and validates its input, calls the
 * client module (src/client/app.ts), prints (JSON with --json), and closes what it opened. Exit codes: 0
 * success, 1 the run or operation failed, 2 bad usage or configuration (nothing was started or changed).
 */
import { Command, CommanderError } from 'commander';
import { PACKAGE_VERSION } from '../shared/package';
import { errorMessage } from '../shared/errors';
import { registerAnswers } from './commands/answer';
import { registerBranches } from './commands/branches';
import { registerCheckpoints } from './commands/checkpoints';
import { registerControl } from './commands/control';
import { registerConversation } from './commands/conversation';
import { registerHistory } from './commands/history';
import { registerReplay } from './commands/replay';
import { registerResume } from './commands/resume';
import { registerRun } from './commands/run';
import { registerServer } from './commands/server';
import { registerTools } from './commands/tools';
import { registerWorker } from './commands/worker';
import { err } from './common';

/** The program; `helpWidth` fixes the width of `--help` (default: the terminal's, else 80). */
export function buildProgram(options: { helpWidth?: number } = {}): Command {
  const program = new Command('agent-team')
    .description(
      'A team of LLM agents (orchestrator, researcher, coder, analyst) running as a durable Temporal workflow.\n' +
        'Temporal history is the checkpoint store and the audit trail.',
    )
    .version(PACKAGE_VERSION)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  if (options.helpWidth) program.configureHelp({ helpWidth: options.helpWidth });
  registerRun(program);
  registerResume(program);
  registerBranches(program);
  registerControl(program);
  registerAnswers(program);
  registerConversation(program);
  registerReplay(program);
  registerCheckpoints(program);
  registerHistory(program);
  registerWorker(program);
  registerServer(program);
  registerTools(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  // `agent-team … | head`: a reader that stops early is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode =
        e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
      return;
    }
    throw e;
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    err(`agent-team: error: ${errorMessage(e)}`);
    process.exitCode = 1;
  });
}
