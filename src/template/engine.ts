import type minijinja from 'minijinja-js';

/**
 * The minijinja WASM engine, made replaceable. minijinja-js loads one WASM instance per process
 * and never gives its memory back (WASM memory only grows), and a trap inside it (a Rust panic,
 * an allocation that does not fit) leaves its objects unusable ("recursive use of an object").
 * So this module owns the instance instead:
 *
 * - the engine's bytes are taken while minijinja-js loads them, and compiled once with a
 *   maximum memory (`MAX_ENGINE_MEMORY_BYTES`): a template that tries to build more fails inside
 *   the engine instead of growing the process;
 * - each instance gets its own copy of minijinja-js's JavaScript glue (an ES module imported
 *   under a distinct query string, which Node evaluates afresh), so an instance can be retired:
 *   its glue is pointed at a stub and the instance, with its memory, becomes garbage;
 * - `recycle()` swaps in a fresh instance synchronously, from glue copies imported ahead.
 *
 * No I/O here: minijinja-js reads its own file; this module only imports modules.
 */

type Environment = InstanceType<typeof minijinja.Environment>;

/** The parts of the WebAssembly API used here (the project's `lib` has no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(delta: number): number;
}
interface WasmApi {
  Module: {
    new (bytes: Uint8Array): object;
    imports(module: object): readonly { readonly module: string }[];
  };
  readonly Instance: new (module: object, imports: object) => { readonly exports: unknown };
  readonly Memory: new (descriptor: { initial: number }) => WasmMemory;
  readonly RuntimeError: new () => Error;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** True for an error raised by a WASM trap. */
export function isWasmTrap(err: unknown): boolean {
  return err instanceof wasmApi.RuntimeError;
}

interface Glue {
  readonly Environment: new () => Environment;
  __wbg_set_wasm(exports: unknown): void;
  __wbindgen_string_new(ptr: number, len: number): number;
  __wbindgen_object_drop_ref(idx: number): void;
  __wbindgen_number_get(ptr: number, idx: number): void;
}

/** Largest memory one engine instance may hold; larger allocations fail the render. */
export const MAX_ENGINE_MEMORY_BYTES = 256 * 1024 * 1024;
const WASM_PAGE = 65_536;
const GLUE_IMPORT = '__wbindgen_placeholder__';
const SPARE_GLUES = 2;
const GLUE_MODULE = 'minijinja-js/dist/bundler/minijinja_js_bg.js';

/** Reads an unsigned LEB128 at `at`; returns the value and the offset after it. */
function readLeb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    const b = bytes[i++]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, i];
    shift += 7;
  }
}

function leb(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return out;
}

/**
 * Rewrites the module's own memory to have a maximum of `maxPages` (64 KiB pages). Returns the
 * bytes unchanged when the module defines no plain 32-bit memory.
 */
export function capMemory(bytes: Uint8Array, maxPages: number): Uint8Array {
  let at = 8; // magic + version
  while (at < bytes.length) {
    const id = bytes[at]!;
    const [size, body] = readLeb(bytes, at + 1);
    const end = body + size;
    if (id === 5) {
      const [count, first] = readLeb(bytes, body);
      const flags = bytes[first]!;
      if (count !== 1 || (flags !== 0 && flags !== 1)) return bytes;
      const [min, afterMin] = readLeb(bytes, first + 1);
      const afterLimits = flags === 1 ? readLeb(bytes, afterMin)[1] : afterMin;
      const content = [...leb(1), 1, ...leb(min), ...leb(Math.max(min, maxPages))];
      const tail = bytes.subarray(afterLimits, end);
      const section = [5, ...leb(content.length + tail.length), ...content];
      const out = new Uint8Array(at + section.length + tail.length + (bytes.length - end));
      out.set(bytes.subarray(0, at), 0);
      out.set(section, at);
      out.set(tail, at + section.length);
      out.set(bytes.subarray(end), at + section.length + tail.length);
      return out;
    }
    at = end;
  }
  return bytes;
}

interface Loaded {
  readonly module: object;
}

