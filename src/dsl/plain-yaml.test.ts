import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Composer, LineCounter, Parser } from 'yaml';
import { readPlainYaml } from './plain-yaml.js';
import type { Path } from './raw.js';
import { SourceMap } from './source-map.js';

/** What parsePlaybook gets from `yaml` for a text: problems, the value and a source map. */
function reference(text: string) {
  const lines = new LineCounter();
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  const docs = [...new Composer({ prettyErrors: false, merge: true }).compose(tokens, true, text.length)];
  const doc = docs[0]!;
  const problems = [...doc.errors, ...doc.warnings].map((e) => e.code);
  if (docs.length > 1) problems.push('MULTIPLE_DOCS');
  return { problems, value: doc.toJS() as unknown, source: new SourceMap(doc, lines) };
}

/** Every path into a value, and for each one a key and an index that are not there. */
function paths(value: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix, [...prefix, 'missing'], [...prefix, 7]];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

/** Checks the fast reader against `yaml` on `text`; true when the fast reader took it. */
function agrees(text: string): boolean {
  const fast = readPlainYaml(text);
  if (!fast) return false;
  const ref = reference(text);
  const where = `for ${JSON.stringify(text)}`;
  expect(ref.problems, where).toEqual([]);
  // toEqual: a key named `constructor` defeats toStrictEqual's class check
  expect(fast.value, where).toEqual(ref.value);
  expect(JSON.stringify(fast.value), where).toBe(JSON.stringify(ref.value)); // key order too
  for (const path of paths(ref.value))
    expect(fast.positions.position(path), `${where} at ${JSON.stringify(path)}`).toEqual(
      ref.source.position(path),
    );
  expect(fast.depth, where).toBe(depthOf(ref.value));
  const workflow = (ref.value as Record<string, unknown>)['workflow'];
  expect(fast.steps, where).toBe(Array.isArray(workflow) ? workflow.length : undefined);
  return true;
}

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = [
  'step',
  'tool',
  'kind',
  'next',
  'a.b',
  'Content-Type',
  'x_1',
  'path/to',
  '"quoted key"',
  "'single'",
  '"{{ key }}"',
  'true',
  'null',
  'Yes',
  'on',
  'a b',
  '1',
  '-x',
  'x:y',
  '__proto__',
  'constructor',
  '"__proto__"',
  '? k',
  '<<',
  '&a k',
  'k ',
  '"a\\"b"',
  "'it''s'",
  '"\\u0041"',
];
const SCALARS = [
  'noop',
  'hello world',
  'a  b',
  'x#y',
  'x # comment',
  '"{{ x }}"',
  "'{{ y }}'",
  '""',
  "''",
  '"a \\" b"',
  '"tab\\there"',
  '"\\x41"',
  '"\\u00e9"',
  "'it''s'",
  '0',
  '7',
  '-3',
  '+3',
  '007',
  '-0',
  '1.5',
  '1e3',
  '.5',
  '.inf',
  '-.inf',
  '.nan',
  '0x1F',
  '0o17',
  '123456789012345678',
  '~',
  'null',
  'Null',
  'NULL',
  'true',
  'True',
  'FALSE',
  'yes',
  'no',
  'on',
  'off',
  'y',
  '2024-01-01',
  'a: b',
  'a:b',
  'a:',
  'http://x.y/z',
  '/abs/path',
  '$HOME',
  '_x',
  '@at',
  '`tick`',
  '%pct',
  '!tag x',
  '!!str 1',
  '&anchor x',
  '*alias',
  '|',
  '>',
  '-',
  '- x',
  '-x',
  '?x',
  '? x',
  ':x',
  ',x',
  'x,y',
  'x]',
  'x}',
  'é',
  'a\u00a0b',
  '[a, b]',
  '[ a , "b" ]',
  '{a: 1}',
  '{ kind: noop }',
  '{ a: [1, 2], b: { c: d } }',
  '[a,]',
  '[a,,b]',
  '{a}',
  '{a:1}',
  '{"a": 1}',
  '{a: }',
  '[]',
  '{}',
  '[ ]',
  '[a: b]',
  '[{a: b}]',
  '[[1], [2, [3]]]',
  '[a] x',
  '{a: b} # c',
  '[a # c]',
  '"unterminated',
  "'unterminated",
  '[unclosed',
  'x\\y',
  '',
];

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)]!;
}

