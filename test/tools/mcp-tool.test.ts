// The mcp tool against local MCP servers built with the official SDK (McpServer + Streamable HTTP):
// SSE and JSON responses, stateful and stateless, tools/list, tools/call, isError results, JSON-RPC
// and HTTP errors, auth, endpoint resolution, timeouts, and a playbook run through runLocal.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/dsl/index.js';
import { runLocal } from '../../src/local/index.js';
import { templates } from '../../src/template/index.js';
import type { ToolContext, ToolOutput, ToolServices } from '../../src/tools/index.js';
import { mcpTool } from '../../src/tools/mcp/index.js';
import { startMcpServer, type McpTestServer } from '../helpers/mcp-server.js';

function ctx(services: ToolServices = {}): ToolContext {
  return {
    executionId: 'e1',
    step: 'mcp_step',
    commandId: 'c1',
    label: 'mcp_step',
    attempt: 1,
    signal: new AbortController().signal,
    templates: templates(),
    services,
  };
}

const call = (config: Record<string, unknown>, services?: ToolServices): Promise<ToolOutput> =>
  mcpTool.execute(ctx(services), config);
const failure = (config: Record<string, unknown>, services?: ToolServices): Promise<unknown> =>
  call(config, services).then(
    () => new Error('expected a failure'),
    (err: unknown) => err,
  );

let sse: McpTestServer;
let json: McpTestServer;
let stateless: McpTestServer;

beforeAll(async () => {
  [sse, json, stateless] = await Promise.all([
    startMcpServer(),
    startMcpServer({ json: true }),
    startMcpServer({ stateless: true, json: true }),
  ]);
});

afterAll(async () => {
  await Promise.all([sse?.close(), json?.close(), stateless?.close()]);
});

