import { describe, expect, it } from 'vitest';
import { engineMemoryBytes, enginesReady, MAX_ENGINE_MEMORY_BYTES } from './engine.js';
import { ENGINE_RECYCLE_BYTES, rendererHealth, TemplateRenderer, templates } from './renderer.js';
import { scanTemplate } from './scan.js';

const t = new TemplateRenderer();

describe('typed rendering', () => {
  it('returns native values for a single expression', () => {
    expect(t.renderTyped('{{ a }}', { a: { b: [1, 'x', null] } })).toEqual({ b: [1, 'x', null] });
    expect(t.renderTyped('{{ n }}', { n: 3 })).toBe(3);
    expect(t.renderTyped('{{ n }}', { n: '42' })).toBe(42);
    expect(t.renderTyped('{{ s }}', { s: 'True' })).toBe(true);
    expect(t.renderTyped('{{ s }}', { s: 'hello' })).toBe('hello');
    expect(t.renderTyped('{{ missing }}', {})).toBeNull();
    expect(t.renderTyped('{{ x.y.z | default(5) }}', {})).toBe(5);
  });

  it('types mixed templates by their rendered text', () => {
    expect(t.renderTyped('{{ a }}{{ b }}', { a: 1, b: 2 })).toBe(12);
    expect(t.renderTyped('id-{{ a }}', { a: 1 })).toBe('id-1');
    expect(t.renderTyped('[{{ a }}, 2]', { a: 1 })).toEqual([1, 2]);
    expect(t.renderTyped('{{ a }}.5', { a: 1 })).toBe(1.5);
  });

  it('passes non-templates through untouched', () => {
    expect(t.renderTyped('plain 123', {})).toBe('plain 123');
    expect(t.renderValue({ a: '123', b: ['x'] }, {})).toEqual({ a: '123', b: ['x'] });
  });

  it('renders map keys and nested values', () => {
    expect(t.renderValue({ '{{ k }}': ['{{ v }}', { x: '{{ v + 1 }}' }] }, { k: 'key', v: 1 })).toEqual({
      key: [1, { x: 2 }],
    });
  });

  it('supports Jinja2 integer item access with a dot', () => {
    expect(t.renderTyped('{{ xs.0.name }}', { xs: [{ name: 'a' }] })).toBe('a');
    expect(t.renderTyped('{{ 1.5 * 2 }}', {})).toBe(3);
  });

  it('chains undefined', () => {
    expect(t.render('{{ a.b.c.d }}', {})).toBe('');
    expect(t.render("{{ a.b ~ 'x' }}", {})).toBe('x');
  });

  it('looks up only the names a template reads', () => {
    const seen: string[] = [];
    const scope = (name: string): unknown => {
      seen.push(name);
      return name === 'a' ? 1 : undefined;
    };
    expect(t.renderTyped('{{ a + 1 }}', scope)).toBe(2);
    expect(seen).toEqual(['a']);
  });

  it('resolves a bare dotted name by lookup, without a round trip through the engine', () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ id: i, tags: ['a', null, true, 1.5] }));
    const scope = { workload: { items }, step: { rows: 'True' } };
    // the scope's own array: no copy was rendered and parsed back
    expect(t.renderTyped('{{ workload.items }}', scope)).toBe(items);
    expect(t.renderTyped('{{  workload . items  }}', scope)).toBe(items);
    expect(t.renderTyped('{{ step.rows }}', scope)).toBe(true); // strings still typed
  });

  it('leaves to the engine what a lookup would get wrong', () => {
    expect(t.renderTyped('{{ workload.missing }}', { workload: {} })).toBeNull();
    expect(t.renderTyped('{{ s.upper }}', { s: 'x' })).toBeNull();
    // holes and undefined become null as tojson makes them
    const holes = new Array<unknown>(2);
    expect(t.renderTyped('{{ xs }}', { xs: holes })).toEqual([null, null]);
    expect(t.renderTyped('{{ o }}', { o: { a: 1, b: undefined } })).toEqual({ a: 1, b: null });
    expect(t.renderTyped('{{ xs | length }}', { xs: [1, 2] })).toBe(2);
  });
});

