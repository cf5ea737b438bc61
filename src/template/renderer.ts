import type minijinja from 'minijinja-js';
import { isoTime, NoetlError, systemClock } from '../shared/index.js';
import {
  engineGeneration,
  engineMemoryBytes,
  engineUsable,
  isWasmTrap,
  newEnvironment,
  recycle,
  resetHandoff,
  takeHandoffOverrun,
} from './engine.js';
import { CUSTOM_FILTERS } from './filters.js';
import { isTemplate, scanTemplate, type ScannedTemplate } from './scan.js';
import { guarded, SIZED_FILTERS, SIZED_TESTS, takeRefusal } from './sized.js';
import { coerceRendered, truthy } from './typed.js';

/**
 * The key of the value a scope gives for `now`: `{ [NOW_KEY]: <ISO time> }` makes `{{ now() }}`
 * return that time (an execution's start, so every template of one execution, on any worker and
 * in a replay, sees the same instant). A scope without it gets the current time.
 */
export const NOW_KEY = '$now';

/** The value a scope gives for `now` so that `now()` returns `ms` (see NOW_KEY). */
export function nowValue(ms: number): Record<string, string> {
  return { [NOW_KEY]: isoTime(ms) };
}

function nowOf(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const at = (value as Record<string, unknown>)[NOW_KEY];
  return typeof at === 'string' ? at : undefined;
}

/** The time `now()` returns during the render in progress (renders are synchronous). */
let renderNow: string | undefined;

/**
 * Where a template finds its variables: a plain object, or a lookup function so a caller can
 * expose a large execution context without building it. Only the root names a template reads are
 * looked up and handed to minijinja, so a render costs what the template reads, not the size of
 * the context.
 */
export type TemplateScope = Readonly<Record<string, unknown>> | ((name: string) => unknown);

interface Compiled {
  readonly name: string;
  readonly scanned: ScannedTemplate;
  /** Name of the `{{ (expr) | tojson }}` twin for single-expression templates. */
  jsonName?: string;
}

const MAX_CACHED = 20_000;
/**
 * Steps (minijinja fuel: roughly one per instruction) one render may take. A loop over 10,000
 * items with a few operations each fits many times over; a nested loop over ranges does not.
 */
export const TEMPLATE_STEP_BUDGET = 1_000_000;
/**
 * After a render leaves the engine holding more memory than this, the instance is replaced so
 * the memory goes back to the process (WASM memory never shrinks).
 */
export const ENGINE_RECYCLE_BYTES = 32 * 1024 * 1024;
const OUT_OF_FUEL_RE = /out of fuel/;
const LOCATION_RE = /\s*\(in [^)]*\)\s*$/;
/**
 * Failures of the engine itself rather than of a template: a WASM trap (a Rust panic, an
 * allocation past the memory cap), wasm-bindgen's guard once an object was left borrowed by a
 * trap, a stack overflow. After one of these the Environment (and maybe the instance) is unusable.
 */
const ENGINE_FAILURE_RE =
  /recursive use of an object|unreachable|out of bounds|already (mutably )?borrowed|null pointer passed to rust|call stack/i;

function isEngineFailure(err: unknown): boolean {
  if (isWasmTrap(err) || err instanceof RangeError) return true;
  return err instanceof Error && ENGINE_FAILURE_RE.test(err.message);
}

function lookup(scope: TemplateScope, name: string): unknown {
  if (typeof scope === 'function') return scope(name);
  return Object.prototype.hasOwnProperty.call(scope, name) ? scope[name] : undefined;
}

const BARE_REFERENCE_RE = /^\s*[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*\s*$/;

/**
 * The value of an expression that is only a dotted name (`workload.items`, `fetch.rows`), looked
 * up in the scope without the engine: rendering a 100,000-item list through `tojson` and parsing
 * it back took most of a big loop's start (issue 10 item 11). Undefined unless every part is a
 * plain object's own key and the value is plain JSON (what the round trip would give back
 * unchanged); the engine decides the rest (missing names, methods, `undefined` holes).
 */
function bareReference(expression: string, scope: TemplateScope): unknown {
  if (!BARE_REFERENCE_RE.test(expression)) return undefined;
  const [first, ...rest] = expression.split('.').map((part) => part.trim());
  let value = lookup(scope, first!);
  for (const key of rest) {
    if (!isPlainObject(value) || !Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    value = value[key];
  }
  return isPlainJson(value, 0) ? value : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** JSON as `JSON.parse` gives it: no undefined, holes, non-finite numbers or class instances. */
function isPlainJson(value: unknown, depth: number): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (depth > 64) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value) || !isPlainJson(value[i], depth + 1)) return false;
    }
    return true;
  }
  if (!isPlainObject(value)) return false;
  for (const key in value) {
    if (!isPlainJson(value[key], depth + 1)) return false;
  }
  return true;
}

