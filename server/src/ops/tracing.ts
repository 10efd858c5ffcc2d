import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VERSION } from '../version';

/**
 * Tracing (decision 0039): OpenTelemetry spans from a webhook to the grain, the store and the live
 * streams, off unless configured. Without a registered provider every call here is the API's no-op,
 * so the hot paths pay a function call and nothing more.
 */
export const tracer = trace.getTracer('parley', VERSION);

/** Whether `startTracing` registered a provider; while false the helpers below skip the API altogether. */
let enabled = false;

/** What `work` gets while tracing is off: a span that records nothing. */
const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** The W3C `traceparent` events carry in their metadata, so a reader continues the writer's trace. */
export const TRACEPARENT = 'traceparent';

export interface TracingOptions {
  /** Where spans go: an exporter (tests), or OTLP over HTTP to the standard `OTEL_EXPORTER_OTLP_*` endpoint. */
  readonly exporter?: SpanExporter;
  /** Export each span as it ends (tests) instead of in batches. */
  readonly immediate?: boolean;
  /** `service.name` when `OTEL_SERVICE_NAME` is unset; default `parley`. */
  readonly serviceName?: string;
}

export interface Tracing {
  /** Sends what is buffered and stops the exporter. */
  shutdown(): Promise<void>;
}

/**
 * Whether the environment asks for tracing: an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), unless `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}

/**
 * Registers the process's tracer provider (W3C trace context, AsyncLocalStorage for the active
 * span). The OTLP exporter reads its endpoint, headers and timeout from the standard variables; the
 * sampler follows `OTEL_TRACES_SAMPLER` (default: parent-based, always on).
 */
export function startTracing(options: TracingOptions = {}): Tracing {
  const exporter = options.exporter ?? new OTLPTraceExporter();
  const processor = options.immediate ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
  const resource = defaultResource().merge(
    resourceFromAttributes({
      'service.name': process.env.OTEL_SERVICE_NAME?.trim() || options.serviceName || 'parley',
      'service.version': VERSION,
    }),
  );
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  enabled = true;
  return {
    async shutdown() {
      enabled = false;
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** The active span's ids for a log line (`trace_id`, `span_id`); nothing outside a sampled span. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  if (!enabled) return {};
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  // Bit 0 of the flags: sampled. An unsampled span is exported nowhere, so its id finds nothing.
  if ((traceFlags & 1) === 0) return {};
  return { trace_id: traceId, span_id: spanId };
}

/**
 * Runs `work` in a new active span named `name`: an error thrown is recorded on the span and
 * rethrown; the span ends when the work settles.
 */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
  options: { readonly kind?: SpanKind; readonly parent?: Context; readonly links?: Link[] } = {},
): Promise<T> {
  if (!enabled) return work(NO_SPAN);
  return tracer.startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes, links: options.links },
    options.parent ?? context.active(),
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** The active span's ids, to link a later span to it (a group commit to its appends); undefined when off. */
export function activeSpanContext(): SpanContext | undefined {
  return enabled ? trace.getActiveSpan()?.spanContext() : undefined;
}

/** The active span's `traceparent`, to store with what it writes; undefined outside a sampled span. */
export function currentTraceparent(): string | undefined {
  if (!traceFields().trace_id) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier[TRACEPARENT];
}

/** The context a stored `traceparent` names, to continue its trace; the active one without it. */
export function contextFrom(traceparent: unknown): Context {
  if (typeof traceparent !== 'string') return context.active();
  return propagation.extract(ROOT_CONTEXT, { [TRACEPARENT]: traceparent });
}

/**
 * A span `sse.send` for handing a stored event to a live stream, a child of the span that wrote
 * it (its metadata's `traceparent`); undefined when tracing is off or the event carries no trace.
 * The caller ends it once the event is written out.
 */
export function sendSpan(
  metadata: Readonly<Record<string, unknown>>,
  attributes: Attributes,
): Span | undefined {
  if (!enabled || typeof metadata[TRACEPARENT] !== 'string') return undefined;
  return tracer.startSpan(
    'sse.send',
    { kind: SpanKind.PRODUCER, attributes },
    contextFrom(metadata[TRACEPARENT]),
  );
}

/**
 * A request's path as a span name segment: words stay (`/webhooks/whatsapp/demo-whatsapp`,
 * `/trpc/conversations.list`), anything with digits or past 40 characters becomes `:id`, so span
 * names stay few. The query is never kept: it may hold a token.
 */
export function routeOf(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0]!;
  return path
    .split('/')
    .map((segment) => (segment === '' || /^[a-z][a-z.,_-]{0,39}$/i.test(segment) ? segment : ':id'))
    .join('/');
}

/**
 * Runs a request's handler inside a server span `METHOD /route` that ends when the response does,
 * with its status. Spans start at Parley's edge: a `traceparent` the caller sends is not trusted
 * (anyone on the internet could make every request sampled).
 */
export function traceRequest(req: IncomingMessage, res: ServerResponse, handle: () => void): void {
  if (!enabled) {
    handle();
    return;
  }
  const span = tracer.startSpan(
    `${req.method ?? 'GET'} ${routeOf(req.url)}`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': (req.url ?? '/').split('?')[0]! },
    },
    ROOT_CONTEXT,
  );
  if (!span.isRecording()) {
    handle();
    return;
  }
  res.once('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  context.with(trace.setSpan(ROOT_CONTEXT, span), handle);
}

export { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type SpanContext };
