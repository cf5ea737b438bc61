import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { KNOWN_TOOL_KINDS, playbookJsonSchema } from './index.js';
import * as KEYS from './known-keys.js';

type Schema = Record<string, unknown>;
// NoETL's e2e playbooks beside the repository (CI has them at ../shared; a user's clone does not).
const CONFORMANCE = new URL('../../../shared/conformance/noetl-e2e', import.meta.url).pathname;
const HAVE_UPSTREAM = existsSync(CONFORMANCE);
if (!HAVE_UPSTREAM) console.warn(`[skipped] src/dsl/schema.test.ts: upstream corpus not at ${CONFORMANCE}`);
const ANNOTATIONS = new Set(['$schema', 'title', 'description', 'default', 'examples', 'definitions']);
const ASSERTIONS = new Set([
  '$ref',
  'type',
  'const',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'anyOf',
  'not',
  'minProperties',
  'maxProperties',
  'pattern',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** A small draft-07 validator for the keywords the playbook schema uses (ajv is not a dependency). */
function validate(root: Schema, schema: Schema, value: unknown, at = '$'): string[] {
  const errs: string[] = [];
  for (const key of Object.keys(schema)) {
    if (!ASSERTIONS.has(key) && !ANNOTATIONS.has(key)) throw new Error(`unsupported keyword ${key}`);
  }
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/definitions/', '');
    const target = (root.definitions as Record<string, Schema>)[name];
    if (!target) throw new Error(`dangling $ref ${schema.$ref}`);
    errs.push(...validate(root, target, value, at));
  }
  const t = typeOf(value);
  if (schema.type !== undefined) {
    const types = ([] as unknown[]).concat(schema.type);
    if (!types.some((x) => x === t || (x === 'number' && t === 'integer')))
      errs.push(`${at}: not ${types.join('|')}`);
  }
  if ('const' in schema && value !== schema.const) errs.push(`${at}: not ${String(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errs.push(`${at}: not in enum`);
  if (
    typeof schema.pattern === 'string' &&
    typeof value === 'string' &&
    !new RegExp(schema.pattern).test(value)
  )
    errs.push(`${at}: pattern`);
  if (
    Array.isArray(schema.anyOf) &&
    !schema.anyOf.some((s: Schema) => validate(root, s, value, at).length === 0)
  )
    errs.push(`${at}: matches no anyOf branch`);
  if (schema.not !== undefined && validate(root, schema.not as Schema, value, at).length === 0)
    errs.push(`${at}: not`);
  if (t === 'array') {
    const items = value as unknown[];
    if (typeof schema.minItems === 'number' && items.length < schema.minItems)
      errs.push(`${at}: too few items`);
    if (schema.items)
      items.forEach((v, i) => errs.push(...validate(root, schema.items as Schema, v, `${at}[${i}]`)));
  }
  if (t === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) errs.push(`${at}: missing ${r}`);
    const n = Object.keys(obj).length;
    if (typeof schema.minProperties === 'number' && n < schema.minProperties)
      errs.push(`${at}: too few keys`);
    if (typeof schema.maxProperties === 'number' && n > schema.maxProperties)
      errs.push(`${at}: too many keys`);
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) errs.push(...validate(root, props[k], v, `${at}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${at}: unexpected ${k}`);
      else if (typeof schema.additionalProperties === 'object')
        errs.push(...validate(root, schema.additionalProperties as Schema, v, `${at}.${k}`));
    }
  }
  return errs;
}

const schema = playbookJsonSchema();
const check = (doc: unknown) => validate(schema, schema, doc);
const files = HAVE_UPSTREAM
  ? [
      ...readdirSync(CONFORMANCE).filter((f) => f.endsWith('.yaml')),
      ...readdirSync(join(CONFORMANCE, 'local')).map((f) => `local/${f}`),
    ]
  : [];

describe('playbookJsonSchema', () => {
  it('is a draft-07 schema with definitions for every shape', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.required).toEqual(['apiVersion', 'kind', 'metadata', 'workflow']);
    const defs = Object.keys(schema.definitions as object);
    for (const name of [
      'step',
      'tool',
      'toolMap',
      'pipelineItem',
      'next',
      'router',
      'arc',
      'loop',
      'policy',
      'policyRule',
    ])
      expect(defs).toContain(name);
    const toolMap = (schema.definitions as Record<string, Schema>).toolMap!;
    expect(toolMap.additionalProperties).toBe(true);
    expect(JSON.stringify(schema.definitions)).toContain(JSON.stringify([...KNOWN_TOOL_KINDS].sort()));
    // every main key has a description
    const step = (schema.definitions as Record<string, Schema>).step!.properties as Record<string, Schema>;
    const defsMap = schema.definitions as Record<string, Schema>;
    const described = (s: Schema | undefined) =>
      typeof s?.$ref === 'string' ? defsMap[s.$ref.replace('#/definitions/', '')] : s;
    for (const key of ['step', 'tool', 'next', 'when', 'loop', 'set', 'input'])
      expect(described(step[key])?.description, key).toBeTruthy();
  });

  it('closes the maps whose keys validation knows, with the same keys (editors underline the rest)', () => {
    const defs = schema.definitions as Record<string, Schema>;
    const props = (s: Schema | undefined): string[] => Object.keys(s?.properties ?? {}).sort();
    const sub = (s: Schema | undefined, key: string): Schema =>
      (s?.properties as Record<string, Schema>)[key]!;
    const closed: [string, Schema | undefined, readonly string[]][] = [
      ['root', schema, KEYS.TOP_KEYS],
      // legacy `type:` steps are an error of their own, so the schema does not list `type`
      ['step', defs.step, KEYS.STEP_KEYS.filter((k) => k !== 'type')],
      ['loop', defs.loop, KEYS.LOOP_KEYS],
      ['loop.spec', sub(defs.loop, 'spec'), KEYS.LOOP_SPEC_KEYS],
      ['router', defs.router, KEYS.ROUTER_KEYS],
      ['router.spec', sub(defs.router, 'spec'), KEYS.ROUTER_SPEC_KEYS],
      ['arc', defs.arc, KEYS.ARC_KEYS],
      ['executor', defs.executor, KEYS.EXECUTOR_KEYS],
      ['executor.requires', sub(defs.executor, 'requires'), KEYS.EXECUTOR_REQUIRES_KEYS],
      ['executor.spec', sub(defs.executor, 'spec'), KEYS.EXECUTOR_SPEC_KEYS],
      ['workbookEntry', defs.workbookEntry, KEYS.WORKBOOK_ENTRY_KEYS],
      ['policy', defs.policy, KEYS.POLICY_KEYS],
      ['policyThen', defs.policyThen, KEYS.THEN_KEYS],
    ];
    for (const [name, def, keys] of closed) {
      expect({ name, additional: def?.additionalProperties }).toEqual({ name, additional: false });
      expect({ name, keys: props(def) }).toEqual({ name, keys: [...keys].sort() });
    }
    const base = { apiVersion: 'noetl.io/v2', kind: 'Playbook', metadata: { name: 'x' } };
    const step = (extra: Schema) => check({ ...base, workflow: [{ step: 'start', ...extra }] });
    expect(step({ tol: { kind: 'noop' } })).toContain('$.workflow[0]: unexpected tol');
    expect(step({ tool: { kind: 'noop' } })).toEqual([]);
    expect(step({ tool: { kind: 'noop', next: 'end' } })).toEqual([
      '$.workflow[0].tool: matches no anyOf branch',
    ]);
    expect(step({ tool: { kind: 'http', url: 'u', anything: 1 } })).toEqual([]);
    expect(step({ next: { arcs: [{ step: 'end', when: 'x' }] } })).toEqual([]);
    expect(step({ next: { arcs: [{ step: 'end', cond: 'x' }] } })).toEqual([
      '$.workflow[0].next: matches no anyOf branch',
    ]);
    expect(check({ ...base, tracing: {}, workflow: [{ step: 'start' }] })).toContain('$: unexpected tracing');
  });

  it('returns a fresh object each call', () => {
    const a = playbookJsonSchema();
    (a.properties as Schema).apiVersion = 'changed';
    expect((playbookJsonSchema() as Schema & { properties: Schema }).properties.apiVersion).not.toBe(
      'changed',
    );
  });

  it.skipIf(!HAVE_UPSTREAM).each(files)('validates %s', (file) => {
    expect(check(parse(readFileSync(join(CONFORMANCE, file), 'utf8')))).toEqual([]);
  });

  it('accepts every tool, next, loop and rule shape, and rejects wrong ones', () => {
    const base = { apiVersion: 'noetl.io/v2', kind: 'Playbook', metadata: { name: 'x' } };
    const ok = (step: Schema) => check({ ...base, workflow: [{ step: 'start', ...step }] });
    expect(
      ok({ tool: [{ fetch: { kind: 'http' } }, { name: 'b', kind: 'noop' }], next: ['a', 'b'] }),
    ).toEqual([]);
    expect(ok({ next: 'end', loop: { in: [1], iterator: 'i', mode: 'parallel' } })).toEqual([]);
    expect(
      ok({
        next: [
          { step: 'a', when: true },
          { when: '{{ x }}', then: [{ step: 'b' }] },
        ],
      }),
    ).toEqual([]);
    const rules = [
      { when: 'x', do: 'retry' },
      { when: 'x', then: { do: 'jump', to: 'a' } },
      { else: { then: { do: 'break' } } },
      { else: null, then: { do: 'continue' } },
    ];
    expect(ok({ tool: { kind: 'noop', spec: { policy: { rules } } } })).toEqual([]);

    expect(check({ ...base })).toContain('$: missing workflow');
    expect(ok({ tool: { code: 'x' } }).length).toBeGreaterThan(0);
    expect(ok({ tool: [{ a: { kind: 'x' }, b: { kind: 'y' } }] }).length).toBeGreaterThan(0);
    expect(ok({ next: { spec: { mode: 'all' }, arcs: [] } }).length).toBeGreaterThan(0);
    expect(ok({ loop: { in: 'x' } }).length).toBeGreaterThan(0);
    expect(
      ok({ tool: { kind: 'noop', spec: { policy: { rules: [{ then: { do: 'retry' } }] } } } }).length,
    ).toBeGreaterThan(0);
    expect(check({ ...base, apiVersion: 'noetl.io/v1', workflow: [] }).length).toBeGreaterThan(0);
  });
});
