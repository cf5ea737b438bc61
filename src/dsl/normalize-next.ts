import { stringify } from 'yaml';
import { isTemplate, scanTemplate } from '../template/index.js';
import { ARC_KEYS, checkKeys, ROUTER_KEYS, ROUTER_SPEC_KEYS } from './known-keys.js';
import { has, isMap, present, show, type Path, type RawMap } from './raw.js';
import type { Reporter } from './reporter.js';
import type { Arc, NextSpec, RouterMode } from './types.js';

/** An arc target as written, for the undefined-step and reachability checks. */
export interface ArcRef {
  readonly from: string;
  readonly to: string;
  readonly path: Path;
}

export interface NextContext {
  readonly rep: Reporter;
  readonly from: string;
  readonly refs: ArcRef[];
}

type When = string | boolean;
type MutableArc = { -readonly [K in keyof Arc]: Arc[K] };

function readMode(value: unknown, path: Path, rep: Reporter): RouterMode {
  if (value === undefined || value === null || value === 'exclusive') return 'exclusive';
  if (value === 'inclusive') return 'inclusive';
  rep.error('NEXT_INVALID', path, `routing mode must be 'exclusive' or 'inclusive', not ${show(value)}`);
  return 'exclusive';
}

function readMap(item: RawMap, key: string, path: Path, ctx: NextContext): RawMap | undefined {
  const value = present(item, key);
  if (value === undefined || value === null) return undefined;
  if (!isMap(value)) {
    ctx.rep.error('NEXT_INVALID', [...path, key], `arc \`${key}\` must be a map`);
    return undefined;
  }
  ctx.rep.templates(value, [...path, key]);
  return value;
}

function target(step: string, path: Path, ctx: NextContext, when?: When): MutableArc {
  ctx.refs.push({ from: ctx.from, to: step, path });
  return when === undefined ? { step } : { step, when };
}

/** The expression inside a condition: `{{ x }}` -> `x`; a bare expression as written. */
function expressionOf(when: string): string | undefined {
  return isTemplate(when) ? scanTemplate(when).expression : when.trim();
}

/** `outer and inner`, for legacy `{when, then: [{step, when}]}` nesting. */
function andWhen(
  outer: When | undefined,
  inner: When | undefined,
  path: Path,
  rep: Reporter,
): When | undefined {
  if (outer === undefined || outer === true) return inner;
  if (inner === undefined || inner === true) return outer;
  if (outer === false || inner === false) return false;
  const a = expressionOf(outer);
  const b = expressionOf(inner);
  if (a !== undefined && b !== undefined) return `{{ (${a}) and (${b}) }}`;
  rep.warning(
    'NEXT_INVALID',
    path,
    'cannot combine a mixed-text condition with the enclosing `when`; using the inner one',
  );
  return inner;
}

function arcFromMap(item: RawMap, path: Path, ctx: NextContext, outer?: When): MutableArc | undefined {
  const step = present(item, 'step');
  if (typeof step !== 'string' || step === '') {
    ctx.rep.error('NEXT_INVALID', path, 'an arc needs `step: <step name>`');
    return undefined;
  }
  checkKeys(item, ARC_KEYS, path, 'an arc', ctx.rep);
  const own = ctx.rep.condition(present(item, 'when'), [...path, 'when']);
  const when = andWhen(outer, own, path, ctx.rep);
  const arc = target(step, [...path, 'step'], ctx, when);
  const set = readMap(item, 'set', path, ctx);
  if (set) arc.set = set;
  const argsKey = ['args', 'with', 'data'].find((k) => has(item, k));
  const args = argsKey === undefined ? undefined : readMap(item, argsKey, path, ctx);
  if (args) arc.args = args;
  return arc;
}

function asList(value: unknown): { list: readonly unknown[]; nested: boolean } {
  return Array.isArray(value) ? { list: value, nested: true } : { list: [value], nested: false };
}

