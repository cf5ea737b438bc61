import { readFile } from 'node:fs/promises';
import { isPlainObject, NoetlError } from '../shared/index.js';

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (!isPlainObject(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

export interface WorkloadFlags {
  readonly set?: readonly string[];
  readonly payload?: string;
  readonly input?: string;
}

/**
 * The request payload from CLI flags (contract 7): `--input` file, then `--payload`, then each
 * `--set k=v` (values parsed as JSON when they parse; a `workload.` prefix stripped; dotted keys
 * nest).
 */
export async function workloadFromFlags(flags: WorkloadFlags): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  if (flags.input) {
    let text: string;
    try {
      text = await readFile(flags.input, 'utf8');
    } catch {
      throw new NoetlError('FILE_NOT_FOUND', `input file not found: ${flags.input}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new NoetlError('USAGE', `--input ${flags.input} is not valid JSON: ${(err as Error).message}`);
    }
    if (!isPlainObject(parsed))
      throw new NoetlError('USAGE', `--input ${flags.input} must hold a JSON object`);
    Object.assign(out, parsed);
  }
  if (flags.payload !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(flags.payload);
    } catch (err) {
      throw new NoetlError('USAGE', `--payload is not valid JSON: ${(err as Error).message}`);
    }
    if (!isPlainObject(parsed)) throw new NoetlError('USAGE', '--payload must be a JSON object');
    Object.assign(out, parsed);
  }
  for (const item of flags.set ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new NoetlError('USAGE', `--set expects key=value, got '${item}'`);
    let key = item.slice(0, eq).trim();
    if (key.startsWith('workload.')) key = key.slice('workload.'.length);
    if (key === '') throw new NoetlError('USAGE', `--set expects key=value, got '${item}'`);
    setPath(out, key, parseValue(item.slice(eq + 1)));
  }
  return out;
}