describe('conditions', () => {
  it('evaluates expressions to real booleans', () => {
    expect(t.condition('{{ x == 1 }}', { x: 1 })).toBe(true);
    expect(t.condition('{{ x == 1 }}', { x: 2 })).toBe(false);
    expect(t.condition('x > 0 and y', { x: 1, y: 'yes' })).toBe(true);
    expect(t.condition('{{ items }}', { items: [] })).toBe(false);
    expect(t.condition('{{ flag }}', { flag: 'false' })).toBe(false);
    expect(t.condition('{{ flag }}', { flag: 'off' })).toBe(false);
    expect(t.condition('{{ missing }}', {})).toBe(false);
    expect(t.condition(true, {})).toBe(true);
    expect(t.condition(false, {})).toBe(false);
    expect(t.condition(undefined, {})).toBe(true);
    expect(
      t.condition("{{ output.status == 'error' and output.code in [429, 503] }}", {
        output: { status: 'error', code: 503 },
      }),
    ).toBe(true);
  });
});

describe('filters', () => {
  it('has the NoETL custom filters', () => {
    expect(t.render('{{ "héllo" | b64encode }}', {})).toBe('aMOpbGxv');
    expect(t.render('{{ "aMOpbGxv" | b64decode }}', {})).toBe('héllo');
    expect(t.renderTyped('{{ s | fromjson }}', { s: '{"a": [1]}' })).toEqual({ a: [1] });
    expect(t.renderTyped('{{ m | keys }}', { m: { a: 1, b: 2 } })).toEqual(['a', 'b']);
    expect(t.renderTyped('{{ m | values }}', { m: { a: 1, b: 2 } })).toEqual([1, 2]);
    expect(t.renderTyped('{{ m | get("a") }}', { m: { a: 1 } })).toBe(1);
    expect(t.renderTyped('{{ m | get("z", 9) }}', { m: { a: 1 } })).toBe(9);
    expect(t.renderTyped('{{ m | len }}', { m: [1, 2, 3] })).toBe(3);
    expect(t.renderTyped('{{ m | tojson }}', { m: { a: 1 } })).toEqual({ a: 1 });
    expect(t.renderTyped('{{ x | d(4) }}', {})).toBe(4);
    expect(t.renderTyped('{{ "a-b" | replace("-", "_") }}', {})).toBe('a_b');
    expect(t.renderTyped('{{ m.get("a") }}', { m: { a: 1 } })).toBe(1);
    expect(t.condition('{{ m is mapping }}', { m: { a: 1 } })).toBe(true);
  });

  it('length counts strings, lists and maps, and gives 0 for anything else, as NoETL', () => {
    expect(t.renderTyped('{{ s | length }}', { s: 'héllo😀' })).toBe(6);
    expect(t.renderTyped('{{ l | length }}', { l: [1, [2, 3], {}] })).toBe(3);
    expect(t.renderTyped('{{ m | length }}', { m: { a: 1, b: 2 } })).toBe(2);
    // minijinja's own filter fails these; NoETL's gives 0
    expect(t.renderTyped('{{ out.data.entry | length }}', { out: { data: {} } })).toBe(0);
    expect(t.renderTyped('{{ n | length }}', { n: null })).toBe(0);
    expect(t.renderTyped('{{ 5 | length }}', {})).toBe(0);
    expect(t.renderTyped('{{ (r | int) + (missing | len) }}', { r: '2' })).toBe(2);
  });
});

