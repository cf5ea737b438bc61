import { askToken, authHeaders } from './token.js';
import type { WireEvent } from './types.js';

export interface StreamHandle {
  close(): void;
}

export interface StreamOptions {
  /** Resume after this event id (sent as `Last-Event-ID`). */
  lastEventId?: string | null;
  onEvent(event: WireEvent): void;
  /** The server has no such stream (404): the caller polls instead. */
  onUnsupported?(): void;
  /** Connected (true) or waiting to reconnect (false). */
  onState?(live: boolean): void;
}

/**
 * Reads a server-sent event stream with `fetch`, so the token travels as a header (EventSource
 * cannot send one), and reconnects with `Last-Event-ID` after a drop.
 */
export function openStream(path: string, options: StreamOptions): StreamHandle {
  const abort = new AbortController();
  let lastId = options.lastEventId ?? null;
  let closed = false;

  const run = async (): Promise<void> => {
    let delay = 250;
    while (!closed) {
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() };
        if (lastId) headers['last-event-id'] = lastId;
        const res = await fetch(path, { headers, signal: abort.signal, cache: 'no-store' });
        if (res.status === 404) {
          options.onUnsupported?.();
          return;
        }
        if (res.status === 401 || res.status === 403) {
          if (!(await askToken(res.status === 403))) return;
          continue;
        }
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        options.onState?.(true);
        delay = 250;
        await readEvents(res.body, (id, data) => {
          if (id) lastId = id;
          try {
            options.onEvent(JSON.parse(data) as WireEvent);
          } catch {
            /* a comment or keep-alive line, not an event */
          }
        });
      } catch (err) {
        if (closed || (err instanceof DOMException && err.name === 'AbortError')) return;
      }
      options.onState?.(false);
      if (closed) return;
      await new Promise((done) => setTimeout(done, delay));
      delay = Math.min(5000, delay * 2);
    }
  };
  void run();
  return {
    close() {
      closed = true;
      abort.abort();
    },
  };
}

/** Parses `text/event-stream` framing: `id:`, `event:`, `data:` lines, a blank line ends one. */
async function readEvents(body: ReadableStream<Uint8Array>, emit: (id: string | null, data: string) => void) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | null = null;
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (data.length > 0) emit(id, data.join('\n'));
        id = null;
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
  }
}
