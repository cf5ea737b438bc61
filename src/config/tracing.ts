import type { TracingSettings } from '../shared/index.js';
import type { ConfigReader } from './sources.js';

/** `key=value,key2=value2` (values URL-decoded, as the OpenTelemetry spec says). */
function parseHeaders(read: ConfigReader): Record<string, string> {
  const raw = read.string('OTEL_EXPORTER_OTLP_HEADERS');
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0) read.fail('OTEL_EXPORTER_OTLP_HEADERS', 'must be key=value pairs separated by commas');
    let value = pair.slice(at + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // not percent-encoded: taken as written
    }
    out[pair.slice(0, at).trim()] = value;
  }
  return out;
}

/**
 * OpenTelemetry traces (read by the server and the worker): on when an OTLP endpoint is set and
 * `OTEL_SDK_DISABLED` is not true; undefined otherwise, and then the SDK is never loaded.
 */
export function readTracing(read: ConfigReader, defaultServiceName: string): TracingSettings | undefined {
  if (read.bool('OTEL_SDK_DISABLED', false)) return undefined;
  const protocols = ['http:', 'https:'];
  const traces = read.url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', protocols);
  const base = read.url('OTEL_EXPORTER_OTLP_ENDPOINT', protocols);
  const url = traces ?? (base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`);
  if (url === undefined) return undefined;
  return {
    url,
    serviceName: read.stringOr('OTEL_SERVICE_NAME', defaultServiceName),
    headers: parseHeaders(read),
  };
}
