import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (
  req: IncomingMessage,
  url: URL,
  body: string,
) => { status?: number; json: unknown; headers?: Record<string, string> } | undefined;

export interface FakeApi {
  readonly url: string;
  readonly requests: { method: string; path: string; query: Record<string, string>; body: string }[];
  close(): Promise<void>;
}

/** A local HTTP API for tests (nothing is fetched from the internet). */
export async function startFakeApi(handler: Handler): Promise<FakeApi> {
  const requests: FakeApi['requests'] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body,
      });
      const out = handler(req, url, body) ?? { status: 404, json: { error: 'not found' } };
      const text = JSON.stringify(out.json);
      res.writeHead(out.status ?? 200, {
        ...out.headers,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((done, fail) => {
        server.closeAllConnections();
        server.close((err) => (err ? fail(err) : done()));
      }),
  };
}

/** The paginated APIs the upstream pagination fixtures were written against. */
export function paginationHandler(total: number): Handler {
  const all = Array.from({ length: total }, (_, i) => ({ id: i + 1, name: `event ${i + 1}` }));
  return (_req, url) => {
    if (url.pathname === '/api/v1/events') {
      const limit = Number(url.searchParams.get('limit') ?? 10);
      const cursor = url.searchParams.get('cursor') ?? '';
      const start = cursor === '' ? 0 : Number(cursor);
      const events = all.slice(start, start + limit);
      const next = start + limit < all.length ? String(start + limit) : null;
      return { json: { events, next_cursor: next } };
    }
    if (url.pathname === '/data') {
      const page = Number(url.searchParams.get('page') ?? 1);
      const size = Number(url.searchParams.get('pageSize') ?? 10);
      const items = all.slice((page - 1) * size, page * size);
      return { json: { items, paging: { page, hasMore: page * size < all.length } } };
    }
    return undefined;
  };
}
