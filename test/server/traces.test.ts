/**
 * OpenTelemetry traces (docs/observability.md, "Traces"): with OTEL_EXPORTER_OTLP_ENDPOINT set,
 * one execution on the embedded server is one trace in a local OTLP/HTTP receiver: a span for the
 * execution, one per step under it, one per tool call under its step (loop iterations too), the
 * server's handling of the worker's events under the tool call, and the http tool's request
 * carries a `traceparent` naming its tool span. Without the variable nothing is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandNotification } from '../../src/bus/index.js';
import { formatTraceparent, stepSpanOf, traceIdOf } from '../../src/shared/index.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';
import {
  checkTrace,
  renderTrace,
  startOtlpReceiver,
  TRACED,
  traceOf,
  type OtlpReceiver,
} from '../helpers/otlp-receiver.js';

describe('traces of an execution on the embedded server', () => {
  let receiver: OtlpReceiver;
  let server: RunningServer;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    server = await startTestServer({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'noetl-test',
    });
    await server.register(TRACED);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  }, 60_000);

  it('is one trace: execution, steps, tool calls and the http call joined by traceparent', async () => {
    const started = await server.post<{ execution_id: string }>('/api/execute', {
      path: 'tests/traces/traced',
      payload: { echo: `${receiver.url}/echo` },
    });
    const executionId = started.body.execution_id;
    expect((await server.waitFor(executionId))['status']).toBe('COMPLETED');
    const spans = await traceOf(receiver, executionId, 5);
    const fetch = checkTrace(spans, executionId);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['noetl-test']));
    // The http tool sent its tool span as the parent of whatever the called service records.
    expect(receiver.echoed.map((h) => h['traceparent'])).toEqual([
      `00-${traceIdOf(executionId)}-${fetch.spanId}-01`,
    ]);
    console.log(`trace ${traceIdOf(executionId)} (embedded server)\n${renderTrace(spans)}`);
  }, 60_000);
  it('a command re-published by a sweep still names its step span', async () => {
    const started = await server.post<{ execution_id: string }>('/api/execute', {
      path: 'tests/traces/traced',
      payload: { echo: `${receiver.url}/echo` },
    });
    const id = started.body.execution_id;
    expect((await server.waitFor(id))['status']).toBe('COMPLETED');
    const events = await server.get<{
      events: { event_id: string; event_type: string; node_name: string }[];
    }>(`/api/executions/${id}/events?limit=1000`);
    const issued = events.body.events.find(
      (e) => e.event_type === 'command.issued' && e.node_name === 'fetch',
    );
    const record = await server.handle.store.commands.get(issued!.event_id);
    let seen: (n: CommandNotification) => void = () => undefined;
    const got = new Promise<CommandNotification>((resolve) => (seen = resolve));
    // A group of its own gets a copy of every `shared` notification (the workers' group another).
    const sub = await server.handle.bus.subscribe(
      { pool: 'shared' },
      (n, d) => {
        if (n.command_id === record!.commandKey) seen(n);
        d.ack();
      },
      { maxInFlight: 1 },
    );
    try {
      await server.handle.orchestrator.republish([record!]);
      expect((await got).trace).toEqual({ traceparent: formatTraceparent(stepSpanOf(id, 'fetch', 1)) });
    } finally {
      await sub.stop();
    }
  }, 60_000);
});

describe('without an OTLP endpoint', () => {
  it('sends no span and no traceparent', async () => {
    const receiver = await startOtlpReceiver();
    const server = await startTestServer({});
    try {
      await server.register(TRACED);
      const started = await server.post<{ execution_id: string }>('/api/execute', {
        path: 'tests/traces/traced',
        payload: { echo: `${receiver.url}/echo` },
      });
      expect((await server.waitFor(started.body.execution_id))['status']).toBe('COMPLETED');
      expect(receiver.echoed).toHaveLength(1);
      expect(receiver.echoed[0]!['traceparent']).toBeUndefined();
      const events = await server.get<{ events: { meta?: Record<string, unknown> | null }[] }>(
        `/api/executions/${started.body.execution_id}/events?limit=1000`,
      );
      expect(JSON.stringify(events.body)).not.toContain('traceparent');
    } finally {
      await server.stop();
      await receiver.close();
    }
  }, 60_000);
});