/**
 * Flattens a legacy target list into arcs: `{step, when, args}`, bare names, `{when, then: [...]}`
 * (conditions are and-ed into the targets), `{else: [...]}` and `{next: [...]}`.
 */
function legacyArcs(value: unknown, path: Path, ctx: NextContext, outer: When | undefined, out: Arc[]): void {
  const { list, nested } = asList(value);
  list.forEach((item, i) => {
    const at = nested ? [...path, i] : path;
    if (typeof item === 'string' && item !== '') {
      out.push(target(item, at, ctx, outer));
    } else if (isMap(item) && has(item, 'step')) {
      const arc = arcFromMap(item, at, ctx, outer);
      if (arc) out.push(arc);
    } else if (isMap(item) && has(item, 'then')) {
      const cond = ctx.rep.condition(present(item, 'when'), [...at, 'when']);
      legacyArcs(item.then, [...at, 'then'], ctx, andWhen(outer, cond, at, ctx.rep), out);
    } else if (isMap(item) && has(item, 'else')) {
      legacyArcs(item.else, [...at, 'else'], ctx, outer, out);
    } else if (isMap(item) && has(item, 'next')) {
      legacyArcs(item.next, [...at, 'next'], ctx, outer, out);
    } else {
      ctx.rep.error('NEXT_INVALID', at, `not a routing target: ${show(item)} (write \`step: <name>\`)`);
    }
  });
}

/**
 * `next` in its four shapes (contract 1.7) plus the legacy `{when, then}` / `{else}` list:
 * a name; a list of names (inclusive fan-out); a legacy target list (mode from the step's
 * `spec.next_mode`, default exclusive); the canonical router `{spec: {mode}, arcs}`.
 */
export function normalizeNext(
  raw: unknown,
  stepSpec: unknown,
  stepPath: Path,
  ctx: NextContext,
): NextSpec | undefined {
  const path = [...stepPath, 'next'];
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') {
    if (raw === '') {
      ctx.rep.error('NEXT_INVALID', path, '`next` is empty');
      return undefined;
    }
    return { mode: 'exclusive', arcs: [target(raw, path, ctx)] };
  }
  if (Array.isArray(raw)) {
    if (raw.every((item): item is string => typeof item === 'string')) {
      return { mode: 'inclusive', arcs: raw.map((name, i) => target(name, [...path, i], ctx)) };
    }
    const modeRaw = isMap(stepSpec) ? present(stepSpec, 'next_mode') : undefined;
    const mode = readMode(modeRaw, [...stepPath, 'spec', 'next_mode'], ctx.rep);
    const arcs: Arc[] = [];
    legacyArcs(raw, path, ctx, undefined, arcs);
    return { mode, arcs };
  }
  if (isMap(raw)) {
    if (!has(raw, 'arcs')) {
      const hint = has(raw, 'step')
        ? ' (for one target write `next: {arcs: [{step: ...}]}` or `next: name`)'
        : '';
      ctx.rep.error('NEXT_INVALID', path, `a \`next\` map needs \`arcs: [...]\`${hint}`);
      return undefined;
    }
    checkKeys(raw, ROUTER_KEYS, path, '`next`', ctx.rep);
    const spec = present(raw, 'spec');
    if (spec !== undefined && spec !== null && !isMap(spec))
      ctx.rep.error('NEXT_INVALID', [...path, 'spec'], '`spec` must be a map');
    if (isMap(spec)) checkKeys(spec, ROUTER_SPEC_KEYS, [...path, 'spec'], '`next.spec`', ctx.rep);
    const mode = readMode(
      isMap(spec) ? present(spec, 'mode') : undefined,
      [...path, 'spec', 'mode'],
      ctx.rep,
    );
    const rawArcs = present(raw, 'arcs') ?? [];
    if (!Array.isArray(rawArcs)) {
      ctx.rep.error('NEXT_INVALID', [...path, 'arcs'], '`arcs` must be a list of `{step, when?, set?}`');
      return { mode, arcs: [] };
    }
    const arcs: Arc[] = [];
    rawArcs.forEach((item, i) => {
      const at = [...path, 'arcs', i];
      if (typeof item === 'string' && item !== '') arcs.push(target(item, at, ctx));
      else if (isMap(item)) {
        const arc = arcFromMap(item, at, ctx);
        if (arc) arcs.push(arc);
      } else ctx.rep.error('NEXT_INVALID', at, 'an arc must be a map `{step, when?, set?}`');
    });
    return { mode, arcs };
  }
  ctx.rep.error('NEXT_INVALID', path, '`next` must be a step name, a list, or `{spec: {mode}, arcs: [...]}`');
  return undefined;
}

