import { describe, expect, it } from 'vitest';
import { drive, playbookOf } from '../../test/helpers/engine-driver.js';
import type { ToolSpec } from '../dsl/index.js';
import { NoetlError } from '../shared/index.js';
import { externalizeOutcome, keptValue, valueAt, type PutResult } from './externalize.js';
import { executionScope } from './scope.js';
import { templateView } from './state.js';

const head = 'apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: t, path: t }\n';

function toolOf(output: ToolSpec['output'], shape: ToolSpec['shape'] = 'single'): ToolSpec {
  return {
    shape,
    tasks: [{ label: 'gen', kind: 'python', config: {} }],
    ...(output ? { output } : {}),
  };
}

/** A store that remembers what it was given. */
function memoryPut(): { put: PutResult; kept: { name: string; data: unknown }[] } {
  const kept: { name: string; data: unknown }[] = [];
  return {
    kept,
    put: (request) => {
      kept.push({ name: request.name, data: request.data });
      return Promise.resolve({
        ref: `noetl://execution/7/result/${request.name}/9`,
        store: 'db',
        bytes: 1,
        sha256: 'ab',
      });
    },
  };
}

const items = Array.from({ length: 400 }, (_, i) => ({ id: i, data: 'x'.repeat(200) }));
const big = { status: 'ok', count: 400, meta: { page: 3 }, items };

describe('externalizeOutcome', () => {
  it('keeps a result past the threshold and binds the selected fields and the reference', async () => {
    const { put, kept } = memoryPut();
    const tool = toolOf(
      {
        store: 'auto',
        select: [
          { path: 'gen.meta.page', as: 'page' },
          { path: 'count', as: 'count' },
        ],
      },
      'pipeline',
    );
    const out = await externalizeOutcome(
      { status: 'success', data: { gen: big }, duration_ms: 4 },
      tool,
      'start',
      put,
    );
    // a pipeline keeps its tasks' fields merged, not each task's result under its label
    expect(kept).toEqual([{ name: 'start', data: big }]);
    const bytes = JSON.stringify(big).length;
    expect(out).toEqual({
      status: 'success',
      duration_ms: 4,
      data: {
        page: 3,
        count: 400,
        _ref: 'noetl://execution/7/result/start/9',
        _store: 'kv',
        _size_bytes: bytes,
        _preview: JSON.stringify(big).slice(0, 1024),
      },
      reference: {
        kind: 'result_ref',
        ref: 'noetl://execution/7/result/start/9',
        store: 'kv',
        scope: 'execution',
        meta: { bytes: 1, sha256: 'ab', media_type: 'application/json', kept_in: 'db' },
      },
    });
  });

  it('leaves a result under the threshold, a failure, and a step without output as they are', async () => {
    const { put, kept } = memoryPut();
    const small = { status: 'success', data: { status: 'ok', items: [1, 2] }, duration_ms: 1 };
    const auto = toolOf({ store: 'auto', select: [{ path: 'status', as: 'status' }] });
    expect(await externalizeOutcome(small, auto, 's', put)).toBe(small);
    expect(await externalizeOutcome(small, toolOf(undefined), 's', put)).toBe(small);
    expect(await externalizeOutcome(small, undefined, 's', put)).toBe(small);
    const failed = { status: 'error', data: big, error: { message: 'boom' } };
    expect(await externalizeOutcome(failed, toolOf({ store: 'kv', select: [] }), 's', put)).toBe(failed);
    expect(kept).toEqual([]);
  });

  it('keeps any result with an explicit store; names auto tiers by size; honours the byte knobs', async () => {
    const { put } = memoryPut();
    const data = {
      status: 'ok',
      total: 2,
      rows: [{ a: 1 }, { a: 2 }],
      note: 'n'.repeat(600),
      nested: { x: 1 },
    };
    const pinned = await externalizeOutcome(
      { status: 'success', data },
      toolOf({ store: 's3', select: [{ path: '$.rows[1].a', as: 'second' }] }),
      'pinned',
      put,
    );
    expect(pinned.data).toMatchObject({ second: 2, _store: 's3' });
    expect(pinned.data).not.toHaveProperty('total');
    // no fields selected: the top-level scalars (long text cut) and a count per list
    const summary = await externalizeOutcome(
      { status: 'success', data },
      toolOf({ store: 'auto', select: [], inlineMaxBytes: 10, previewMaxBytes: 5 }),
      's',
      put,
    );
    expect(summary.data).toEqual({
      status: 'ok',
      total: 2,
      rows_count: 2,
      note: `${'n'.repeat(500)}...`,
      _ref: 'noetl://execution/7/result/s/9',
      _store: 'kv',
      _size_bytes: JSON.stringify(data).length,
      _preview: '{"sta',
    });
    const huge = { blob: 'y'.repeat(1_100_000) };
    const disk = await externalizeOutcome(
      { status: 'success', data: huge },
      toolOf({ store: 'auto', select: [] }),
      's',
      put,
    );
    expect(disk.data).toMatchObject({ _store: 'disk', _size_bytes: 1_100_011 });
    // a non-map result: its value (or its length) beside the reference
    const list = await externalizeOutcome(
      { status: 'success', data: [1, 2, 3] },
      toolOf({ store: 'kv', select: [] }),
      's',
      put,
    );
    expect(list.data).toMatchObject({ _count: 3 });
  });

  it('counts UTF-8 bytes, and names a step the store cannot take by a safe name', async () => {
    const { put, kept } = memoryPut();
    const out = await externalizeOutcome(
      { status: 'success', data: 'é€😀' },
      toolOf({ store: 'kv', select: [] }),
      'my step/..',
      put,
    );
    expect(out.data).toMatchObject({ _size_bytes: 2 + 2 + 3 + 4, _value: 'é€😀' });
    expect(kept[0]?.name).toBe('my_step_..');
  });

  it('fails the step, with the store error, when the result cannot be kept', async () => {
    const put: PutResult = () => Promise.reject(new NoetlError('PAYLOAD_TOO_LARGE', 'too big'));
    const out = await externalizeOutcome(
      { status: 'success', data: big, duration_ms: 3 },
      toolOf({ store: 'kv', select: [] }),
      's',
      put,
    );
    expect(out).toEqual({
      status: 'error',
      duration_ms: 3,
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message: expect.stringMatching(
          /^output: the step's result \(\d+ bytes\) could not be kept in the result store: too big$/,
        ) as unknown,
        retryable: false,
      },
    });
  });
});

