/**
 * OpenTelemetry traces (docs/observability.md, "Traces"): with OTEL_EXPORTER_OTLP_ENDPOINT set,
 * one execution on the embedded server is one trace in a local OTLP/HTTP receiver: a span for the
 * execution, one per step under it, one per tool call under its step (loop iterations too), the
 * server's handling of the worker's events under the tool call, and the http tool's request
 * carries a `traceparent` naming its tool span. Without the variable nothing is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionSpanOf, stepSpanOf, traceIdOf } from '../../src/shared/index.js';
import { waitFor } from '../helpers/cluster.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';
import {
  renderTrace,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../helpers/otlp-receiver.js';

export const TRACED = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: traced, path: tests/traces/traced }
workload:
  echo: ""
workflow:
  - step: start
    tool: { kind: shell, cmds: ["echo hello"] }
    next: [ { step: fetch } ]
  - step: fetch
    tool: { kind: http, method: GET, url: "{{ workload.echo }}" }
    next: [ { step: each } ]
  - step: each
    loop: { in: "{{ [1, 2] }}", iterator: n }
    tool: { kind: noop }
    next: [ { step: end } ]
  - step: end
    tool: { kind: noop }
`;

/** The spans of one execution's trace once every expected span arrived. */
export async function traceOf(
  receiver: OtlpReceiver,
  executionId: string,
  toolCalls: number,
): Promise<ReceivedSpan[]> {
  const traceId = traceIdOf(executionId);
  return waitFor(
    () => {
      const spans = receiver.spans.filter((s) => s.traceId === traceId);
      const tools = spans.filter((s) => s.name.startsWith('tool '));
      const done = spans.some((s) => s.name.startsWith('execution '));
      return Promise.resolve(done && tools.length >= toolCalls ? spans : undefined);
    },
    `the spans of execution ${executionId}`,
    30_000,
    { intervalMs: 100 },
  );
}

/** Checks the shape every traced run of TRACED has; returns the fetch tool span. */
export function checkTrace(spans: readonly ReceivedSpan[], executionId: string): ReceivedSpan {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const root = executionSpanOf(executionId);
  const execution = spans.filter((s) => s.name.startsWith('execution '));
  expect(execution.map((s) => s.spanId)).toEqual([root.spanId]);
  expect(execution[0]!.parentSpanId).toBeUndefined();
  expect(execution[0]!.attributes['noetl.status']).toBe('COMPLETED');
  const steps = spans.filter((s) => s.name.startsWith('step '));
  expect(steps.map((s) => s.name).sort()).toEqual(['step each', 'step end', 'step fetch', 'step start']);
  for (const s of steps) {
    expect(s.parentSpanId, s.name).toBe(root.spanId);
    expect(s.spanId).toBe(stepSpanOf(executionId, String(s.attributes['noetl.step']), 1).spanId);
  }
  const tools = spans.filter((s) => s.name.startsWith('tool '));
  expect(tools.map((s) => s.name).sort()).toEqual([
    'tool http: fetch',
    'tool noop: each',
    'tool noop: each',
    'tool noop: end',
    'tool shell: start',
  ]);
  for (const t of tools) {
    const parent = byId.get(t.parentSpanId ?? '');
    expect(parent?.name, t.name).toBe(`step ${String(t.attributes['noetl.step'])}`);
  }
  const ingests = spans.filter((s) => s.name.startsWith('ingest '));
  expect(ingests.length).toBeGreaterThanOrEqual(tools.length);
  for (const i of ingests) expect(byId.get(i.parentSpanId ?? '')?.name, i.name).toMatch(/^tool /);
  return tools.find((t) => t.name === 'tool http: fetch')!;
}

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
