/**
 * NoETL's result externalization (the `output:` block of a step, contract 1.4 and 1.12): a result
 * past the inline threshold, or any result of a step naming a store, is kept in the result store,
 * and the step's value in the events (what later templates read) becomes a small binding:
 *
 *   { <selected fields>, _ref: 'noetl://execution/<eid>/result/<step>/<id>', _store: <tier>,
 *     _size_bytes: <JSON bytes>, _preview: <first characters of the JSON> }
 *
 * `kind: artifact, action: get, result_ref: '{{ step._ref }}'` reads the whole result back. The
 * decision is pure; the store is the caller's (`put`), so the worker and the local runner make the
 * same decision for the same result.
 */
import type { OutputSpec, ToolSpec } from '../dsl/index.js';
import { errorMessage, isNoetlError, isResultName } from '../shared/index.js';
import { templateView } from './state.js';

/** NoETL's default `NOETL_INLINE_MAX_BYTES` (64 KiB): an `auto` result up to it stays inline. */
export const INLINE_MAX_BYTES = 65_536;
/** NoETL's default `NOETL_PREVIEW_MAX_BYTES`. */
export const PREVIEW_MAX_BYTES = 1_024;
/** `auto` names the tier by size as NoETL does: `kv` under 1 MiB, `disk` from there. */
const KV_MAX_BYTES = 1_048_576;
/** Longest text kept of a field when no fields are selected. */
const SUMMARY_TEXT_MAX = 500;

/** Where the store kept a value. */
export interface StoredValue {
  readonly ref: string;
  /** Where it physically is (`db`: the control plane's result store, `local`: a folder). */
  readonly store: string;
  readonly bytes: number;
  readonly sha256: string;
}

export type PutResult = (request: { readonly name: string; readonly data: unknown }) => Promise<StoredValue>;

/** The part of a tool result this reads and rewrites (the tools part's `ToolResult`). */
export interface ExternalizableOutcome {
  readonly status: string;
  readonly data?: unknown;
  readonly error?: unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The value kept for a step's result: a single tool's data as it is; a pipeline's tasks' fields
 * merged (last wins), which is what `{{ step.<field> }}` reads, without repeating each task's
 * result under its label.
 */
export function keptValue(data: unknown, pipeline: boolean): unknown {
  if (!pipeline || !isRecord(data)) return data;
  const out: Record<string, unknown> = {};
  for (const [label, value] of Object.entries(data)) {
    if (isRecord(value)) Object.assign(out, value);
    else out[label] = value;
  }
  return out;
}

/** UTF-8 byte length of a string, without an encoder (this part does no I/O and imports no node:). */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** The value at a select path (`a.b`, `a[0].b`, `$.a.b`), through own keys; undefined if absent. */
export function valueAt(root: unknown, path: string): unknown {
  const names = path
    .replace(/^\$\.?/, '')
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((n) => n !== '');
  let value = root;
  for (const name of names) {
    if (Array.isArray(value) && /^\d+$/.test(name)) value = value[Number(name)];
    else if (isRecord(value) && Object.prototype.hasOwnProperty.call(value, name)) value = value[name];
    else return undefined;
  }
  return value;
}

/** With no fields selected: the top-level scalars (long text cut) and `<key>_count` of lists. */
function summary(value: unknown): Record<string, unknown> {
  const cut = (v: unknown): unknown =>
    typeof v === 'string' && v.length > SUMMARY_TEXT_MAX ? `${v.slice(0, SUMMARY_TEXT_MAX)}...` : v;
  if (Array.isArray(value)) return { _count: value.length };
  if (!isRecord(value)) return { _value: cut(value) };
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (Array.isArray(v)) out[`${key}_count`] = v.length;
    else if (!isRecord(v)) out[key] = cut(v);
  }
  return out;
}

/** The fields kept beside the reference: the selected ones (read as templates read the step). */
function selected(
  output: OutputSpec,
  data: unknown,
  pipeline: boolean,
  kept: unknown,
): Record<string, unknown> {
  if (output.select.length === 0) return summary(kept);
  const view = templateView(data, pipeline);
  const out: Record<string, unknown> = {};
  for (const s of output.select) {
    const value = valueAt(view, s.path);
    if (value !== undefined) out[s.as] = value;
  }
  return out;
}

/** The store's name of a step's result: the step name, with what a name cannot hold as `_`. */
function resultName(step: string): string {
  if (isResultName(step)) return step;
  const cleaned = step
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .replace(/^[.-]+/, '_')
    .slice(0, 256);
  return isResultName(cleaned) ? cleaned : 'result';
}

/** What to keep of a result, or undefined when it stays inline. */
export function externalizePlan(
  data: unknown,
  tool: ToolSpec,
):
  | { readonly value: unknown; readonly text: string; readonly bytes: number; readonly tier: string }
  | undefined {
  const output = tool.output;
  if (!output) return undefined;
  const value = keptValue(data, tool.shape === 'pipeline');
  const text = JSON.stringify(value ?? null);
  const bytes = utf8Length(text);
  const threshold = output.inlineMaxBytes ?? INLINE_MAX_BYTES;
  if (output.store === 'auto' && bytes <= threshold) return undefined;
  const tier = output.store !== 'auto' ? output.store : bytes < KV_MAX_BYTES ? 'kv' : 'disk';
  return { value, text, bytes, tier };
}

/**
 * A successful result of a step with `output:`, kept in the store when the block says so: its
 * `data` becomes the binding and it carries `reference` (NoETL's ResultRef shape). Any other
 * result is returned as it is. A store that fails fails the step, with its message.
 */
export async function externalizeOutcome<T extends ExternalizableOutcome>(
  result: T,
  tool: ToolSpec | undefined,
  step: string,
  put: PutResult,
): Promise<T> {
  if (result.status !== 'success' || !tool?.output) return result;
  const plan = externalizePlan(result.data, tool);
  if (!plan) return result;
  const output = tool.output;
  let stored: StoredValue;
  try {
    stored = await put({ name: resultName(step), data: plan.value });
  } catch (err) {
    const { data: _dropped, ...rest } = result;
    return {
      ...rest,
      status: 'error',
      error: {
        code: isNoetlError(err) ? err.code : 'TOOL_FAILED',
        message: `output: the step's result (${plan.bytes} bytes) could not be kept in the result store: ${errorMessage(err)}`,
        retryable: isNoetlError(err) ? err.retryable : false,
      },
    } as unknown as T;
  }
  const preview = plan.text.slice(0, output.previewMaxBytes ?? PREVIEW_MAX_BYTES);
  const binding = {
    ...selected(output, result.data, tool.shape === 'pipeline', plan.value),
    _ref: stored.ref,
    _store: plan.tier,
    _size_bytes: plan.bytes,
    _preview: preview,
  };
  return {
    ...result,
    data: binding,
    reference: {
      kind: 'result_ref',
      ref: stored.ref,
      store: plan.tier,
      scope: 'execution',
      meta: {
        bytes: stored.bytes,
        sha256: stored.sha256,
        media_type: 'application/json',
        kept_in: stored.store,
      },
    },
  };
}