/**
 * Loads minijinja-js while watching for the WASM module it compiles, so its bytes can be compiled
 * again with a memory cap. Returns undefined when the bytes could not be seen (minijinja-js was
 * already loaded by someone else): then the single instance minijinja-js made is used.
 */
async function load(): Promise<Loaded | undefined> {
  const original = wasmApi.Module;
  let seen: Uint8Array | undefined;
  wasmApi.Module = new Proxy(original, {
    construct(target, args: [Uint8Array | ArrayBuffer], newTarget) {
      const mod = Reflect.construct(target, args, newTarget) as object;
      if (seen === undefined && original.imports(mod).some((i) => i.module === GLUE_IMPORT)) {
        const src = args[0];
        seen =
          src instanceof ArrayBuffer
            ? new Uint8Array(src.slice(0))
            : new Uint8Array(src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength));
      }
      return mod;
    },
  });
  try {
    await import('minijinja-js');
  } finally {
    wasmApi.Module = original;
  }
  if (seen === undefined) return undefined;
  return { module: new original(capMemory(seen, MAX_ENGINE_MEMORY_BYTES / WASM_PAGE)) };
}

const loaded = await load();
const fallback = (await import('minijinja-js')).default;

let glueSerial = 0;
const spares: Glue[] = [];
const refilling = new Set<Promise<void>>();
let recyclePending = false;
/** The current instance trapped and no fresh one was at hand: it must not render again. */
let trapped = false;

function importGlue(): Promise<Glue> {
  // A distinct query string: Node evaluates the module afresh, with its own state.
  const specifier = `${GLUE_MODULE}?engine=${++glueSerial}`;
  return import(specifier) as Promise<Glue>;
}

function refill(): void {
  if (!loaded) return;
  while (spares.length + refilling.size < SPARE_GLUES) {
    const pending: Promise<void> = importGlue().then(
      (glue) => {
        refilling.delete(pending);
        spares.push(glue);
        if (recyclePending) recycle(trapped);
      },
      () => {
        refilling.delete(pending);
      },
    );
    refilling.add(pending);
  }
}

/** Resolves once the glue copies being imported have arrived (tests wait on it). */
export async function enginesReady(): Promise<void> {
  while (refilling.size > 0) await Promise.all(refilling);
}

if (loaded) spares.push(...(await Promise.all(Array.from({ length: SPARE_GLUES }, importGlue))));

interface Instance {
  readonly glue: Glue | undefined;
  readonly memory: WasmMemory;
}

/**
 * Most values (list items, map entries, lists, maps, strings) and most bytes of text one render
 * may hand from the engine to JavaScript (the arguments of JavaScript filters: `join`,
 * `b64encode`, the size guards...). Such an
 * argument is copied whole before the filter sees it, and a lazy value such as `[1] * n` has no
 * size of its own in the engine: without a budget `{{ ((xs | list) * n) | b64encode }}` would build
 * an array of n items on the JavaScript heap, about 3 us and 100 bytes an item.
 */
export const MAX_HANDOFF_ITEMS = 1_000_000;
export const MAX_HANDOFF_BYTES = 64 * 1024 * 1024;

/** Thrown (through the engine) when a render hands JavaScript more than the budget. */
export class HandoffTooLarge extends Error {
  constructor(what: string) {
    super(`the template hands JavaScript filters more than ${what}`);
    this.name = 'HandoffTooLarge';
  }
}

let handoffItems = 0;
let handoffBytes = 0;
let overrun: HandoffTooLarge | undefined;

/** Starts a new budget (each render and compile). */
export function resetHandoff(): void {
  handoffItems = 0;
  handoffBytes = 0;
  overrun = undefined;
}

/**
 * The budget overrun of the render in progress, if any, cleared. Kept apart from the exception:
 * code the unwinding passes through may fail in turn and throw something else.
 */
export function takeHandoffOverrun(): HandoffTooLarge | undefined {
  const err = overrun;
  overrun = undefined;
  return err;
}

function overBudget(what: string): never {
  overrun = new HandoffTooLarge(what);
  throw overrun;
}

function countItem(): void {
  if (++handoffItems > MAX_HANDOFF_ITEMS) overBudget(`${MAX_HANDOFF_ITEMS} items`);
}