describe('errors', () => {
  it('reports syntax errors with a stable code', () => {
    expect(t.syntaxError('{{ a ')).toMatch(/syntax error/);
    expect(t.syntaxError('{{ a }}')).toBeUndefined();
    expect(() => t.render('{% if %}', {})).toThrowError(expect.objectContaining({ code: 'TEMPLATE_SYNTAX' }));
    expect(() => t.render('{{ a | nosuchfilter }}', {})).toThrowError(
      expect.objectContaining({ code: 'TEMPLATE_RENDER' }),
    );
  });
});

describe('sandbox', () => {
  it('cannot reach the host through constructors or prototypes', () => {
    const escapes = [
      '{{ range.constructor("return process")() }}',
      '{{ a.constructor.constructor("return process")() }}',
      "{{ ''.constructor.constructor('return process')().exit(3) }}",
      '{{ a.__proto__.constructor }}',
      '{{ lipsum.__globals__ }}',
      '{{ cycler.__init__.__globals__.os }}',
    ];
    for (const src of escapes) {
      let out: unknown;
      try {
        out = t.render(src, { a: {} });
      } catch (err) {
        out = err;
      }
      // Either an error or an empty/undefined rendering; never a host object.
      if (typeof out === 'string') expect(out).not.toMatch(/process|function|native code|object Object/i);
      else expect(out).toMatchObject({ code: expect.stringMatching(/^TEMPLATE_/) });
    }
    expect(t.render('{{ a.__proto__ }}{{ a.constructor }}', { a: {} })).toBe('');
  });
});

describe('scanner', () => {
  it('finds root names and single expressions', () => {
    const s = scanTemplate('{{ a.b | default(c) }} and {% if d %}{{ "e.f" }}{% endif %}');
    expect(s.names).toEqual(expect.arrayContaining(['a', 'default', 'c', 'd']));
    expect(s.names).not.toContain('b');
    expect(s.names).not.toContain('e');
    expect(s.expression).toBeUndefined();
    expect(scanTemplate(' {{ x }} ').expression).toBe('x');
  });
});

describe('engine failures', () => {
  it('a template that breaks the engine does not break the renders after it', async () => {
    const r = new TemplateRenderer();
    expect(r.render('{{ 1 + 1 }}', {})).toBe('2');
    // 3 GB that minijinja's compiler would fold: the scanner refuses it at registration ...
    const hostile = "{{ ('a' * 3000 * 1000 * 1000) | length }}";
    expect(r.syntaxError(hostile)).toMatch(/too large/);
    // ... and a batch padded to 100,000,000 items fails inside the engine
    expect(() => r.render("{{ [1] | batch(100000000, 'x') | length }}", {})).toThrowError(
      expect.objectContaining({
        code: 'TEMPLATE_RENDER',
        details: expect.objectContaining({ limit: 'engine' }),
      }),
    );
    await enginesReady();
    expect(r.render('{{ x ~ "!" }}', { x: 'still fine' })).toBe('still fine!');
    // ... and at render time, with the size coming from the context
    expect(() => r.render("{{ ('a' * n) | length }}", { n: 3_000_000_000 })).toThrowError(
      expect.objectContaining({ code: 'TEMPLATE_RENDER' }),
    );
    expect(r.renderTyped('{{ a + 1 }}', { a: 1 })).toBe(2);
    expect(r.condition('{{ flag }}', { flag: true })).toBe(true);
  });

  it('other renderers recover too when one of them resets the engine', async () => {
    const a = new TemplateRenderer();
    const b = new TemplateRenderer();
    expect(b.render('{{ v }}', { v: 'b' })).toBe('b');
    expect(() => a.render("{{ ('a' * n) | length }}", { n: 3_000_000_000 })).toThrow();
    await enginesReady();
    expect(b.render('{{ v }}', { v: 'b2' })).toBe('b2');
    expect(a.render('{{ v }}', { v: 'a2' })).toBe('a2');
  });

  it('health renders a probe through the shared renderer', async () => {
    await enginesReady();
    expect(rendererHealth()).toEqual({ ok: true });
    expect(() => templates().render("{{ ('a' * n) | length }}", { n: 3_000_000_000 })).toThrow();
    await enginesReady();
    expect(rendererHealth()).toEqual({ ok: true });
  });
});

