/**
 * OpenTelemetry traces, off by default: Temporal's own interceptors (`@temporalio/interceptors-opentelemetry`)
 * carry the trace context from the client that starts a run, through the workflow (spans made in the sandbox
 * and handed to the worker by a sink, never during replay), to every activity attempt; each step's activity
 * span gets the step's attributes (`agent_team.*`, `gen_ai.*`, set in activities/).
 *
 * On when the standard variables ask for traces: `OTEL_TRACES_EXPORTER=otlp|console`, or an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) without `OTEL_TRACES_EXPORTER=none`;
 * `OTEL_SDK_DISABLED=true` turns them off. The exporter is OTLP over HTTP (JSON), configured by the usual
 * `OTEL_EXPORTER_OTLP_*` variables (endpoint, headers, timeout); `OTEL_SERVICE_NAME` names the service
 * (default `agent-team`), `OTEL_RESOURCE_ATTRIBUTES` adds to it.
 */
import type { Resource } from '@opentelemetry/resources';
import type { BasicTracerProvider, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { ConfigError, errorMessage } from '../shared/errors';
import { PACKAGE_VERSION } from '../shared/package';

export type TraceExporterKind = 'otlp' | 'console';

const EXPORTERS = ['otlp', 'console', 'none'];

/** The exporters OTEL_TRACES_EXPORTER lists (lower case), or null when OTEL_SDK_DISABLED turns everything off. */
function exportersIn(env: NodeJS.ProcessEnv): string[] | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return null;
  return (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * Refuses trace settings that cannot be what was meant (exit 2, naming the variable): an exporter this project
 * does not have; when traces are on, an endpoint that is not an http(s) URL.
 */
export function checkTracingEnv(env: NodeJS.ProcessEnv = process.env): void {
  const exporters = exportersIn(env);
  if (!exporters) return;
  const unknown = exporters.filter((x) => !EXPORTERS.includes(x));
  if (unknown.length > 0) {
    throw new ConfigError(
      `OTEL_TRACES_EXPORTER: "${unknown.join(',')}" is not an exporter this project has (otlp, console or none); ` +
        'unset it to keep traces off',
    );
  }
  if (!tracingFromEnv(env)) return;
  for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] as const) {
    const value = env[name];
    if (!value) continue;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol)) {
      throw new ConfigError(`${name}: "${value}" is not an http(s) URL (e.g. http://127.0.0.1:4318)`);
    }
  }
}

/** Which exporter the environment asks for, or null when traces are off. */
export function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): TraceExporterKind | null {
  const exporters = exportersIn(env);
  if (!exporters || exporters.includes('none')) return null;
  if (exporters.includes('otlp')) return 'otlp';
  if (exporters.includes('console')) return 'console';
  if (exporters.length > 0) return null;
  return env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : null;
}

interface Tracing {
  provider: BasicTracerProvider;
  processor: SpanProcessor;
  resource: Resource;
}

let current: Promise<Tracing | null> | undefined;
let started: Tracing | null = null;

/**
 * This process's tracer provider, registered globally on first use, or null when traces are off. The
 * OpenTelemetry SDK is loaded only then: a process without traces never loads it.
 */
export function tracing(env: NodeJS.ProcessEnv = process.env): Promise<Tracing | null> {
  current ??= (async () => {
    checkTracingEnv(env);
    const kind = tracingFromEnv(env);
    if (!kind) return null;
    const [{ Resource, detectResourcesSync, envDetectorSync }, sdk, { OTLPTraceExporter }, hooks] = await Promise.all([
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/context-async-hooks'),
    ]);
    const resource = new Resource({
      'service.name': env.OTEL_SERVICE_NAME?.trim() || 'agent-team',
      'service.version': PACKAGE_VERSION,
    }).merge(detectResourcesSync({ detectors: [envDetectorSync] }));
    const processor =
      kind === 'otlp'
        ? new sdk.BatchSpanProcessor(new OTLPTraceExporter())
        : new sdk.SimpleSpanProcessor(stderrExporter());
    const provider = new sdk.BasicTracerProvider({ resource, spanProcessors: [processor] });
    // The context follows async calls (AsyncLocalStorage): the client's span is current when the start request's
    // headers are written, an activity's span while the step runs. Propagation: W3C trace context (the default).
    provider.register({ contextManager: new hooks.AsyncLocalStorageContextManager().enable() });
    started = { provider, processor, resource };
    return started;
  })();
  return current;
}

/**
 * Sends every span still buffered (call before the process exits; a no-op when traces are off). Never fails
 * and never waits more than `timeoutMs`: a collector that is down costs the spans, not the command. The first
 * failure is said once on stderr.
 */
export async function flushTracing(timeoutMs = 5_000): Promise<void> {
  if (!started) return;
  const flushed = started.provider.forceFlush().catch((err: unknown) => {
    if (warned) return;
    warned = true;
    process.stderr.write(`note: traces could not be sent (${errorMessage(err)}); the command itself is not affected\n`);
  });
  await Promise.race([flushed, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
}
let warned = false;

/**
 * `OTEL_TRACES_EXPORTER=console`: one JSON line per span on stderr (stdout is for results, `--json` included).
 */
function stderrExporter(): SpanExporter {
  return {
    export(spans, done) {
      for (const span of spans) {
        const parent = span.parentSpanId;
        process.stderr.write(
          JSON.stringify({
            trace: span.spanContext().traceId,
            span: span.spanContext().spanId,
            ...(parent ? { parent } : {}),
            name: span.name,
            durationMs: span.duration[0] * 1e3 + span.duration[1] / 1e6,
            status: span.status.code,
            attributes: span.attributes,
          }) + '\n',
        );
      }
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
}

/** The client interceptor that starts a run's trace and puts its context in the run's headers. */
export async function tracingClientInterceptors(): Promise<ClientInterceptors | undefined> {
  if (!(await tracing())) return undefined;
  const { OpenTelemetryWorkflowClientInterceptor } = await import('@temporalio/interceptors-opentelemetry');
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/** The workflow-sandbox module of Temporal's OpenTelemetry interceptors: part of the traced workflow bundle. */
export const WORKFLOW_TRACING_MODULE =
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/** Worker options for traces: activity interceptors and the sink that exports the workflow's spans. */
export async function tracingWorkerOptions(): Promise<Partial<WorkerOptions>> {
  const t = await tracing();
  if (!t) return {};
  const otel = await import('@temporalio/interceptors-opentelemetry');
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: otel.makeWorkflowExporter(t.processor, t.resource) },
  };
}
