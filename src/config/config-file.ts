import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, errorMessage, isPlainObject } from '../shared/index.js';
import type { ConfigValues } from './sources.js';

/**
 * Reads a config file of env-var-named keys: `.json`, `.yaml`/`.yml` (a map), or anything else as
 * dotenv lines (`NOETL_PORT=8082`, `#` comments, optional `export ` and quotes).
 */
export async function readConfigFile(path: string): Promise<ConfigValues> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${errorMessage(error)}`, { cause: error });
  }
  return parseConfigText(text, extname(path).toLowerCase(), path);
}

export function parseConfigText(text: string, ext: string, label = 'config file'): ConfigValues {
  if (ext === '.json' || ext === '.yaml' || ext === '.yml') {
    let value: unknown;
    try {
      value = ext === '.json' ? JSON.parse(text) : parseYaml(text);
    } catch (error) {
      throw new ConfigError(`${label}: ${errorMessage(error)}`, { cause: error });
    }
    if (value === null || value === undefined) return {};
    if (!isPlainObject(value)) throw new ConfigError(`${label}: must be a map of NAME: value`);
    return value;
  }
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(trimmed);
    if (!m) throw new ConfigError(`${label}:${index + 1}: expected NAME=value`);
    let value = m[2] ?? '';
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2] ?? '';
    else value = value.replace(/\s+#.*$/, '');
    out[m[1] ?? ''] = value;
  });
  return out;
}