function clip(source: string): string {
  return source.length > 200 ? `${source.slice(0, 200)}...` : source;
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? message;
  return line.replace(LOCATION_RE, '');
}

/**
 * Jinja rendering on minijinja (DESIGN.md section 5) with NoETL's rules (contract 1.11):
 * chainable undefined, typed rendering, `when` truthiness. Templates are data: there is no path
 * from a template to JavaScript objects' prototypes or to the host.
 */
/** Jinja filters playbooks commonly use; those the engine has are offered for a misspelt one. */
const COMMON_FILTERS = [
  'abs',
  'attr',
  'batch',
  'bool',
  'capitalize',
  'count',
  'default',
  'dictsort',
  'escape',
  'first',
  'float',
  'format',
  'groupby',
  'indent',
  'int',
  'items',
  'join',
  'last',
  'length',
  'lines',
  'list',
  'lower',
  'map',
  'max',
  'min',
  'pprint',
  'reject',
  'rejectattr',
  'replace',
  'reverse',
  'round',
  'safe',
  'select',
  'selectattr',
  'slice',
  'sort',
  'split',
  'string',
  'striptags',
  'sum',
  'title',
  'tojson',
  'trim',
  'truncate',
  'unique',
  'upper',
  'urlencode',
  'wordcount',
];

/** Filter names probed so far (the same in every engine this process makes). */
const filterKnown = new Map<string, boolean>();

export class TemplateRenderer {
  private envValue: InstanceType<typeof minijinja.Environment>;
  private generation: number;
  private readonly cache = new Map<string, Compiled>();
  private counter = 0;

  constructor() {
    this.generation = engineGeneration();
    this.envValue = TemplateRenderer.environment();
  }

  private static environment(): InstanceType<typeof minijinja.Environment> {
    const env = newEnvironment();
    env.undefinedBehavior = 'chainable';
    env.debug = false;
    env.enablePyCompat();
    env.fuel = TEMPLATE_STEP_BUDGET;
    for (const [name, fn] of Object.entries(CUSTOM_FILTERS)) env.addFilter(name, guarded(name, fn));
    for (const [name, fn] of Object.entries(SIZED_FILTERS)) env.addFilter(name, fn);
    for (const [name, fn] of Object.entries(SIZED_TESTS)) env.addTest(name, fn);
    env.addGlobal('now', () => renderNow ?? isoTime(systemClock.now()));
    return env;
  }

  /** The Environment, rebuilt (templates compiled again on use) when the engine was replaced. */
  private get env(): InstanceType<typeof minijinja.Environment> {
    if (!engineUsable())
      throw new NoetlError(
        'TEMPLATE_RENDER',
        'the template engine is being replaced after a failure; try again',
        {
          retryable: true,
          details: { limit: 'engine' },
        },
      );
    if (this.generation !== engineGeneration()) this.reset(false);
    return this.envValue;
  }

  /**
   * Drops the Environment and every compiled template, so nothing of a failed render outlives
   * it. With `fresh`, the WASM instance is replaced too (a trap may have left it inconsistent).
   */
  private reset(fresh: boolean): void {
    if (fresh) recycle(true);
    else if (this.generation === engineGeneration()) {
      try {
        this.envValue.free();
      } catch {
        // a poisoned Environment cannot be freed; it is dropped all the same
      }
    }
    this.generation = engineGeneration();
    this.envValue = TemplateRenderer.environment();
    this.cache.clear();
  }

  /** Registers `source` once; later renders reuse the compiled template. */
  private compile(source: string): Compiled {
    const hit = this.cache.get(source);
    if (hit && this.generation === engineGeneration()) return hit;
    this.settle();
    const env = this.env;
    if (this.cache.size >= MAX_CACHED) {
      env.clearTemplates();
      this.cache.clear();
    }
    const scanned = scanTemplate(source);
    if (scanned.loadsTemplate !== undefined)
      throw new NoetlError(
        'TEMPLATE_SYNTAX',
        `\`{% ${scanned.loadsTemplate} %}\` is not supported: a template sees only its own text (no include, import, from or extends)`,
        { details: { template: clip(source) } },
      );
    if (scanned.reserved !== undefined)
      throw new NoetlError(
        'TEMPLATE_SYNTAX',
        `\`${scanned.reserved}\`: names starting with __nt_ are reserved`,
        {
          details: { template: clip(source) },
        },
      );
    if (scanned.tooLarge !== undefined)
      throw new NoetlError('TEMPLATE_RENDER', `the template builds a value too large: ${scanned.tooLarge}`, {
        details: { template: clip(source), limit: 'size' },
      });
    const name = `t${this.counter++}`;
    try {
      resetHandoff();
      takeRefusal();
      env.addTemplate(name, scanned.source);
    } catch (err) {
      throw this.toError(err, source);
    }
    const compiled: Compiled = { name, scanned };
    this.cache.set(source, compiled);
    return compiled;
  }