/** The canonical raw form of a router. */
export function rawNext(next: NextSpec): RawMap {
  return { spec: { mode: next.mode }, arcs: next.arcs.map((arc) => ({ ...arc })) };
}

/**
 * Converts legacy step-level `case: [{when, then, else}]` into exclusive arcs placed before the
 * step's own `next` arcs (the local runtime evaluates `case` first, then `next`). Reports
 * LEGACY_CASE with the canonical replacement: a warning in local mode, an error in server mode.
 * Returns undefined when the block cannot be converted (e.g. Rhai conditions).
 */
export function convertCase(
  raw: unknown,
  stepPath: Path,
  next: NextSpec | undefined,
  ctx: NextContext,
  severity: 'error' | 'warning',
): NextSpec | undefined {
  const path = [...stepPath, 'case'];
  const { rep } = ctx;
  if (!Array.isArray(raw)) {
    rep.error('LEGACY_CASE', path, '`case` must be a list of `{when, then}`; write `next` arcs instead');
    return undefined;
  }
  const arcs: Arc[] = [];
  let convertible = true;
  raw.forEach((entry, i) => {
    const at = [...path, i];
    if (!isMap(entry)) {
      rep.error('LEGACY_CASE', at, 'a case must be a map `{when, then}`');
      convertible = false;
      return;
    }
    if (has(entry, 'rhai') || has(entry, 'when_rhai')) {
      rep.error(
        'LEGACY_CASE',
        at,
        'Rhai case conditions are not supported; write a Jinja `when` on a `next` arc',
      );
      convertible = false;
      return;
    }
    const cond = rep.condition(present(entry, 'when'), [...at, 'when']);
    if (cond === undefined) {
      rep.error('LEGACY_CASE', at, 'a case needs `when`');
      convertible = false;
      return;
    }
    const then = present(entry, 'then');
    if (isMap(then) && !has(then, 'step')) {
      if (has(then, 'pipe'))
        rep.warning('LEGACY_CASE', [...at, 'then', 'pipe'], '`then.pipe` is not supported and is ignored');
      if (has(then, 'next')) legacyArcs(then.next, [...at, 'then', 'next'], ctx, cond, arcs);
    } else if (then !== undefined) {
      legacyArcs(then, [...at, 'then'], ctx, cond, arcs);
    }
    if (has(entry, 'else')) legacyArcs(entry.else, [...at, 'else'], ctx, undefined, arcs);
  });
  if (next) {
    if (next.mode === 'inclusive' && next.arcs.length > 1)
      rep.warning(
        'LEGACY_CASE',
        [...stepPath, 'next'],
        'the inclusive `next` becomes exclusive when merged with `case`',
      );
    arcs.push(...next.arcs);
  }
  const result: NextSpec = { mode: 'exclusive', arcs };
  const snippet = stringify({ next: rawNext(result) }, { lineWidth: 0 }).trimEnd();
  rep[severity === 'error' ? 'error' : 'warning'](
    'LEGACY_CASE',
    path,
    `legacy \`case:\` is not canonical; route with \`next\` instead${next ? ' (this replaces both `case` and `next`)' : ''}:\n${snippet}`,
  );
  return convertible ? result : undefined;
}
