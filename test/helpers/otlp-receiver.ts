import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { executionSpanOf, stepSpanOf, traceIdOf } from '../../src/shared/index.js';
import { waitFor } from './cluster.js';

/** One span as an OTLP/HTTP JSON export carries it, flattened with its resource's service. */
export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** 2 = ERROR. */
  readonly statusCode: number;
}

export interface OtlpReceiver {
  /** Base URL, for OTEL_EXPORTER_OTLP_ENDPOINT (`<url>/v1/traces` receives). */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Headers of each request to `/echo` (an http tool's target). */
  readonly echoed: IncomingHttpHeaders[];
  close(): Promise<void>;
}

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
};

function valueOf(v: AnyValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return v.boolValue ?? '';
}

function attrs(
  list: readonly { key: string; value: AnyValue }[] | undefined,
): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));
}

interface ExportRequest {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: AnyValue }[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        startTimeUnixNano: string | number;
        endTimeUnixNano: string | number;
        attributes?: { key: string; value: AnyValue }[];
        status?: { code?: number };
      }[];
    }[];
  }[];
}

/**
 * A local OTLP/HTTP receiver (the JSON encoding, what @opentelemetry/exporter-trace-otlp-http
 * sends) on a free loopback port; also an `/echo` endpoint that records request headers.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const echoed: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url?.startsWith('/echo')) {
        echoed.push(req.headers);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (!/json/.test(req.headers['content-type'] ?? '')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest;
      for (const rs of body.resourceSpans ?? []) {
        const service = String(attrs(rs.resource?.attributes)['service.name'] ?? '');
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              service,
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
              name: s.name,
              kind: s.kind,
              startMs: Number(BigInt(s.startTimeUnixNano) / 1_000_000n),
              endMs: Number(BigInt(s.endTimeUnixNano) / 1_000_000n),
              attributes: attrs(s.attributes),
              statusCode: s.status?.code ?? 0,
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    echoed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The spans of one trace as an indented tree (children by start time), durations in ms:
 * what docs/observability.md shows.
 */
export function renderTrace(spans: readonly ReceivedSpan[]): string {
  const byParent = new Map<string, ReceivedSpan[]>();
  const ids = new Set(spans.map((s) => s.spanId));
  for (const s of spans) {
    const key = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : '';
    byParent.set(key, [...(byParent.get(key) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (parent: string, depth: number): void => {
    const children = [...(byParent.get(parent) ?? [])].sort(
      (a, b) => a.startMs - b.startMs || a.name.localeCompare(b.name),
    );
    for (const s of children) {
      const status = s.statusCode === 2 ? ' ERROR' : '';
      lines.push(`${'  '.repeat(depth)}${s.name}  [${s.service}, ${s.endMs - s.startMs} ms${status}]`);
      walk(s.spanId, depth + 1);
    }
  };
  walk('', 0);
  return lines.join('\n');
}

/** A playbook of a shell, an http, a two-item loop and a noop step (the http one calls `/echo`). */
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
