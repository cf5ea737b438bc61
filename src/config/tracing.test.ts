import { describe, expect, it } from 'vitest';
import { ConfigReader } from './sources.js';
import { readTracing } from './tracing.js';

const read = (env: Record<string, string>) => readTracing(new ConfigReader({ env }), 'noetl-server');

describe('readTracing', () => {
  it('is off without an OTLP endpoint, or when the SDK is disabled', () => {
    expect(read({})).toBeUndefined();
    expect(read({ OTEL_SERVICE_NAME: 'x' })).toBeUndefined();
    expect(
      read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toBeUndefined();
  });

  it('sends to <endpoint>/v1/traces, or the traces endpoint as given', () => {
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({
      url: 'http://collector:4318/v1/traces',
      serviceName: 'noetl-server',
      headers: {},
    });
    expect(
      read({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp',
        OTEL_SERVICE_NAME: 'noetl-eu',
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%20b, x-tenant=7',
      }),
    ).toEqual({
      url: 'https://traces.example/otlp',
      serviceName: 'noetl-eu',
      headers: { 'api-key': 'a b', 'x-tenant': '7' },
    });
  });

  it('names the variable of a bad value', () => {
    expect(() => read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    expect(() =>
      read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }),
    ).toThrow(/OTEL_EXPORTER_OTLP_HEADERS/);
  });
});
