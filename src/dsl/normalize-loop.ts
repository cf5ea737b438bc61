import { isTemplate } from '../template/index.js';
import { checkKeys, LOOP_KEYS, LOOP_SPEC_KEYS } from './known-keys.js';
import { has, isMap, present, show, type Path } from './raw.js';
import type { Reporter } from './reporter.js';
import type { LoopMode, LoopSpec } from './types.js';

const MODES: ReadonlySet<string> = new Set<LoopMode>(['sequential', 'parallel', 'cursor']);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isMode(value: string): value is LoopMode {
  return MODES.has(value);
}

function readMode(value: unknown, path: Path, rep: Reporter): LoopMode {
  if (value === undefined || value === null) return 'sequential';
  if (value === 'async') return 'parallel'; // legacy iterator spelling
  if (typeof value === 'string' && isMode(value)) return value;
  rep.error('LOOP_INVALID', path, `loop mode must be one of ${[...MODES].join(', ')}, not ${show(value)}`);
  return 'sequential';
}

function readMaxInFlight(value: unknown, path: Path, rep: Reporter): number | string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  if (typeof value === 'string') {
    if (isTemplate(value)) return value;
    const n = Number(value);
    if (value.trim() !== '' && Number.isInteger(n) && n >= 1) return n;
  }
  rep.error('LOOP_INVALID', path, '`max_in_flight` must be a whole number >= 1 or a template');
  return undefined;
}

/**
 * `loop: {in, iterator, spec: {mode, max_in_flight, frame}, cursor}` (contract 1.8), with the
 * legacy shorthands `loop.mode` and `loop.max_in_flight`. `spec.*` wins over the shorthand.
 */
export function normalizeLoop(raw: unknown, path: Path, rep: Reporter): LoopSpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isMap(raw)) {
    rep.error('LOOP_INVALID', path, '`loop` must be a map `{in, iterator, spec: {mode}}`');
    return undefined;
  }
  const spec = present(raw, 'spec');
  if (spec !== undefined && spec !== null && !isMap(spec))
    rep.error('LOOP_INVALID', [...path, 'spec'], '`loop.spec` must be a map');
  const specMap = isMap(spec) ? spec : {};
  checkKeys(raw, LOOP_KEYS, path, '`loop`', rep);
  checkKeys(specMap, LOOP_SPEC_KEYS, [...path, 'spec'], '`loop.spec`', rep);
  const modeAt: Path = has(specMap, 'mode') ? [...path, 'spec', 'mode'] : [...path, 'mode'];
  const mode = readMode(present(specMap, 'mode') ?? present(raw, 'mode'), modeAt, rep);

  const iterator = present(raw, 'iterator');
  let ok = true;
  if (iterator === undefined) {
    rep.error('LOOP_INVALID', path, '`loop` needs `iterator: <name>` (the variable holding each item)');
    ok = false;
  } else if (typeof iterator !== 'string' || !IDENTIFIER.test(iterator)) {
    rep.error('LOOP_INVALID', [...path, 'iterator'], '`iterator` must be a variable name like `item`');
    ok = false;
  }

  const collection = present(raw, 'in');
  const cursor = present(raw, 'cursor');
  if (mode === 'cursor') {
    if (!isMap(cursor) || typeof cursor.claim !== 'string') {
      rep.error('LOOP_INVALID', path, '`mode: cursor` needs `cursor: {kind, auth, claim: <SQL>}`');
      ok = false;
    } else if (cursor.kind !== undefined && cursor.kind !== null && cursor.kind !== 'postgres') {
      // the claim runs as a postgres command; NoETL registers no other cursor driver either
      rep.error(
        'LOOP_INVALID',
        [...path, 'cursor', 'kind'],
        `cursor \`kind\` must be postgres, not ${show(cursor.kind)}`,
      );
      ok = false;
    }
    if (collection !== undefined && collection !== null && collection !== '') {
      rep.error(
        'LOOP_INVALID',
        [...path, 'in'],
        'a cursor loop takes its rows from `cursor.claim`, not `in`',
      );
      ok = false;
    }
  } else if (cursor !== undefined && cursor !== null) {
    // as NoETL: the cursor would be ignored, and `in` (if any) iterated instead
    rep.error('LOOP_INVALID', [...path, 'cursor'], '`cursor` needs `spec.mode: cursor`');
    ok = false;
  } else if (collection === undefined) {
    rep.error('LOOP_INVALID', path, '`loop` needs `in:` (the collection to iterate)');
    ok = false;
  }
  rep.templates(collection, [...path, 'in']);
  rep.templates(cursor, [...path, 'cursor']);

  const mifAt: Path = has(specMap, 'max_in_flight')
    ? [...path, 'spec', 'max_in_flight']
    : [...path, 'max_in_flight'];
  const maxInFlight = readMaxInFlight(
    present(specMap, 'max_in_flight') ?? present(raw, 'max_in_flight'),
    mifAt,
    rep,
  );
  const frame = present(specMap, 'frame');
  if (frame !== undefined && frame !== null && !isMap(frame))
    rep.error('LOOP_INVALID', [...path, 'spec', 'frame'], '`frame` must be a map');
  rep.templates(frame, [...path, 'spec', 'frame']);

  if (!ok || typeof iterator !== 'string') return undefined;
  return {
    in: collection,
    iterator,
    mode,
    ...(maxInFlight !== undefined ? { maxInFlight } : {}),
    ...(isMap(cursor) ? { cursor } : {}),
    ...(isMap(frame) ? { frame } : {}),
  };
}
