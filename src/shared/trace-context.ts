import { createHash } from 'node:crypto';

/**
 * W3C trace context of an execution (docs/observability.md, "Traces"). The ids are derived from
 * the execution id, so every server replica and worker that touches an execution names the same
 * trace, execution span and step spans without asking anyone: the server that ends a step
 * records its span under the id the worker already used as its tool span's parent.
 */
export interface SpanRef {
  /** 32 lower-case hex digits. */
  readonly traceId: string;
  /** 16 lower-case hex digits. */
  readonly spanId: string;
}

function hex(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** The trace of an execution. */
export function traceIdOf(executionId: string): string {
  return hex(`noetl.trace:${executionId}`, 32);
}

/** The execution's root span. */
export function executionSpanOf(executionId: string): SpanRef {
  return { traceId: traceIdOf(executionId), spanId: hex(`noetl.execution:${executionId}`, 16) };
}

/** The span of the `run`-th entry of a step (a step re-entered by a back-edge has one per run). */
export function stepSpanOf(executionId: string, step: string, run: number): SpanRef {
  return { traceId: traceIdOf(executionId), spanId: hex(`noetl.step:${executionId}:${run}:${step}`, 16) };
}

/** `00-<trace>-<span>-01` (sampled). */
export function formatTraceparent(ref: SpanRef): string {
  return `00-${ref.traceId}-${ref.spanId}-01`;
}

const TRACEPARENT_RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A `traceparent` value, or undefined when it is not one (all-zero ids are invalid). */
export function parseTraceparent(value: unknown): SpanRef | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT_RE.exec(value.trim().toLowerCase());
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
  return { traceId: m[2]!, spanId: m[3]! };
}

/** The `traceparent` carried in a `trace` object (notification, event meta), if any. */
export function traceparentIn(trace: unknown): SpanRef | undefined {
  if (trace === null || typeof trace !== 'object' || Array.isArray(trace)) return undefined;
  return parseTraceparent((trace as Record<string, unknown>)['traceparent']);
}
