import { describe, expect, it } from 'vitest';
import { engineMemoryBytes, enginesReady, MAX_HANDOFF_ITEMS, newEnvironment } from './engine.js';
import { ENGINE_RECYCLE_BYTES, TemplateRenderer } from './renderer.js';
import { scanTemplate } from './scan.js';

/** minijinja with its own filters (no NoETL filters, no rewrites): the reference. */
function builtIn(source: string, ctx: Record<string, unknown>): string {
  const env = newEnvironment();
  try {
    env.undefinedBehavior = 'chainable';
    env.enablePyCompat();
    return env.renderStr(source, ctx);
  } finally {
    env.free();
  }
}

const ctx = {
  xs: [3, 1, 2],
  words: ['a', 'b c', 'é😀'],
  rows: [{ id: 7 }, { id: 8 }],
  m: { b: 1, a: [1, 2] },
  s: 'a-b-c',
  text: 'line one\n\n  two\r\nthree\n',
  n: 3,
  f: 2.5,
};

/** Ordinary inputs: the size-checked filters give exactly what minijinja's own give. */
const SAME_AS_BUILT_IN = [
  "{{ xs | join(',') }}",
  '{{ xs | join }}',
  "{{ words | join(' | ') }}",
  "{{ rows | map(attribute='id') | join(', ') }}",
  "{{ [1, 2.0, 'a', none, true, [1, 2.5], {'k': 'v'}] | join(';') }}",
  "{{ [f / 2, 4 / 2] | join(' ') }}",
  "{{ 'abc' | join('-') }}",
  "{{ 'é😀x' | join('.') }}",
  "{{ m | join('+') }}",
  "{{ missing | join(',') }}",
  "{{ missing.deeper | join(',') }}",
  '{{ range(5) | join(n) }}',
  "{{ [] | join(',') }}",
  "{% set c = cycler([[1, 2.0, none, 'é'], 'ab']) %}{{ c.next() | join('-') }}/{{ c.next() | join }}",
  "{{ s | replace('-', '_') }}",
  "{{ 'aaa' | replace('a', 'bb') }}",
  "{{ 'abc' | replace('', '-') }}",
  "{{ '' | replace('', 'x') }}",
  "{{ 'é😀' | replace('', '|') }}",
  "{{ 'x$y' | replace('$', '$&$$') }}",
  "{{ 3.0 | replace('.', ',') }}",
  "{{ f | replace('.', ',') }}",
  "{{ xs | replace(', ', ';') }}",
  "{{ missing | replace('a', 'b') }}",
  "{{ s.replace('-', '') }}",
  "{{ 'aaaa'.replace('a', 'b', 2) }}",
  "{{ 'aaaa'.replace('', '.', 2) }}",
  "{{ ', '.join(words) }}",
  "{{ '-'.join(xs) ~ '!' }}",
  "{{ ('x' ~ s).replace('x', 'y').upper() }}",
  '{{ text | indent(2) }}',
  '{{ text | indent(2, true) }}',
  '{{ text | indent(2, true, true) }}',
  '{{ text | indent(0) }}',
  "{{ '' | indent(4, true) }}",
  "{{ 'a\r\nb' | indent(1, true) }}",
  '{{ m | indent(2, true) }}',
  "{{ '-' * n }}",
  "{{ n * 'ab' }}",
  "{{ 'ab' * n * 2 }}",
  "{{ ('a' ~ s) * n }}",
  "{{ '=' * 5 ~ s }}",
  "{{ ('ab' * 2) * n }}",
  "{{ 'x' * 0 }}",
  '{{ ([1, 2] * n) | list }}',
  '{{ (n * [0]) | list | length }}',
  '{{ n * 2 * f }}',
  '{{ xs * 2 }}',
  '{{ (xs * n) | list | length }}',
  '{{ n * f }} {{ f * n * 2 }} {{ n + f }}',
  '{{ s * n }}',
  '{{ words + xs }}',
  '{{ s + s }}',
  '{{ range(3) * n }}',
  "{{ (xs | list * 2) | list }} {{ s.split('-') * 2 }} {{ dict(a=f).a * n }} {{ n * xs | length }}",
  '{% set ns = namespace(t=0) %}{% for x in xs %}{% set ns.t = ns.t + x %}{% endfor %}{{ ns.t }}',
  '{{ (n * 4) / 3 }} {{ n * 4 / 3 }} {{ 2 ** n * n }}',
  '{% for w in words %}{{ w | replace(" ", "_") }}{{ "," if not loop.last }}{% endfor %}',
  "{% filter replace('a', 'o') %}banana{% endfilter %}",
  '{% set joined = xs | join("/") %}{{ joined }}',
  '{% raw %}{{ xs | join(",") }} {{ "a" * n }}{% endraw %}',
  '{% macro m() %}ab{% endmacro %}{{ m() * n }} {{ n * m() * 2 }} {{ ((m() | list) * n) | list }}',
  '{% macro k() %}{{ f }}{% endmacro %}{{ (k() | float) * n }} {{ n * (k() | float) }} {{ (k() | int) * n }}',
];

