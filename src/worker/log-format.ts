import type { DestinationStream } from 'pino';

/** `NOETL_LOG_FORMAT`: `auto` is JSON lines unless stdout is a terminal, then pretty. */
export type LogFormat = 'auto' | 'pretty' | 'json';

/** Fields a pretty line shows after the message, in this order, when present. */
const CONTEXT_KEYS = ['execution_id', 'step', 'command_id'] as const;
/** pino's own fields, not repeated as `key=value`. */
const OWN_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

function text(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}

/**
 * One pino JSON line as a human line: `12:00:01.123 INFO  noetl-server: message
 * execution_id=… step=… command_id=… key=value`. Not JSON: anything unparsable passes as is.
 */
export function prettyLogLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return line;
    record = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof record['time'] === 'string' ? record['time'].slice(11, 23) : '';
  const level = (typeof record['level'] === 'string' ? record['level'] : '').toUpperCase().padEnd(5);
  const name = typeof record['name'] === 'string' ? `${record['name']}: ` : '';
  const parts = [
    `${time} ${level} ${name}${typeof record['msg'] === 'string' ? record['msg'] : text(record['msg'] ?? '')}`.trim(),
  ];
  for (const key of CONTEXT_KEYS) if (record[key] !== undefined) parts.push(`${key}=${text(record[key])}`);
  for (const [key, value] of Object.entries(record)) {
    if (OWN_KEYS.has(key) || (CONTEXT_KEYS as readonly string[]).includes(key)) continue;
    parts.push(`${key}=${text(value)}`);
  }
  return `${parts.join(' ')}\n`;
}

/** Whether lines are pretty: `pretty`, or `auto` on a terminal. */
export function isPretty(format: LogFormat, isTTY: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && isTTY);
}

/** `out` as is for JSON lines; for pretty, each line formatted before it is written. */
export function formatDestination(
  format: LogFormat,
  out: DestinationStream,
  isTTY: boolean,
): DestinationStream {
  if (!isPretty(format, isTTY)) return out;
  return {
    write(line: string) {
      out.write(prettyLogLine(line));
    },
  };
}
