/**
 * How the user runs this CLI, so that every command a message suggests works where they are: `npm start --`
 * from a checkout (the README's form), `npx agent-team` through npm exec, else the installed `agent-team`.
 */
export function cliCommand(env: NodeJS.ProcessEnv = process.env): string {
  if (env.npm_lifecycle_event === 'start' && env.npm_package_name === 'durable-agent-team') return 'npm start --';
  if (env.npm_command === 'exec') return 'npx agent-team';
  return 'agent-team';
}
