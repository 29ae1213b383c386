/**
 * Commands to paste: the only place that writes `agent-team …` for a person. Errors and results carry what would
 * help as data ({@link NextStep}); this turns it into a command that works where the user is: the CLI as they run
 * it (`npm start --` from a checkout, `npx agent-team` through npm exec, else `agent-team`), each word quoted for a
 * POSIX shell where it needs it (a workflow id with spaces, quotes or emoji stays one word), and the options that
 * chose the server and namespace (`-c <file>`) carried over.
 */
import type { CommandWord, NextStep } from '../shared/errors';
import { shellWord } from '../shared/util';

/** How the user runs this CLI. */
export function cliCommand(env: NodeJS.ProcessEnv = process.env): string {
  if (env.npm_lifecycle_event === 'start' && env.npm_package_name === 'durable-agent-team') return 'npm start --';
  if (env.npm_command === 'exec') return 'npx agent-team';
  return 'agent-team';
}

/** The commands one invocation suggests. */
export class Hints {
  private readonly carried: string[];

  constructor(
    options: {
      /** The configuration file this invocation was given (`-c`): the commands it suggests name it too. */
      config?: string | undefined;
      env?: NodeJS.ProcessEnv;
    } = {},
    private readonly program = cliCommand(options.env),
  ) {
    this.carried = options.config ? ['-c', options.config] : [];
  }

  /** A command to paste: the program, `words` (a placeholder such as `<workflowId>` as is), the carried options. */
  command(...words: CommandWord[]): string {
    const word = (w: CommandWord): string => (typeof w === 'string' ? shellWord(w) : w.placeholder);
    return [this.program, ...words.map(word), ...this.carried.map(shellWord)].join(' ');
  }

  /** Next steps as lines: `  → <what it does>: <command>`. */
  lines(next: readonly NextStep[], indent = '  '): string[] {
    return next.map((n) => `${indent}→ ${n.purpose}: ${this.command(...n.args)}`);
  }
}
