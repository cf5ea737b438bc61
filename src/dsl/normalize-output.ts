import { checkKeys } from './known-keys.js';
import { isMap, present, show, type Path, type RawMap } from './raw.js';
import type { Reporter } from './reporter.js';
import { OUTPUT_STORE_KINDS, type OutputSelect, type OutputSpec, type OutputStoreKind } from './types.js';

/**
 * Keys of a step's `output:` block (contract 1.4 `output`, NoETL's `output_select` pattern). Only
 * `store.kind`, `output_select`/`select`, `inline_max_bytes` and `preview_max_bytes` change what
 * happens here; the others are accepted as NoETL's hints and have no effect.
 */
const OUTPUT_KEYS: readonly string[] = [
  'store',
  'output_select',
  'select',
  'inline_max_bytes',
  'preview_max_bytes',
  'scope',
  'accumulate',
  'as',
];
const STORE_KEYS: readonly string[] = [
  'kind',
  'driver',
  'bucket',
  'prefix',
  'ttl',
  'compression',
  'credential',
  'scope',
];

/** `$.a.b[0]` or `a.b[0]` -> the key it is read by: the last name (`b`). */
function keyOf(path: string): string {
  const names = path
    .replace(/^\$\.?/, '')
    .replace(/\[[^\]]*\]/g, '')
    .split('.')
    .filter((n) => n !== '');
  return names[names.length - 1] ?? '';
}

function selectItem(raw: unknown, path: Path, rep: Reporter): OutputSelect | undefined {
  if (typeof raw === 'string' && raw.trim() !== '') {
    const as = keyOf(raw.trim());
    if (as !== '') return { path: raw.trim(), as };
  } else if (isMap(raw) && typeof raw.path === 'string' && raw.path.trim() !== '') {
    const as = typeof raw.as === 'string' && raw.as !== '' ? raw.as : keyOf(raw.path.trim());
    if (as !== '') return { path: raw.path.trim(), as };
  }
  rep.error(
    'INVALID_TYPE',
    path,
    `an output field is a path (\`status\`, \`data.items[0].id\`) or \`{path, as}\`, not ${show(raw)}`,
  );
  return undefined;
}

function selectList(raw: unknown, path: Path, rep: Reporter): OutputSelect[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    rep.error('INVALID_TYPE', path, 'the fields to keep must be a list of paths');
    return [];
  }
  const out: OutputSelect[] = [];
  raw.forEach((item, i) => {
    const s = selectItem(item, [...path, i], rep);
    if (s) out.push(s);
  });
  return out;
}

function byteCount(parent: RawMap, key: string, path: Path, rep: Reporter): number | undefined {
  const value = present(parent, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  rep.error('INVALID_TYPE', [...path, key], `\`${key}\` must be a whole number of bytes (0 or more)`);
  return undefined;
}

function storeKind(raw: unknown, path: Path, rep: Reporter): OutputStoreKind {
  if (raw === undefined || raw === null) return 'auto';
  let kind: unknown = raw;
  if (isMap(raw)) {
    checkKeys(raw, STORE_KEYS, path, '`output.store`', rep);
    kind = present(raw, 'kind') ?? 'auto';
  }
  const name = typeof kind === 'string' ? kind.toLowerCase() : kind;
  if (name === 'object') return 'disk';
  if (typeof name === 'string' && (OUTPUT_STORE_KINDS as readonly string[]).includes(name))
    return name as OutputStoreKind;
  rep.error(
    'INVALID_TYPE',
    isMap(raw) ? [...path, 'kind'] : path,
    `unknown result store ${show(kind)}: use one of ${OUTPUT_STORE_KINDS.join(', ')}`,
  );
  return 'auto';
}

/** Reads a step's `output:` block; undefined when it is absent or not a map (reported). */
export function normalizeOutput(raw: unknown, path: Path, rep: Reporter): OutputSpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isMap(raw)) {
    rep.error('INVALID_TYPE', path, '`output` must be a map (`store`, `output_select`, `inline_max_bytes`)');
    return undefined;
  }
  checkKeys(raw, OUTPUT_KEYS, path, '`output`', rep);
  const store = storeKind(present(raw, 'store'), [...path, 'store'], rep);
  const select = [
    ...selectList(present(raw, 'output_select'), [...path, 'output_select'], rep),
    ...selectList(present(raw, 'select'), [...path, 'select'], rep),
  ];
  const inlineMaxBytes = byteCount(raw, 'inline_max_bytes', path, rep);
  const previewMaxBytes = byteCount(raw, 'preview_max_bytes', path, rep);
  return {
    store,
    select,
    ...(inlineMaxBytes !== undefined ? { inlineMaxBytes } : {}),
    ...(previewMaxBytes !== undefined ? { previewMaxBytes } : {}),
  };
}

/** An OutputSpec carried as JSON with a command, read back (anything malformed is dropped). */
export function outputFromJson(raw: unknown): OutputSpec | undefined {
  if (!isMap(raw) || typeof raw.store !== 'string') return undefined;
  if (!(OUTPUT_STORE_KINDS as readonly string[]).includes(raw.store)) return undefined;
  const select = Array.isArray(raw.select)
    ? raw.select.filter(
        (s): s is OutputSelect => isMap(s) && typeof s.path === 'string' && typeof s.as === 'string',
      )
    : [];
  const bytes = (v: unknown): number | undefined =>
    typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
  const inlineMaxBytes = bytes(raw.inlineMaxBytes);
  const previewMaxBytes = bytes(raw.previewMaxBytes);
  return {
    store: raw.store as OutputStoreKind,
    select: select.map((s) => ({ path: s.path, as: s.as })),
    ...(inlineMaxBytes !== undefined ? { inlineMaxBytes } : {}),
    ...(previewMaxBytes !== undefined ? { previewMaxBytes } : {}),
  };
}
