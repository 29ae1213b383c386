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
import type { BasicTracerProvider, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { PACKAGE_VERSION } from '../shared/package';

export type TraceExporterKind = 'otlp' | 'console';

/** Which exporter the environment asks for, or null when traces are off. */
export function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): TraceExporterKind | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return null;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (exporters.includes('none')) return null;
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
        : new sdk.SimpleSpanProcessor(new sdk.ConsoleSpanExporter());
    const provider = new sdk.BasicTracerProvider({ resource, spanProcessors: [processor] });
    // The context follows async calls (AsyncLocalStorage): the client's span is current when the start request's
    // headers are written, an activity's span while the step runs. Propagation: W3C trace context (the default).
    provider.register({ contextManager: new hooks.AsyncLocalStorageContextManager().enable() });
    started = { provider, processor, resource };
    return started;
  })();
  return current;
}

/** Sends every span still buffered (call before the process exits; a no-op when traces are off). */
export async function flushTracing(): Promise<void> {
  if (started) await started.provider.forceFlush();
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