describe('paths, kept values and views', () => {
  it('reads select paths through maps and lists only', () => {
    const root = { a: { b: [{ c: 1 }] }, 'x.y': 2 };
    expect(valueAt(root, 'a.b[0].c')).toBe(1);
    expect(valueAt(root, '$.a.b.0.c')).toBe(1);
    expect(valueAt(root, 'a.b[1].c')).toBeUndefined();
    expect(valueAt(root, 'a.constructor')).toBeUndefined();
    expect(valueAt(root, '$')).toBe(root);
  });

  it("keeps a pipeline's fields merged, a single tool's data as is", () => {
    expect(keptValue({ a: { x: 1, y: 1 }, b: { y: 2 }, c: 5 }, true)).toEqual({ x: 1, y: 2, c: 5 });
    expect(keptValue({ a: { x: 1 } }, false)).toEqual({ a: { x: 1 } });
  });

  it(".data of a pipeline step's view is the flattened view, as NoETL aliases it", () => {
    const view = templateView({ load: { items: [1], count: 1 } }, true) as Record<string, unknown>;
    expect(view['count']).toBe(1);
    expect((view['data'] as Record<string, unknown>)['items']).toEqual([1]);
    expect((view['data'] as Record<string, unknown>)['load']).toEqual({ items: [1], count: 1 });
    // a task's own `data` (http) is kept, never replaced by the alias
    const http = templateView({ fetch: { status_code: 200, data: { a: 1 } } }, true) as Record<
      string,
      unknown
    >;
    expect(http['data']).toEqual({ a: 1 });
  });

  it('reads an externalized pipeline binding as it is, not flattened again', () => {
    const binding = { meta: { page: 3 }, _ref: 'noetl://execution/1/result/start/2', _store: 'kv' };
    const { state } = drive(
      playbookOf(`${head}workflow:
  - step: start
    tool: [ { name: gen, kind: noop } ]
    output: { store: kv }
    next: [ end ]
  - step: end
    tool: [ { name: gen, kind: noop } ]
`),
      (command) =>
        command.step === 'start'
          ? { ok: true, data: binding, reference: { kind: 'result_ref', ref: binding._ref } }
          : { ok: true, data: { gen: { meta: { page: 4 } } } },
    );
    const scope = executionScope(state) as (name: string) => unknown;
    expect(scope('start')).toEqual({ ...binding, data: binding });
    // without a reference, a pipeline's labels are flattened as before
    expect((scope('end') as Record<string, unknown>)['meta']).toEqual({ page: 4 });
  });
});