/** A random document: maps and lists in block style, with comments, blank lines and odd pieces. */
function generate(rnd: () => number): string {
  const out: string[] = [];
  const unit = rnd() < 0.8 ? 2 : rnd() < 0.5 ? 4 : 3;
  const comment = (pad: string): void => {
    const r = rnd();
    if (r < 0.05) out.push(`${pad}# a comment: with - things`);
    else if (r < 0.08) out.push('');
    else if (r < 0.1) out.push('   ');
    else if (r < 0.11) out.push('# at column one');
  };
  const tail = (): string => (rnd() < 0.1 ? '  # tail' : rnd() < 0.05 ? '   ' : '');
  const map = (indent: number, depth: number, first?: string): void => {
    const n = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < n; i++) {
      const pad = ' '.repeat(indent);
      const lead = i === 0 && first !== undefined ? first : pad;
      if (i > 0 || first === undefined) comment(pad);
      const key = rnd() < 0.9 ? pick(rnd, KEYS.slice(0, 8)) : pick(rnd, KEYS);
      const r = rnd();
      if (depth < 4 && r < 0.25) {
        out.push(`${lead}${key}:${tail()}`);
        map(indent + unit, depth + 1);
      } else if (depth < 4 && r < 0.45) {
        out.push(`${lead}${key}:${tail()}`);
        list(rnd() < 0.5 ? indent : indent + unit, depth + 1);
      } else if (r < 0.5) {
        out.push(`${lead}${key}:${tail()}`);
      } else {
        const value = rnd() < 0.8 ? pick(rnd, SCALARS.slice(0, 12)) : pick(rnd, SCALARS);
        out.push(`${lead}${key}: ${value}${tail()}`);
      }
    }
  };
  const list = (indent: number, depth: number): void => {
    const n = 1 + Math.floor(rnd() * 3);
    for (let i = 0; i < n; i++) {
      const pad = ' '.repeat(indent);
      comment(pad);
      const r = rnd();
      const dash = rnd() < 0.9 ? '- ' : '-   ';
      if (depth < 4 && r < 0.5) map(indent + dash.length, depth + 1, `${pad}${dash}`);
      else out.push(`${pad}${dash}${pick(rnd, rnd() < 0.7 ? SCALARS.slice(0, 12) : SCALARS)}${tail()}`);
    }
  };
  if (rnd() < 0.05) out.push('---');
  if (rnd() < 0.1) out.push('# header comment');
  map(0, 1);
  let text = out.join('\n') + (rnd() < 0.8 ? '\n' : '');
  // Now and then a mutation: a character removed, inserted or a line indented differently.
  const m = rnd();
  if (m < 0.1 && text.length > 0) {
    const at = Math.floor(rnd() * text.length);
    text = text.slice(0, at) + text.slice(at + 1);
  } else if (m < 0.2) {
    const at = Math.floor(rnd() * text.length);
    text =
      text.slice(0, at) +
      pick(rnd, [' ', ':', '-', '#', '"', "'", '[', '{', '\n', '\t', ',', '\r']) +
      text.slice(at);
  }
  return text;
}

describe('readPlainYaml', () => {
  it('reads what `yaml` reads, with the same positions, on generated documents', () => {
    const rnd = random(Number(process.env['PLAIN_YAML_SEED'] ?? 17));
    let taken = 0;
    const runs = Number(process.env['PLAIN_YAML_RUNS'] ?? 4000);
    for (let i = 0; i < runs; i++) if (agrees(generate(rnd))) taken++;
    // Most generated documents have the plain shape; the others must have been declined.
    expect(taken).toBeGreaterThan(runs * 0.2);
  });

  it('reads the playbooks of the repository as `yaml` does', () => {
    const root = new URL('../../', import.meta.url).pathname;
    const dirs = [
      'test/conformance/playbooks',
      'test/conformance/playbooks/children',
      'examples',
      'examples/triggers',
    ];
    const files = dirs.flatMap((d) =>
      existsSync(join(root, d))
        ? readdirSync(join(root, d))
            .filter((f) => f.endsWith('.yaml'))
            .map((f) => join(root, d, f))
        : [],
    );
    expect(files.length).toBeGreaterThan(20);
    let taken = 0;
    for (const file of files) if (agrees(readFileSync(file, 'utf8'))) taken++;
    expect(taken).toBeGreaterThan(0);
  });

  it('reads a long chain of steps', () => {
    const lines = ['apiVersion: noetl.io/v2', 'kind: Playbook', 'metadata: { name: chain }', 'workflow:'];
    for (let i = 0; i < 50; i++)
      lines.push(`  - step: s${i}`, '    tool: { kind: noop }', `    next: [ s${i + 1} ]`);
    expect(agrees(lines.join('\n'))).toBe(true);
  });

  it('declines what it does not read', () => {
    for (const text of [
      '',
      'a: |\n  text\n',
      'a: &x 1\nb: *x\n',
      '---\na: 1\n---\nb: 2\n',
      '%YAML 1.2\n---\na: 1\n',
      'a: 1\na: 2\n',
      'a:\n\tb: 1\n',
      'a: 1.5\n',
      'a: "x\\x41"\n',
      '- a\n',
      'a: [b,\n  c]\n',
      'a: plain\n  continued\n',
    ])
      expect(readPlainYaml(text), JSON.stringify(text)).toBeUndefined();
  });
});