describe('size-checked filters', () => {
  const t = new TemplateRenderer();

  it('give the same text as minijinja on ordinary inputs', async () => {
    await enginesReady();
    for (const source of SAME_AS_BUILT_IN) expect(t.render(source, ctx), source).toBe(builtIn(source, ctx));
  });

  it('keep typed rendering and conditions', () => {
    expect(t.renderTyped("{{ xs | join(',') }}", ctx)).toBe('3,1,2');
    expect(t.renderTyped("{{ '[' ~ xs | join(',') ~ ']' }}", ctx)).toEqual([3, 1, 2]);
    expect(t.renderTyped("{{ '1' * n }}", ctx)).toBe(111);
    expect(t.condition("'b' in s.replace('-', '')", ctx)).toBe(true);
  });

  it('rewrite only what can multiply a size', () => {
    expect(scanTemplate("{{ x | join(',') }}").source).toBe(
      "{{ ((x) | list | count | __nt_join_fits(',') and (x) | join(',')) }}",
    );
    expect(scanTemplate("{{ c.next() | join(',') }}").source).toBe(
      "{{ c.next() | map('string') | tojson | __nt_join(',') }}",
    );
    expect(scanTemplate('{{ x | replace("a", "b") }}').source).toBe('{{ x | string | replace("a", "b") }}');
    expect(scanTemplate("{{ '-' * width }}").source).toBe("{{ (('-') | __nt_repeat(width)) }}");
    expect(scanTemplate('{{ [0] * width }}').source).toBe('{{ ([0] * ((width) | __nt_items(1))) }}');
    expect(scanTemplate('{{ xs * n }}').source).toBe('{{ (xs * n if (xs | __nt_product(n)) else none) }}');
    // an operand with effects is evaluated once, its size checked by a test on the way
    expect(scanTemplate('{{ m() * n }}').source).toBe("{{ (([m()] | select('__nt_fits', n) | first) * n) }}");
    expect(scanTemplate('{{ n * (m() | fromjson) }}').source).toBe(
      "{{ (n * ([(m() | fromjson)] | select('__nt_fits', n) | first)) }}",
    );
    expect(scanTemplate('{{ (m() | fromjson) * (k() | int) }}').source).toBe('{{ (none | __nt_unchecked) }}');
    expect(scanTemplate('{{ rows | length }}').source).toBe(
      "{{ ([rows] | reject('none') | reject('undefined') | select('iterable') | map('count') | first | default(0)) }}",
    );
    for (const plain of ["{{ '=' * 20 }}", '{{ 2 * 3 }}', '{{ a + b }}', '{{ "a.join(b)" }}'])
      expect(scanTemplate(plain).source).toBe(plain);
    expect(scanTemplate('{{ x | __nt_repeat(9) }}').reserved).toBe('__nt_repeat');
  });
});

/** Hostile templates: each is refused before its value is built. */
const TOO_LARGE: readonly [string, Record<string, unknown>][] = [
  ["{{ (range(100000) | join('x' * 1000)) | length }}", {}],
  ["{{ ('a' * 1000) | replace('a', 'b' * 100000) | length }}", {}],
  ["{{ ('x' * 10000) | replace('x', 'y' * 10000) | length }}", {}],
  ["{{ ('ab' ~ 'c') * n }}", { n: 1_000_000_000 }],
  ["{{ 'ab' * n }}", { n: 3_000_000_000 }],
  ["{{ ('-' * 1000) * n * n }}", { n: 100_000 }],
  ["{{ 'a\nb' | indent(n) | length }}", { n: 1_000_000_000 }],
  ["{{ (('a\n' * 100000) | indent(1000)) | length }}", {}],
  ["{{ ('x' * 1000).join(range(100000)) | length }}", {}],
  ["{{ (('ab' * 500000).replace('a', 'x' * 1000)) | length }}", {}],
  ['{{ ([1, 2] * n) | length }}', { n: 1_000_000_000 }],
  ["{{ 'a' * 3000 * 1000 * 1000 }}", {}],
  ['{{ xs * n }}', { xs: [1, 2], n: 1_000_000_000 }],
  ['{{ s * n * n }}', { s: 'ab', n: 100_000 }],
  ['{{ range(100000) * n }}', { n: 1000 }],
  ['{{ (xs * (n * 1000)) | length }}', { xs: [1], n: 100_000 }],
  ['{{ (dict(v=xs).v * n) | sum }}', { xs: [1], n: 1_000_000_000 }],
  ["{{ 2 in (s.split(',') * n) }}", { s: 'a,b', n: 1_000_000_000 }],
  ['{{ (xs | select | list * n) | max }}', { xs: [1], n: 1_000_000_000 }],
  // a value from a macro, repeated then consumed: minijinja's lazy repetition ran for every item
  ['{% macro m() %}[1, 2]{% endmacro %}{{ ((m() | fromjson) * n) | sum }}', { n: 1_000_000_000 }],
  ['{% macro m() %}[1, 2]{% endmacro %}{{ 3 in (n * (m() | fromjson)) }}', { n: 1_000_000_000 }],
  // two values from calls: neither can be checked before the other is known, so refused
  [
    '{% macro m() %}[1, 2]{% endmacro %}{% macro k() %}{{ n }}{% endmacro %}{{ ((m() | fromjson) * (k() | int)) | sum }}',
    { n: 1_000_000_000 },
  ],
];

