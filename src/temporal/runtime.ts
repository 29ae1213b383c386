/**
 * The Temporal SDK's process-wide Runtime, as this project installs it where native code runs (workers,
 * replay): warnings only by default, one readable line each, or JSON lines for a log shipper
 * (AGENT_TEAM_LOG_FORMAT=json), and the SDK's Prometheus metrics on request (AGENT_TEAM_METRICS_ADDRESS).
 * The environment is read here, once, and nowhere else.
 */
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Runtime, makeTelemetryFilterString } from '@temporalio/worker';

let installed = false;

/** The activities whose failures log their own line, with the next try. */
const STEP_ACTIVITIES = new Set(['callAgent', 'callTool']);

/** AGENT_TEAM_LOG_FORMAT=json: every stderr line is a JSON object. */
export const jsonLogs = (env: NodeJS.ProcessEnv = process.env): boolean => env.AGENT_TEAM_LOG_FORMAT === 'json';

/**
 * Installs the Runtime (once per process). Signals are left to the caller (`shutdownSignals: []`): the CLI
 * decides what Ctrl-C means (detach from a run, or stop a worker gracefully). A Runtime that no native object
 * registers with keeps nothing alive, so this is only called where a worker or replayer will run.
 */
export function installRuntime(log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): void {
  if (installed) return;
  installed = true;
  const level = (env.AGENT_TEAM_LOG_LEVEL?.toUpperCase() ?? 'WARN') as 'WARN';
  const json = jsonLogs(env);
  const metrics = env.AGENT_TEAM_METRICS_ADDRESS;
  try {
    Runtime.install({
      shutdownSignals: [],
      logger: new DefaultLogger(level, ({ level: lvl, message, meta, timestampNanos }) => {
        const error = meta?.error instanceof Error ? meta.error : undefined;
        if (json) {
          // One object per line: the SDK's context (workflowId, runId, activityType, attempt, …) and ours
          // (agent, round, kind, tokens) as fields.
          const fields = Object.fromEntries(
            Object.entries(meta ?? {}).filter(
              ([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v),
            ),
          );
          process.stderr.write(
            JSON.stringify({
              time: new Date(Number(timestampNanos / 1_000_000n)).toISOString(),
              level: lvl,
              message,
              ...fields,
              ...(error ? { error: error.message } : {}),
            }) + '\n',
          );
          return;
        }
        // The run's own report says how a run failed: the SDK's line would only repeat it.
        if (message === 'Workflow failed') return;
        // An answering process hosts a worker without activities on purpose (it must not start a step).
        if (message.startsWith('No activities registered')) return;
        // A step's attempt that failed: the activity says what, and when the next try is (activities/index.ts);
        // the SDK's own line for it would say "failed" twice, without the when.
        if (message === 'Activity failed' && STEP_ACTIVITIES.has(String(meta?.activityType))) return;
        if (typeof meta?.nextTry === 'string') {
          log(`  ${meta.final ? '✖' : '↻'} ${message}`);
          return;
        }
        const attempt = typeof meta?.attempt === 'number' ? ` (attempt ${meta.attempt})` : '';
        const final = error instanceof ApplicationFailure && error.nonRetryable;
        const mark = message === 'Activity failed' ? (final ? '✖' : '↻') : lvl.toLowerCase() + ':';
        const what = message === 'Activity failed' && !final ? 'Step failed, will retry' : message;
        log(`  ${mark} ${final ? 'Step failed, not retried' : what}${attempt}${error ? `: ${error.message}` : ''}`);
      }),
      // The Rust core logs on its own to stdout unless forwarded: route it through the logger above, so
      // stdout only ever carries results (`--json` stays parseable).
      telemetryOptions: {
        logging: { filter: makeTelemetryFilterString({ core: level, other: 'ERROR' }), forward: {} },
        ...(metrics ? { metrics: { prometheus: { bindAddress: metrics } } } : {}),
      },
    });
  } catch {
    // already installed by the host application: keep its settings
  }
}
