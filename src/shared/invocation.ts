/**
 * How the user runs this CLI, so that every command a message suggests works where they are: `npm start --`
 * from a checkout (the README's form), `npx agent-team` through npm exec, else the installed `agent-team`; with
 * the options that chose the server and namespace (`-c <file>`) carried over, and every word quoted for a shell.
 */
import { shellWord } from './util';

/** The options this invocation was given that any command it suggests needs too (`-c <file>`). */
const carried: string[] = [];

/**
 * Remembers the configuration file this invocation was given (`-c`), so that the commands it suggests name it:
 * a hint pasted back then reaches the same server and namespace. The CLI calls it once it has read the file.
 */
export function carryConfigOption(path: string | undefined): void {
  carried.length = 0;
  if (path) carried.push('-c', path);
}

export function cliCommand(env: NodeJS.ProcessEnv = process.env): string {
  if (env.npm_lifecycle_event === 'start' && env.npm_package_name === 'durable-agent-team') return 'npm start --';
  if (env.npm_command === 'exec') return 'npx agent-team';
  return 'agent-team';
}

/**
 * A command to paste: the CLI as the user runs it, then `words`, each quoted for a POSIX shell when it needs it
 * (a workflow id with spaces, quotes or emoji stays one word), then the carried options (`-c <file>`).
 * A word given as `{ raw: '…' }` is printed as is (a placeholder such as `"why"`).
 */
export function command(...words: (string | { raw: string })[]): string {
  return [
    cliCommand(),
    ...words.map((w) => (typeof w === 'string' ? shellWord(w) : w.raw)),
    ...carried.map(shellWord),
  ].join(' ');
}
