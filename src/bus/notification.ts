import { NoetlError, errorMessage, isPlainObject } from '../shared/index.js';
import type { JsonObject } from '../shared/index.js';
import type { CommandNotification } from './ports.js';

// JSON integer text: no leading zeros, no fraction, no exponent.
const INTEGER_RE = /^-?(?:0|[1-9]\d*)$/;
const ID_KEYS = ['execution_id', 'event_id'] as const;

function invalid(message: string, details: Record<string, unknown> = {}): NoetlError {
  return new NoetlError('BUS_ERROR', `invalid command notification: ${message}`, { details });
}

/**
 * The wire form (contract section 6). The two ids are written as bare JSON numbers, digit for
 * digit: `JSON.stringify` would need a JS number and lose everything past 2^53.
 */
export function encodeNotification(n: CommandNotification): string {
  for (const key of ID_KEYS) {
    if (!INTEGER_RE.test(n[key])) throw invalid(`${key} must be an integer, got '${n[key]}'`, { key });
  }
  for (const key of ['command_id', 'step'] as const) {
    if (typeof n[key] !== 'string' || n[key] === '') throw invalid(`${key} must be a non-empty string`);
  }
  const parts = [
    `"execution_id":${n.execution_id}`,
    `"event_id":${n.event_id}`,
    `"command_id":${JSON.stringify(n.command_id)}`,
    `"step":${JSON.stringify(n.step)}`,
    `"server_url":${JSON.stringify(n.server_url)}`,
    `"execution_pool":${JSON.stringify(n.execution_pool)}`,
  ];
  if (n.trace !== undefined) parts.push(`"trace":${JSON.stringify(n.trace)}`);
  return `{${parts.join(',')}}`;
}

/**
 * Parses a notification. Ids are taken from the raw text of their number tokens, so an i64 keeps
 * every digit; ids sent as strings (some publishers quote them) are accepted too.
 */
export function decodeNotification(text: string): CommandNotification {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(`not JSON (${errorMessage(err)})`);
  }
  if (!isPlainObject(value)) throw invalid('not a JSON object');
  const raw = rawTopLevelValues(text, ID_KEYS);
  const ids: Record<(typeof ID_KEYS)[number], string> = { execution_id: '', event_id: '' };
  for (const key of ID_KEYS) {
    const field = value[key];
    const id =
      typeof field === 'number' ? raw.get(key) : typeof field === 'string' ? field.trim() : undefined;
    if (id === undefined || !INTEGER_RE.test(id)) throw invalid(`${key} must be an integer`, { key });
    ids[key] = id;
  }
  const { command_id, step, server_url, execution_pool, trace } = value;
  if (typeof command_id !== 'string' || command_id === '') throw invalid('command_id must be a string');
  if (typeof step !== 'string' || step === '') throw invalid('step must be a string');
  const out: CommandNotification = {
    ...ids,
    command_id,
    step,
    // Older publishers leave these out; the worker falls back to its own server URL and pool.
    server_url: typeof server_url === 'string' ? server_url : '',
    execution_pool: typeof execution_pool === 'string' ? execution_pool : '',
  };
  return isPlainObject(trace) ? { ...out, trace: trace as JsonObject } : out;
}

/**
 * Raw source text of chosen top-level values of a JSON object. Assumes `text` already parsed
 * as a JSON object, so the scan can be lenient.
 */
function rawTopLevelValues(text: string, keys: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  let i = skipWs(text, 0) + 1; // past '{'
  while (i < text.length) {
    i = skipWs(text, i);
    if (text[i] === '}') break;
    if (text[i] === ',') {
      i = skipWs(text, i + 1);
    }
    const keyEnd = endOfString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWs(text, keyEnd) + 1; // past ':'
    const start = skipWs(text, i);
    i = endOfValue(text, start);
    if (keys.includes(key)) found.set(key, text.slice(start, i));
  }
  return found;
}

function skipWs(text: string, i: number): number {
  while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i++;
  return i;
}

/** Index just past the string literal starting at `i` (which holds the opening quote). */
function endOfString(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length) {
    const c = text[j];
    if (c === '\\') j += 2;
    else if (c === '"') return j + 1;
    else j++;
  }
  return j;
}

function endOfValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return endOfString(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    let j = i;
    while (j < text.length) {
      const d = text[j];
      if (d === '"') {
        j = endOfString(text, j);
        continue;
      }
      if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    return j;
  }
  let j = i;
  while (j < text.length && !',}] \t\n\r'.includes(text[j] ?? '')) j++;
  return j;
}
