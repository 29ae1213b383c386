/**
 * The workflow code bundle, built once per change of the workflow sources and kept in the cache folder
 * (bundling takes seconds; a cached bundle loads in milliseconds).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { cacheDir } from '../shared/package';
import { silentLogger } from '../shared/util';
import { WORKFLOW_TRACING_MODULE, tracingFromEnv } from '../temporal/tracing';

/** The workflow bundle's entry: the .ts source under tsx/jest, the compiled .js under dist/. */
export const WORKFLOWS_PATH = require.resolve('../../workflows');

function sourceDigest(dir: string): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(require.resolve('@temporalio/worker/package.json')));
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name);
    if (statSync(file).isFile()) hash.update(name).update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The bundle for this process's workers: with Temporal's OpenTelemetry workflow interceptors when traces are on
 * (`traced`, default: as the environment says; see ../temporal/tracing.ts), else the plain one. The interceptors
 * add headers and sink calls, never a command, so either bundle replays the other's histories.
 */
export async function workflowBundle(options: { traced?: boolean } = {}): Promise<{ codePath: string }> {
  const traced = options.traced ?? tracingFromEnv() !== null;
  const dir = join(cacheDir(), 'workflow-bundles');
  const codePath = join(dir, `agent-team-${sourceDigest(join(WORKFLOWS_PATH, '..'))}${traced ? '-traced' : ''}.js`);
  if (!existsSync(codePath)) {
    const { code } = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      ...(traced ? { workflowInterceptorModules: [WORKFLOW_TRACING_MODULE] } : {}),
      logger: { ...silentLogger, error: console.error },
    });
    mkdirSync(dir, { recursive: true });
    const tmp = `${codePath}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, codePath);
  }
  return { codePath };
}