  /** Renders a compiled template; an engine failure resets the engine before it is reported. */
  private run(name: string, ctx: Record<string, unknown>, source: string): string {
    try {
      resetHandoff();
      takeRefusal();
      return this.env.renderTemplate(name, ctx);
    } catch (err) {
      throw this.toError(err, source);
    } finally {
      renderNow = undefined;
      this.settle();
    }
  }

  /** Gives memory back: replaces the engine once it holds more than ENGINE_RECYCLE_BYTES. */
  private settle(): void {
    if (engineMemoryBytes() > ENGINE_RECYCLE_BYTES) this.reset(true);
  }

  private toError(err: unknown, source: string): NoetlError {
    const details = { template: clip(source) };
    const refusal = takeRefusal();
    if (refusal)
      return new NoetlError('TEMPLATE_RENDER', refusal.message, {
        details: refusal.limit ? { ...details, limit: refusal.limit } : details,
      });
    const overrun = takeHandoffOverrun();
    if (overrun) {
      // the engine was unwound mid-call: its state cannot be trusted
      this.reset(true);
      return new NoetlError('TEMPLATE_RENDER', overrun.message, { details: { ...details, limit: 'size' } });
    }
    if (isEngineFailure(err)) {
      this.reset(true);
      return new NoetlError(
        'TEMPLATE_RENDER',
        'the template exceeded what the engine allows (memory or nesting); the engine was reset',
        {
          details: {
            ...details,
            limit: 'engine',
            engine: firstLine(err instanceof Error ? err.message : String(err)),
          },
        },
      );
    }
    const message = firstLine(err instanceof Error ? err.message : String(err));
    if (OUT_OF_FUEL_RE.test(message))
      return new NoetlError(
        'TEMPLATE_RENDER',
        `the template exceeded its step budget (${TEMPLATE_STEP_BUDGET} steps)`,
        { details: { ...details, limit: 'steps' } },
      );
    const syntax = message.startsWith('syntax error');
    return new NoetlError(syntax ? 'TEMPLATE_SYNTAX' : 'TEMPLATE_RENDER', message, { details });
  }

  private context(scanned: ScannedTemplate, scope: TemplateScope): Record<string, unknown> {
    const ctx: Record<string, unknown> = {};
    renderNow = undefined;
    for (const name of scanned.names) {
      const value = lookup(scope, name);
      if (name === 'now' && nowOf(value) !== undefined) renderNow = nowOf(value);
      else if (value !== undefined) ctx[name] = value;
    }
    return ctx;
  }

  /**
   * The filters a template applies that the engine does not have (`{{ x | nosuch }}` parses, and
   * fails only when rendered). Undefined when the template does not parse.
   */
  unknownFilters(source: string): string[] | undefined {
    if (!isTemplate(source)) return [];
    let compiled: Compiled;
    try {
      compiled = this.compile(source);
    } catch {
      return undefined;
    }
    return compiled.scanned.filters.filter((name) => !this.hasFilter(name));
  }

  /** Filter names to suggest for an unknown one: the common ones this engine has. */
  filterNames(): string[] {
    return [...COMMON_FILTERS, ...Object.keys(CUSTOM_FILTERS)].filter((name) => this.hasFilter(name));
  }