/**
 * The glue as the instance imports it, with the functions that build JavaScript values from the
 * engine's (array push, map and object set, string creation) counted against the budget. A throw
 * there unwinds the engine mid-call: the renderer then replaces the instance, as after a trap.
 */
function budgetedImports(glue: Glue): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...(glue as unknown as Record<string, unknown>) };
  for (const [name, fn] of Object.entries(imports)) {
    if (typeof fn !== 'function') continue;
    const f = fn as (a: unknown, b: unknown, c: unknown) => unknown;
    const counted =
      name.startsWith('__wbg_push_') ||
      name.startsWith('__wbg_new_') ||
      (name.startsWith('__wbg_set_') && name !== '__wbg_set_wasm');
    if (counted) {
      imports[name] = (a: unknown, b: unknown, c: unknown) => {
        countItem();
        return f(a, b, c);
      };
    } else if (name === '__wbindgen_string_new') {
      imports[name] = (ptr: unknown, len: number) => {
        handoffBytes += len;
        if (handoffBytes > MAX_HANDOFF_BYTES) overBudget(`${MAX_HANDOFF_BYTES} bytes of text`);
        countItem();
        return f(ptr, len, undefined);
      };
    }
  }
  return imports;
}

function instantiate(glue: Glue): Instance {
  const instance = new wasmApi.Instance(loaded!.module, { [GLUE_IMPORT]: budgetedImports(glue) });
  const exports = instance.exports as { memory: WasmMemory };
  glue.__wbg_set_wasm(exports);
  return { glue, memory: exports.memory };
}

/**
 * Lets go of an instance. Its glue keeps views of the old memory cached until the memory is
 * detached and the glue reads memory once more; so the buffer is detached (`grow(0)`), the glue
 * is pointed at a one-page stub and made to refresh its views. Environments still alive on it
 * are freed by their finalizers against the stub, which does nothing.
 */
function retire(old: Instance): void {
  const glue = old.glue;
  if (!glue) return;
  try {
    old.memory.grow(0);
    const stub = { memory: new wasmApi.Memory({ initial: 1 }), __wbg_environment_free: () => undefined };
    glue.__wbg_set_wasm(stub);
    glue.__wbindgen_object_drop_ref(glue.__wbindgen_string_new(0, 0));
    glue.__wbindgen_number_get(0, 128);
  } catch {
    // a glue that cannot be reset only keeps its memory; rendering goes on
  }
}

let current: Instance = loaded
  ? instantiate(spares.shift()!)
  : {
      glue: undefined,
      memory: (fallback as unknown as { __wasm: { memory: WasmMemory } }).__wasm.memory,
    };
refill();
let generation = 0;

/** The current instance's generation: it changes when `recycle()` replaces the instance. */
export function engineGeneration(): number {
  return generation;
}

/** A new Environment on the current instance. */
export function newEnvironment(): Environment {
  return current.glue ? new current.glue.Environment() : new fallback.Environment();
}

/** Bytes of memory the current instance holds. */
export function engineMemoryBytes(): number {
  return current.memory.buffer.byteLength;
}

/**
 * Replaces the instance with a fresh one, so its memory can be reclaimed. Synchronous; returns
 * false when no fresh instance is at hand (none loaded yet): the caller goes on with a new
 * Environment on the current instance, and the swap happens as soon as one has loaded.
 */
export function recycle(afterTrap = false): boolean {
  const glue = spares.shift();
  recyclePending = glue === undefined;
  refill();
  if (!glue) {
    // without a way to replace it, minijinja-js's own instance stays in use, trap or not
    if (afterTrap && loaded) trapped = true;
    return false;
  }
  trapped = false;
  const old = current;
  current = instantiate(glue);
  generation++;
  retire(old);
  return true;
}

/**
 * False between a trap and the arrival of a fresh instance (a few milliseconds; longer only when
 * many templates trap in one synchronous burst): a trapped instance may be inconsistent.
 */
export function engineUsable(): boolean {
  return !trapped;
}

/** True when instances can be replaced (the engine's bytes were seen at load). */
export function canRecycle(): boolean {
  return loaded !== undefined;
}
