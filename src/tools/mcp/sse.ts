import { isPlainObject } from '../../shared/index.js';

/**
 * The JSON-RPC response with `id` in a parsed message or batch: an object with that id and a
 * `result` or `error`. Notifications and server requests on the same stream are skipped.
 */
export function findResponse(message: unknown, id: number): Record<string, unknown> | undefined {
  const list: unknown[] = Array.isArray(message) ? message : [message];
  for (const m of list) {
    if (!isPlainObject(m) || !('result' in m || 'error' in m)) continue;
    if (m.id === id || String(m.id) === String(id)) return m;
  }
  return undefined;
}

/** The `data:` of one SSE event (lines joined by "\n"), or undefined when it has none. */
export function eventData(event: string): string | undefined {
  const data: string[] = [];
  for (const line of event.split(/\r\n|\r|\n/)) {
    if (line === 'data' || line.startsWith('data:')) {
      const value = line.slice(5);
      data.push(value.startsWith(' ') ? value.slice(1) : value);
    }
  }
  return data.length > 0 ? data.join('\n') : undefined;
}

function responseIn(event: string, id: number): Record<string, unknown> | undefined {
  const data = eventData(event);
  if (data === undefined || data.trim() === '') return undefined;
  try {
    return findResponse(JSON.parse(data) as unknown, id);
  } catch {
    return undefined; // not JSON (a keep-alive, a server's own event): not our response
  }
}

/**
 * Reads an SSE body event by event until the response with `id` arrives, then stops reading
 * (a server may keep the stream open after it). Undefined when the stream ends without it.
 */
export async function readSseResponse(
  body: ReadableStream<Uint8Array>,
  id: number,
): Promise<Record<string, unknown> | undefined> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  // Line ends are CRLF, LF or CR; a CR ending a chunk waits for the next one (it may start with LF).
  let raw = '';
  let buffer = '';
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      raw += value;
      const keep = raw.endsWith('\r') ? 1 : 0;
      buffer += raw.slice(0, raw.length - keep).replace(/\r\n?/g, '\n');
      raw = raw.slice(raw.length - keep);
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const found = responseIn(buffer.slice(0, end), id);
        buffer = buffer.slice(end + 2);
        if (found) return found;
        end = buffer.indexOf('\n\n');
      }
    }
    return responseIn(buffer + raw.replace(/\r/g, '\n'), id);
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
