import { ConfigError } from './errors.js';
import { formatTraceparent, type SpanRef } from './trace-context.js';

/** The SDK's packages, optional dependencies of noetl at the versions it is tested with. */
export const SDK_PACKAGES = [
  '@opentelemetry/api@1.9.1',
  '@opentelemetry/sdk-trace-base@2.12.1',
  '@opentelemetry/exporter-trace-otlp-http@0.223.1',
  '@opentelemetry/resources@2.12.1',
] as const;

/** Where spans go (`OTEL_EXPORTER_OTLP_*`, `OTEL_SERVICE_NAME`; src/config `readTracing`). */
export interface TracingSettings {
  /** The OTLP/HTTP traces URL (`.../v1/traces`). */
  readonly url: string;
  readonly serviceName: string;
  readonly headers: Readonly<Record<string, string>>;
}

export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

export type SpanKind = 'internal' | 'server' | 'client' | 'consumer' | 'producer';

/** A span whose start and end are known already (a step that ran, an execution that ended). */
export interface FinishedSpan {
  readonly name: string;
  /** Its own ids; the trace id also names the trace of a span without a parent. */
  readonly ref: SpanRef;
  readonly parent?: SpanRef;
  readonly startMs: number;
  readonly endMs: number;
  readonly kind?: SpanKind;
  readonly attributes?: SpanAttributes;
  /** Set: the span's status is ERROR with this message. */
  readonly error?: string;
}

/** A span running now (a tool call); its ids are new. */
export interface LiveSpan {
  readonly ref: SpanRef;
  /** The `traceparent` header naming this span as the parent. */
  readonly traceparent: string;
  /** Marks the span failed (status ERROR); it still ends with `end`. */
  setError(message: string): void;
  /** Ends it (once; later calls do nothing). */
  end(outcome?: { readonly error?: string; readonly attributes?: SpanAttributes }): void;
}

/**
 * OpenTelemetry traces, or nothing. The SDK is loaded by `openTracing` only, so a process that
 * is not configured for tracing never imports it.
 */
export interface Tracing {
  record(span: FinishedSpan): void;
  start(name: string, parent: SpanRef, kind?: SpanKind, attributes?: SpanAttributes): LiveSpan;
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

const KINDS: Readonly<Record<SpanKind, number>> = {
  // @opentelemetry/api SpanKind values
  internal: 0,
  server: 1,
  client: 2,
  producer: 3,
  consumer: 4,
};

/**
 * Starts the OpenTelemetry SDK: a tracer provider exporting over OTLP/HTTP (JSON) in batches.
 * Span ids of finished spans are the ones given (derived from the execution, trace-context.ts),
 * so spans recorded by different processes link up: the provider's id generator returns the
 * pinned id while `record` starts a span, and random ids otherwise.
 */
export async function openTracing(settings: TracingSettings): Promise<Tracing> {
  let modules;
  try {
    modules = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
  } catch (err) {
    // Optional dependencies (package.json): left out by `npm install --omit=optional`.
    if ((err as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new ConfigError(
      `traces are configured (OTEL_EXPORTER_OTLP_ENDPOINT) but the OpenTelemetry SDK is not installed (installed with --omit=optional?): npm install ${SDK_PACKAGES.join(' ')}`,
      { cause: err },
    );
  }
  const [api, sdk, exporter, resources] = modules;
  const random = new sdk.RandomIdGenerator();
  let pinned: SpanRef | undefined;
  const provider = new sdk.BasicTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': settings.serviceName }),
    idGenerator: {
      generateTraceId: () => pinned?.traceId ?? random.generateTraceId(),
      generateSpanId: () => pinned?.spanId ?? random.generateSpanId(),
    },
    spanProcessors: [
      new sdk.BatchSpanProcessor(
        new exporter.OTLPTraceExporter({ url: settings.url, headers: { ...settings.headers } }),
        { scheduledDelayMillis: 1000 },
      ),
    ],
  });
  const tracer = provider.getTracer('noetl');
  const contextOf = (parent: SpanRef | undefined) =>
    parent === undefined
      ? api.ROOT_CONTEXT
      : api.trace.setSpanContext(api.ROOT_CONTEXT, {
          traceId: parent.traceId,
          spanId: parent.spanId,
          traceFlags: api.TraceFlags.SAMPLED,
          isRemote: true,
        });
  const ERROR = api.SpanStatusCode.ERROR;
  return {
    record(span) {
      pinned = span.ref;
      let s;
      try {
        s = tracer.startSpan(
          span.name,
          {
            startTime: span.startMs,
            kind: KINDS[span.kind ?? 'internal'],
            ...(span.attributes ? { attributes: span.attributes } : {}),
          },
          contextOf(span.parent),
        );
      } finally {
        pinned = undefined;
      }
      if (span.error !== undefined) s.setStatus({ code: ERROR, message: span.error });
      s.end(Math.max(span.endMs, span.startMs));
    },
    start(name, parent, kind = 'internal', attributes) {
      const s = tracer.startSpan(
        name,
        { kind: KINDS[kind], ...(attributes ? { attributes } : {}) },
        contextOf(parent),
      );
      const ref = { traceId: s.spanContext().traceId, spanId: s.spanContext().spanId };
      let ended = false;
      return {
        ref,
        traceparent: formatTraceparent(ref),
        setError(message) {
          if (!ended) s.setStatus({ code: ERROR, message });
        },
        end(outcome = {}) {
          if (ended) return;
          ended = true;
          if (outcome.attributes) s.setAttributes(outcome.attributes);
          if (outcome.error !== undefined) s.setStatus({ code: ERROR, message: outcome.error });
          s.end();
        },
      };
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