describe('mcp tool', () => {
  it('lists tools over an SSE response, carrying the session id and protocol version', async () => {
    const before = sse.posts.length;
    const out = await call({ endpoint: sse.url, method: 'tools/list' });
    const tools = (out.data as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['add', 'fail', 'slow', 'chatty', 'whoami']));
    expect(out.extra).toEqual({
      mcp: { endpoint: sse.url, method: 'tools/list', protocol_version: '2025-03-26' },
    });
    const posts = sse.posts.slice(before);
    expect(posts.map((p) => p.method)).toEqual(['initialize', 'notifications/initialized', 'tools/list']);
    const session = posts[1]?.sessionId;
    expect(session).toMatch(/^[0-9a-f-]{36}$/);
    expect(posts[0]).toMatchObject({ sessionId: undefined, protocolVersion: undefined });
    expect(posts[2]).toMatchObject({ sessionId: session, protocolVersion: '2025-03-26' });
    expect(sse.deleted).toContain(session);
  });

  it.each([
    ['SSE', () => sse],
    ['JSON', () => json],
    ['stateless JSON', () => stateless],
  ])(
    'calls a tool (%s response): result with content, structuredContent, isError and text',
    async (_name, server) => {
      const out = await call({ url: server().url, tool: 'add', arguments: { a: 2, b: 3 } });
      expect(out.data).toEqual({
        content: [{ type: 'text', text: '5' }],
        structuredContent: { sum: 5 },
        isError: false,
        text: '5',
      });
      expect(out.extra).toMatchObject({ mcp: { method: 'tools/call', tool: 'add' } });
    },
  );

  it('accepts the aliases: server_url, action, tool_name, args (also as a JSON string)', async () => {
    const out = await call({
      server_url: json.url,
      action: 'tools/call',
      tool_name: 'add',
      args: '{"a": 10, "b": -4}',
    });
    expect(out.data).toMatchObject({ structuredContent: { sum: 6 } });
    const viaParams = await call({
      base_url: `${sse.url}/`,
      method: 'tools/call',
      tool: 'add',
      params: { a: 1, b: 1 },
    });
    expect(viaParams.data).toMatchObject({ text: '2' });
  });

  it('skips notifications sent on the stream before the response', async () => {
    const out = await call({ endpoint: sse.url, tool: 'chatty' });
    expect(out.data).toMatchObject({ text: 'after notifications', isError: false });
  });

  it('fails the step on an isError result, with the text as message and the result as data', async () => {
    const err = await failure({ endpoint: sse.url, tool: 'fail', arguments: { reason: 'bad input' } });
    expect(err).toMatchObject({
      code: 'TOOL_FAILED',
      retryable: false,
      message: "mcp: tool 'fail' failed: boom: bad input",
      details: { tool: 'fail', data: { isError: true, text: 'boom: bad input' } },
    });
    await expect(failure({ endpoint: json.url, tool: 'nope' })).resolves.toMatchObject({
      message: expect.stringMatching(/^mcp: tool 'nope' failed: .*Tool nope not found/),
    });
  });

  it('fails on a JSON-RPC error with its code and message', async () => {
    const err = await failure({ endpoint: json.url, method: 'resources/list' });
    expect(err).toMatchObject({
      code: 'TOOL_FAILED',
      retryable: false,
      message: expect.stringMatching(
        /^mcp: resources\/list failed: .*Method not found.* \(JSON-RPC error -32601\)$/,
      ),
      details: { method: 'resources/list', jsonrpc_error: { code: -32601 } },
    });
    const badArgs = await failure({ endpoint: sse.url, tool: 'add', arguments: { a: 'x' } });
    expect(badArgs).toMatchObject({ code: 'TOOL_FAILED', message: expect.stringMatching(/add/) });
  });

  it('sends bearer auth from a credential alias or an inline map', async () => {
    const services: ToolServices = {
      resolveCredential: (alias) =>
        Promise.resolve({ name: alias, type: 'bearer', data: { token: `tok-${alias}` } }),
    };
    const viaAlias = await call({ endpoint: sse.url, tool: 'whoami', auth: 'mcp_token' }, services);
    expect(viaAlias.data).toMatchObject({ text: 'Bearer tok-mcp_token' });
    expect(sse.posts.at(-1)?.authorization).toBe('Bearer tok-mcp_token');
    const inline = await call({
      endpoint: json.url,
      tool: 'whoami',
      auth: { type: 'bearer', token: 'inline' },
    });
    expect(inline.data).toMatchObject({ text: 'Bearer inline' });
    const header = await call({ endpoint: json.url, tool: 'whoami', headers: { Authorization: 'Custom x' } });
    expect(header.data).toMatchObject({ text: 'Custom x' });
    await expect(
      call(
        { endpoint: sse.url, tool: 'whoami', auth: 'pg' },
        {
          resolveCredential: (alias) => Promise.resolve({ name: alias, type: 'postgres', data: {} }),
        },
      ),
    ).rejects.toMatchObject({ code: 'CREDENTIAL_UNSUPPORTED' });
  });

  it('resolves the endpoint from NOETL_MCP_<SERVER>_ENDPOINT, then NOETL_MCP_URL', async () => {
    const env = { NOETL_MCP_LOCAL_TEST_ENDPOINT: json.url, NOETL_MCP_URL: 'http://127.0.0.1:1/unused' };
    const byServer = await call({ server: 'local-test', method: 'tools/list' }, { env });
    expect(byServer.extra).toMatchObject({ mcp: { endpoint: json.url, server: 'local-test' } });
    const fallback = await call(
      { server: 'other', method: 'tools/list' },
      { env: { NOETL_MCP_URL: sse.url } },
    );
    expect(fallback.extra).toMatchObject({ mcp: { endpoint: sse.url } });
    await expect(call({ server: 'k8s', method: 'tools/list' }, { env: {} })).rejects.toMatchObject({
      message:
        "mcp: 'endpoint' (or 'url') is required; or set env NOETL_MCP_K8S_ENDPOINT or env NOETL_MCP_URL",
    });
  });

  it('times out (retryable), also by NOETL_MCP_REQUEST_TIMEOUT_SECONDS', async () => {
    const started = Date.now();
    await expect(
      call({ endpoint: sse.url, tool: 'slow', arguments: { ms: 3000 }, timeout: 0.3 }),
    ).rejects.toMatchObject({
      code: 'TOOL_TIMEOUT',
      retryable: true,
      message: expect.stringMatching(/timed out after 0.3s/),
    });
    await expect(
      call(
        { endpoint: json.url, tool: 'slow', arguments: { ms: 3000 } },
        { env: { NOETL_MCP_REQUEST_TIMEOUT_SECONDS: '0.3' } },
      ),
    ).rejects.toMatchObject({ code: 'TOOL_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('reports HTTP errors (5xx retryable, 404 not) and refused connections (retryable)', async () => {
    await expect(failure({ endpoint: `${sse.base}/broken`, method: 'tools/list' })).resolves.toMatchObject({
      retryable: true,
      message: `mcp: initialize: HTTP 503 from ${sse.base}/broken: down for maintenance`,
      details: { status_code: 503 },
    });
    await expect(failure({ endpoint: `${sse.base}/nothing`, method: 'tools/list' })).resolves.toMatchObject({
      retryable: false,
      details: { status_code: 404 },
    });
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    await expect(
      failure({ endpoint: `http://127.0.0.1:${port}/mcp`, method: 'tools/list' }),
    ).resolves.toMatchObject({
      code: 'TOOL_FAILED',
      retryable: true,
      message: expect.stringMatching(/ECONNREFUSED/),
    });
  });

  it('checks health with a GET of /healthz', async () => {
    const out = await call({ endpoint: sse.url, method: 'health' });
    expect(out.data).toEqual({ healthy: true, status_code: 200, url: `${sse.base}/healthz`, body: 'ok' });
  });

  it('passes params through for other methods (ping, initialize)', async () => {
    expect((await call({ endpoint: sse.url, method: 'ping' })).data).toEqual({});
    const init = await call({
      endpoint: json.url,
      method: 'initialize',
      client_name: 'tests',
      protocol_version: '2025-06-18',
    });
    expect(init.data).toMatchObject({
      protocolVersion: '2025-06-18',
      serverInfo: { name: 'noetl-test-mcp' },
    });
  });

  it('runs a playbook through runLocal (endpoint from the workload)', async () => {
    const { playbook, diagnostics } = parsePlaybook(`
apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: mcp_add, path: tests/mcp_add }
workload:
  mcp_url: ""
workflow:
  - step: start
    tool:
      kind: mcp
      endpoint: "{{ workload.mcp_url }}"
      method: tools/list
    next:
      - step: add
  - step: add
    tool:
      kind: mcp
      endpoint: "{{ workload.mcp_url }}"
      tool: add
      arguments: { a: "{{ start.tools | length }}", b: 100 }
    next:
      - step: end
  - step: end
    tool:
      kind: noop
      result: "sum={{ add.structuredContent.sum }} text={{ add.text }}"
`);
    if (!playbook) throw new Error(JSON.stringify(diagnostics));
    const result = await runLocal({ playbook, payload: { mcp_url: sse.url }, runDir: false });
    expect(result.error).toBeNull();
    expect(result.status).toBe('COMPLETED');
    expect(result.final_result).toBe('sum=105 text=105');
  });
});
