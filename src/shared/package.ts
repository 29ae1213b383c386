/** This package: its root folder, its version, and where it keeps caches (never inside the package itself). */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** The package root: the nearest folder above this file with a package.json, skipping dist/. */
export const PACKAGE_ROOT = ((): string => {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (basename(dir) !== 'dist' && existsSync(join(dir, 'package.json'))) return dir;
  }
  return process.cwd();
})();

/** This package's version. */
export const PACKAGE_VERSION: string = (
  JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/**
 * The cache folder (workflow bundles, the Temporal CLI it installs): $AGENT_TEAM_CACHE_DIR, else
 * $XDG_CACHE_HOME/durable-agent-team, else ~/.cache/durable-agent-team. The package's own folder may be
 * read-only (a global install, a container image), so nothing is written there.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AGENT_TEAM_CACHE_DIR) return env.AGENT_TEAM_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'durable-agent-team');
}