describe('hostile templates', () => {
  it('are refused with limit "size" before the value is built', async () => {
    await enginesReady();
    const r = new TemplateRenderer();
    for (const [source, scope] of TOO_LARGE) {
      globalThis.gc?.();
      const rss = process.memoryUsage().rss;
      const engine = engineMemoryBytes();
      const start = performance.now();
      let error: unknown;
      try {
        r.render(source, scope);
      } catch (err) {
        error = err;
      }
      const ms = performance.now() - start;
      expect(error, source).toMatchObject({
        code: 'TEMPLATE_RENDER',
        message: expect.stringMatching(/too large|at most/) as unknown,
        details: expect.objectContaining({ limit: 'size' }) as unknown,
      });
      expect(ms, source).toBeLessThan(500);
      // nothing of the refused size was built, in the engine or in the process
      expect(engineMemoryBytes() - engine, source).toBeLessThan(8 * 1024 * 1024);
      expect(process.memoryUsage().rss - rss, source).toBeLessThan(64 * 1024 * 1024);
      expect(r.render('{{ a ~ "!" }}', { a: 'fine' })).toBe('fine!');
    }
  });

  it('refuses handing JavaScript filters a lazy value too large to copy, and recovers', async () => {
    await enginesReady();
    const r = new TemplateRenderer();
    const rss = process.memoryUsage().rss;
    const start = performance.now();
    // a list that holds itself twice over, 21 deep (cheap in the engine, which shares the
    // halves: 2,097,152 leaves), handed to a JavaScript filter (`b64encode`) that would receive
    // a copy of every leaf
    const source =
      '{% set ns = namespace(l=[1]) %}{% for i in range(21) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l | b64encode }}';
    expect(() => r.render(source, {})).toThrowError(
      expect.objectContaining({
        code: 'TEMPLATE_RENDER',
        message: expect.stringContaining(`${MAX_HANDOFF_ITEMS} items`) as unknown,
        details: expect.objectContaining({ limit: 'size' }) as unknown,
      }),
    );
    expect(performance.now() - start).toBeLessThan(2000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(512 * 1024 * 1024);
    await enginesReady();
    expect(r.render('{{ xs | length }}-{{ xs | join }}', { xs: [1, 2] })).toBe('2-12');
    expect(engineMemoryBytes()).toBeLessThan(ENGINE_RECYCLE_BYTES);
  });

  it('names what minijinja does not have and fails fast on what it refuses itself', async () => {
    await enginesReady();
    const r = new TemplateRenderer();
    const refused = [
      "{{ 'x' | center(1000000000) }}",
      "{{ '%s' | format('x') }}",
      "{{ '%s' % 'x' }}",
      "{{ 'x' | wordwrap(5) }}",
      '{{ range(1000001) | list | length }}',
      '{{ 10 ** 100000 }}',
    ];
    for (const source of refused) {
      const start = performance.now();
      expect(() => r.render(source, {}), source).toThrowError(
        expect.objectContaining({ code: 'TEMPLATE_RENDER' }),
      );
      expect(performance.now() - start, source).toBeLessThan(200);
    }
  });

  it('a filter that fails reports its message and leaves the engine as it was', async () => {
    await enginesReady();
    const r = new TemplateRenderer();
    expect(() => r.render('{{ "%%%" | b64decode }}', {})).toThrowError(
      expect.objectContaining({
        code: 'TEMPLATE_RENDER',
        message: expect.stringMatching(/^b64decode: /) as unknown,
      }),
    );
    expect(() => r.render("{{ 'a' | indent('wide') }}", {})).toThrowError(
      expect.objectContaining({
        code: 'TEMPLATE_RENDER',
        message: expect.stringMatching(/indent takes/) as unknown,
      }),
    );
    expect(r.render('{{ "b2s=" | b64decode }}', {})).toBe('ok');
  });
});