  /** Whether the engine has a filter of this name: minijinja's, Jinja2 compatibility or ours. */
  hasFilter(name: string): boolean {
    let known = filterKnown.get(name);
    if (known === undefined) {
      known = true;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) known = false;
      else
        try {
          // Applied to none: an unknown name fails as such; a known one renders or fails otherwise.
          this.env.renderStr(`{{ none | ${name} }}`, {});
        } catch (err) {
          known = !/unknown filter/i.test(err instanceof Error ? err.message : String(err));
        }
      filterKnown.set(name, known);
    }
    return known;
  }

  /** The syntax error of a template, or undefined when it parses. */
  syntaxError(source: string): string | undefined {
    if (!isTemplate(source)) return undefined;
    try {
      this.compile(source);
      return undefined;
    } catch (err) {
      return err instanceof NoetlError ? err.message : String(err);
    }
  }

  /** Renders a template to a string. A string without delimiters is returned as it is. */
  render(source: string, scope: TemplateScope): string {
    if (!isTemplate(source)) return source;
    const compiled = this.compile(source);
    return this.run(compiled.name, this.context(compiled.scanned, scope), source);
  }

  /** Evaluates a single-expression template to its native value. */
  private evaluateCompiled(compiled: Compiled, source: string, scope: TemplateScope): unknown {
    const expression = compiled.scanned.expression;
    if (expression === undefined) throw new Error('not a single expression');
    if (compiled.jsonName === undefined) {
      const jsonName = `${compiled.name}j`;
      try {
        this.env.addTemplate(jsonName, `{{ (${expression}) | tojson }}`);
      } catch (err) {
        throw this.toError(err, source);
      }
      compiled.jsonName = jsonName;
    }
    const text = this.run(compiled.jsonName, this.context(compiled.scanned, scope), source);
    return JSON.parse(text) as unknown;
  }

  /**
   * Typed rendering of one string (contract 1.11): `{{ expr }}` alone yields the expression's
   * value (strings still typed by their look); anything else renders to a string and is typed.
   */
  renderTyped(source: string, scope: TemplateScope): unknown {
    if (!isTemplate(source)) return source;
    const compiled = this.compile(source);
    if (compiled.scanned.expression !== undefined) {
      const found = bareReference(compiled.scanned.expression, scope);
      if (found !== undefined) return typeof found === 'string' ? coerceRendered(found) : found;
      const value = this.evaluateCompiled(compiled, source, scope);
      return typeof value === 'string' ? coerceRendered(value) : value;
    }
    return coerceRendered(this.render(source, scope));
  }

  /** Typed rendering of a whole value: strings, map keys and values, list items. */
  renderValue(value: unknown, scope: TemplateScope): unknown {
    if (typeof value === 'string') return this.renderTyped(value, scope);
    if (Array.isArray(value)) return value.map((v) => this.renderValue(v, scope));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const key = isTemplate(k) ? this.render(k, scope) : k;
        out[key] = this.renderValue(v, scope);
      }
      return out;
    }
    return value;
  }

  /** Evaluates a bare expression (no delimiters), e.g. a `when` written without `{{ }}`. */
  evaluate(expression: string, scope: TemplateScope): unknown {
    const source = `{{ ${expression} }}`;
    const compiled = this.compile(source);
    if (compiled.scanned.expression === undefined) return coerceRendered(this.render(source, scope));
    return this.evaluateCompiled(compiled, source, scope);
  }

  /**
   * A `when` condition: YAML booleans as they are; `{{ expr }}` or a bare expression evaluated
   * to a value; a mixed template rendered to text. Then Python-like truthiness.
   */
  condition(when: unknown, scope: TemplateScope): boolean {
    if (when === undefined || when === null) return true;
    if (typeof when !== 'string') return truthy(when);
    if (!isTemplate(when)) {
      if (when.trim() === '') return false;
      return truthy(this.evaluate(when, scope));
    }
    const compiled = this.compile(when);
    if (compiled.scanned.expression !== undefined) {
      return truthy(this.evaluateCompiled(compiled, when, scope));
    }
    return truthy(this.render(when, scope));
  }

  /** True when any string inside `value` (keys included) is a template. */
  static hasTemplates(value: unknown): boolean {
    if (typeof value === 'string') return isTemplate(value);
    if (Array.isArray(value)) return value.some((v) => TemplateRenderer.hasTemplates(v));
    if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (isTemplate(k) || TemplateRenderer.hasTemplates(v)) return true;
      }
    }
    return false;
  }
}

let shared: TemplateRenderer | undefined;

/** The process-wide renderer (one WASM environment, one template cache). */
export function templates(): TemplateRenderer {
  shared ??= new TemplateRenderer();
  return shared;
}

export interface RendererHealth {
  readonly ok: boolean;
  /** Why the renderer is unhealthy; absent when ok. */
  readonly message?: string;
}

const PROBE = '{{ probe.n + 1 }}-{{ probe.s | upper }}';
const PROBE_EXPECTED = '42-OK';

/**
 * Health of the process-wide renderer: it renders a tiny known template and compares the text.
 * A renderer that fails or answers wrong is reported (health routes turn it into a non-200).
 */
export function rendererHealth(): RendererHealth {
  try {
    const out = templates().render(PROBE, { probe: { n: 41, s: 'ok' } });
    if (out === PROBE_EXPECTED) return { ok: true };
    return {
      ok: false,
      message: `template probe rendered ${JSON.stringify(out.slice(0, 80))}, not ${PROBE_EXPECTED}`,
    };
  } catch (err) {
    return {
      ok: false,
      message: `template probe failed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
