// A local MCP server for tests, built with the official SDK (McpServer + Streamable HTTP transport on
// node:http, port 0). Answers with SSE streams by default, or with plain JSON (`json: true`);
// stateful (sessions) by default, or stateless. Records what each POST carried.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface McpTestServerOptions {
  /** Plain JSON responses instead of SSE streams. */
  readonly json?: boolean;
  /** No sessions (a fresh server and transport per request). */
  readonly stateless?: boolean;
}

export interface RecordedPost {
  readonly method: string | undefined;
  readonly sessionId: string | undefined;
  readonly protocolVersion: string | undefined;
  readonly authorization: string | undefined;
}

export interface McpTestServer {
  /** `http://127.0.0.1:<port>/mcp` */
  readonly url: string;
  readonly base: string;
  readonly posts: RecordedPost[];
  /** Session ids the client ended with DELETE. */
  readonly deleted: string[];
  close(): Promise<void>;
}

function buildServer(): McpServer {
  const server = new McpServer(
    { name: 'noetl-test-mcp', version: '1.0.0' },
    { capabilities: { logging: {} } },
  );
  server.registerTool(
    'add',
    {
      description: 'Adds two numbers',
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
    },
    ({ a, b }) => ({
      content: [{ type: 'text', text: String(a + b) }],
      structuredContent: { sum: a + b },
    }),
  );
  server.registerTool(
    'fail',
    { description: 'Always fails', inputSchema: { reason: z.string() } },
    ({ reason }) => ({
      content: [{ type: 'text', text: `boom: ${reason}` }],
      isError: true,
    }),
  );
  server.registerTool('slow', { description: 'Waits', inputSchema: { ms: z.number() } }, async ({ ms }) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { content: [{ type: 'text', text: 'done' }] };
  });
  server.registerTool('chatty', { description: 'Logs before answering' }, async (extra) => {
    for (const step of ['one', 'two']) {
      await extra.sendNotification({
        method: 'notifications/message',
        params: { level: 'info', data: step },
      });
    }
    return { content: [{ type: 'text', text: 'after notifications' }] };
  });
  server.registerTool('whoami', { description: 'Echoes the Authorization header' }, (extra) => ({
    content: [{ type: 'text', text: String(extra.requestInfo?.headers['authorization'] ?? 'anonymous') }],
  }));
  return server;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function startMcpServer(options: McpTestServerOptions = {}): Promise<McpTestServer> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const posts: RecordedPost[] = [];
  const deleted: string[] = [];
  const json = options.json ?? false;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (path === '/broken') {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
      return;
    }
    if (path !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    const sessionId = header(req, 'mcp-session-id');
    if (req.method === 'POST') {
      const method = (body as { method?: string } | undefined)?.method;
      posts.push({
        method,
        sessionId,
        protocolVersion: header(req, 'mcp-protocol-version'),
        authorization: header(req, 'authorization'),
      });
    }
    if (req.method === 'DELETE' && sessionId !== undefined) deleted.push(sessionId);
    if (options.stateless) {
      // No sessionIdGenerator: stateless.
      const transport = new StreamableHTTPServerTransport({ enableJsonResponse: json });
      const server = buildServer();
      res.on('close', () => void transport.close().then(() => server.close()));
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
      return;
    }
    let transport = sessionId !== undefined ? transports.get(sessionId) : undefined;
    if (!transport && sessionId === undefined && req.method === 'POST') {
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: json,
        onsessioninitialized: (id) => void transports.set(id, created),
        onsessionclosed: (id) => void transports.delete(id),
      });
      transport = created;
      await buildServer().connect(created);
    }
    if (!transport) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }),
      );
      return;
    }
    await transport.handleRequest(req, res, body);
  }

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url: `${base}/mcp`,
    base,
    posts,
    deleted,
    async close() {
      await Promise.all([...transports.values()].map((t) => t.close()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
