import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../shared/index.js';
import type { EnvVarName } from './env-vars.js';

/** One layer of configuration, keyed by env var name (`NOETL_PORT`...). */
export type ConfigValues = Readonly<Record<string, unknown>>;

/** What a loader is given; precedence flags > env > file > defaults (STYLE.md 14). */
export interface ConfigSources {
  /** Command-line flags, already mapped to env var names (`--port 9000` -> `NOETL_PORT`). */
  readonly flags?: ConfigValues;
  /** The process environment (the caller passes `process.env`; nothing else reads it). */
  readonly env?: ConfigValues;
  /** A config file's values (see readConfigFile). */
  readonly file?: ConfigValues;
}

interface Found {
  readonly value: string;
  readonly from: 'flag' | 'env' | 'file';
}

/**
 * Reads typed values from the layers. Every error names the variable and where its value came
 * from, so `NOETL_PORT=abc` fails as "NOETL_PORT (env) must be an integer...".
 */
export class ConfigReader {
  constructor(private readonly sources: ConfigSources) {}

  private find(name: EnvVarName): Found | undefined {
    const layers = [
      ['flag', this.sources.flags],
      ['env', this.sources.env],
      ['file', this.sources.file],
    ] as const;
    for (const [from, layer] of layers) {
      const raw = layer?.[name];
      if (raw === undefined || raw === null) continue;
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
        throw new ConfigError(`${name} (${from}) must be a single value, not ${JSON.stringify(raw)}`);
      }
      const value = String(raw).trim();
      if (value !== '') return { value, from };
    }
    return undefined;
  }

  has(name: EnvVarName): boolean {
    return this.find(name) !== undefined;
  }

  string(name: EnvVarName): string | undefined {
    return this.find(name)?.value;
  }

  stringOr(name: EnvVarName, fallback: string): string {
    return this.find(name)?.value ?? fallback;
  }

  bool(name: EnvVarName, fallback: boolean): boolean {
    const found = this.find(name);
    if (!found) return fallback;
    const v = found.value.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw invalid(name, found, 'must be true or false');
  }

  int(name: EnvVarName, fallback: number, range: { min: number; max?: number }): number {
    const found = this.find(name);
    if (!found) return fallback;
    const n = Number(found.value);
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    if (!/^-?\d+$/.test(found.value) || n < range.min || n > max) {
      const bound = range.max === undefined ? `>= ${range.min}` : `${range.min}-${range.max}`;
      throw invalid(name, found, `must be an integer ${bound}`);
    }
    return n;
  }

  /** A positive number of seconds (fractions allowed). */
  seconds(name: EnvVarName, fallback: number): number {
    const found = this.find(name);
    if (!found) return fallback;
    const n = Number(found.value);
    if (!Number.isFinite(n) || n <= 0) throw invalid(name, found, 'must be a positive number of seconds');
    return n;
  }

  oneOf<T extends string>(name: EnvVarName, allowed: readonly T[], fallback: T): T {
    const found = this.find(name);
    if (!found) return fallback;
    const v = found.value.toLowerCase();
    const hit = allowed.find((a) => a === v);
    if (hit === undefined) throw invalid(name, found, `must be one of ${allowed.join(', ')}`);
    return hit;
  }

  url(name: EnvVarName, protocols: readonly string[]): string | undefined {
    const found = this.find(name);
    if (!found) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(found.value);
    } catch {
      throw invalid(name, found, `must be a URL (${protocols.map((p) => `${p}//`).join(' or ')}...)`, false);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw invalid(name, found, `must use ${protocols.join(' or ')}`, false);
    }
    return found.value;
  }

  /** A directory path: `~/x` is expanded, relative paths resolve against the working directory. */
  path(name: EnvVarName, fallback: string): string {
    return expandPath(this.find(name)?.value ?? fallback);
  }

  /** Raises a ConfigError about a variable that is set. */
  fail(name: EnvVarName, message: string): never {
    const found = this.find(name);
    throw found ? invalid(name, found, message, false) : new ConfigError(`${name} ${message}`);
  }
}

function invalid(name: string, found: Found, message: string, showValue = true): ConfigError {
  const shown = showValue ? `, got '${found.value}'` : '';
  return new ConfigError(`${name} (${found.from}) ${message}${shown}`, {
    details: { variable: name, source: found.from },
  });
}

export function expandPath(value: string): string {
  if (value === '~') return homedir();
  if (value.startsWith('~/')) return join(homedir(), value.slice(2));
  return isAbsolute(value) ? value : resolve(value);
}