describe('budgets', () => {
  it('stops a render that takes too many steps', async () => {
    await enginesReady();
    const r = new TemplateRenderer();
    const loop = '{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}';
    expect(() => r.render(loop, {})).toThrowError(
      expect.objectContaining({
        code: 'TEMPLATE_RENDER',
        details: expect.objectContaining({ limit: 'steps' }),
      }),
    );
    expect(r.condition('x > 1', { x: 2 })).toBe(true);
  });

  it('refuses literal repetitions before building them, at registration too', async () => {
    await enginesReady();
    const r = new TemplateRenderer();
    expect(r.syntaxError("{{ 'a' * 3000000000 }}")).toMatch(/too large/);
    expect(r.syntaxError("{{ ('ab' * 600000) | length }}")).toMatch(/too large/);
    expect(r.syntaxError("{{ 3000000000 * 'a' }}")).toMatch(/too large/);
    expect(() => r.render("{{ 'a' * 3000000000 }}", {})).toThrowError(
      expect.objectContaining({
        code: 'TEMPLATE_RENDER',
        details: expect.objectContaining({ limit: 'size' }),
      }),
    );
    // numbers alone are not sizes
    expect(r.renderTyped('{{ 3 * 1000000000 }}', {})).toBe(3_000_000_000);
    expect(r.renderTyped("{{ ('ab' * 3) }}", {})).toBe('ababab');
  });

  it('gives memory back after a render that grew the engine', async () => {
    await enginesReady();
    const r = new TemplateRenderer();
    // `~` in a loop doubles a string: 2 ** 25 characters, built within the engine's cap
    const doubling = (n: number) =>
      `{% set ns = namespace(s='a') %}{% for i in range(${n}) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}`;
    expect(r.renderTyped(doubling(25), {})).toBe(2 ** 25);
    expect(engineMemoryBytes()).toBeLessThan(ENGINE_RECYCLE_BYTES);
    await enginesReady();
    // past the engine's memory cap: refused, and the engine is fresh again
    expect(2 ** 30).toBeGreaterThan(MAX_ENGINE_MEMORY_BYTES);
    expect(() => r.render(doubling(30), {})).toThrowError(
      expect.objectContaining({
        code: 'TEMPLATE_RENDER',
        details: expect.objectContaining({ limit: 'engine' }),
      }),
    );
    expect(engineMemoryBytes()).toBeLessThan(ENGINE_RECYCLE_BYTES);
    expect(r.render('{{ "ok" }}', {})).toBe('ok');
  });
});

describe('isolation', () => {
  it('a template cannot include, import or extend another template of the engine', async () => {
    await enginesReady();
    const r = new TemplateRenderer();
    // another playbook's templates, registered in the same engine under t0, t1, ...
    for (let i = 0; i < 5; i++)
      expect(r.render(`other playbook's secret ${i} {{ x }}`, { x: i })).toMatch(/secret/);
    const loaders = [
      '{% include "t0" %}',
      '{%- include "t1" -%}',
      "{% import 't2' as m %}{{ m }}",
      "{% from 't3' import x %}{{ x }}",
      '{% extends "t4" %}',
      '{%include"t0"%}',
    ];
    for (const src of loaders) {
      let out: unknown;
      try {
        out = r.render(src, {});
      } catch (err) {
        out = err;
      }
      expect(out, src).toMatchObject({
        code: 'TEMPLATE_SYNTAX',
        message: expect.stringMatching(/not supported/),
      });
      expect(r.syntaxError(src), src).toMatch(/not supported/);
    }
    // words that merely look like the tags are fine
    expect(r.render('{{ "include" }} {% if x %}import{% endif %}', { x: 1 })).toBe('include import');
  });
});
