import { isPlainObject, ToolError } from '../shared/index.js';

/**
 * Readers for a rendered tool config map, shared by every tool's `config.ts`. Each throws a
 * ToolError naming the tool and the key, so a bad playbook fails with a clear message.
 */
export type ConfigMap = Readonly<Record<string, unknown>>;

export function configError(kind: string, message: string): ToolError {
  return new ToolError(`${kind}: ${message}`, { code: 'TOOL_FAILED', details: { tool: kind } });
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** The first key of `keys` present (not null/undefined) in `config`. */
export function pick(config: ConfigMap, ...keys: string[]): unknown {
  for (const key of keys) {
    const value = config[key];
    if (present(value)) return value;
  }
  return undefined;
}

export function optString(kind: string, config: ConfigMap, ...keys: string[]): string | undefined {
  const value = pick(config, ...keys);
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  // Typed rendering turns "8080" into a number; a string field takes it back.
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw configError(kind, `'${keys[0] ?? ''}' must be a string, got ${typeName(value)}`);
}

export function reqString(kind: string, config: ConfigMap, ...keys: string[]): string {
  const value = optString(kind, config, ...keys);
  if (value === undefined || value === '') {
    throw configError(kind, `'${keys.join("' or '")}' is required`);
  }
  return value;
}

export function optNumber(kind: string, config: ConfigMap, ...keys: string[]): number | undefined {
  const value = pick(config, ...keys);
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw configError(kind, `'${keys[0] ?? ''}' must be a number, got ${typeName(value)}`);
  }
  return n;
}

/** A positive duration in seconds, as milliseconds. */
export function optSeconds(kind: string, config: ConfigMap, ...keys: string[]): number | undefined {
  const seconds = optNumber(kind, config, ...keys);
  if (seconds === undefined) return undefined;
  if (seconds <= 0) throw configError(kind, `'${keys[0] ?? ''}' must be positive, got ${seconds}`);
  return Math.round(seconds * 1000);
}

export function optBoolean(kind: string, config: ConfigMap, ...keys: string[]): boolean | undefined {
  const value = pick(config, ...keys);
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(v)) return true;
    if (['false', 'no', '0', 'off', ''].includes(v)) return false;
  }
  if (typeof value === 'number') return value !== 0;
  throw configError(kind, `'${keys[0] ?? ''}' must be a boolean, got ${typeName(value)}`);
}

export function optMap(kind: string, config: ConfigMap, ...keys: string[]): ConfigMap | undefined {
  const value = pick(config, ...keys);
  if (value === undefined) return undefined;
  if (isPlainObject(value)) return value;
  throw configError(kind, `'${keys[0] ?? ''}' must be a map, got ${typeName(value)}`);
}

/** A map of strings (env vars, headers): scalar values stringified, null dropped. */
export function optStringMap(
  kind: string,
  config: ConfigMap,
  ...keys: string[]
): Record<string, string> | undefined {
  const map = optMap(kind, config, ...keys);
  if (map === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) {
    if (v === undefined || v === null) continue;
    out[k] = scalarText(v);
  }
  return out;
}

/** A config value as text: strings as they are, maps and lists as JSON. */
export function scalarText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value) ?? '';
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'map';
  return typeof value;
}
