// Unit tests of the mcp tool's parsing; the protocol against a real SDK server is in
// test/tools/mcp-tool.test.ts.
import { describe, expect, it } from 'vitest';
import { readMcpConfig, serverEnvName } from './config.js';
import { contentText, healthUrl } from './execute.js';
import { eventData, findResponse, readSseResponse } from './sse.js';

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

describe('mcp SSE responses', () => {
  it('finds the response by id across chunk boundaries, skipping notifications and comments', async () => {
    const note = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { data: 'x' } });
    const other = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { wrong: true } });
    const mine = JSON.stringify({ jsonrpc: '2.0', id: 2, result: { ok: true } });
    const body = `: keep-alive\n\nevent: message\ndata: ${note}\n\nid: 7\ndata: ${other}\n\r\ndata: ${mine}\n\n`;
    const split = [body.slice(0, 17), body.slice(17, 60), body.slice(60, 61), body.slice(61)];
    expect(await readSseResponse(streamOf(...split), 2)).toEqual({
      jsonrpc: '2.0',
      id: 2,
      result: { ok: true },
    });
  });

  it('joins multi-line data, reads CRLF events and a last event without a blank line', async () => {
    const body = 'event: message\r\ndata: {"jsonrpc":"2.0",\r\ndata:"id":3,"result":{"n":1}}';
    expect(await readSseResponse(streamOf(body), 3)).toMatchObject({ id: 3, result: { n: 1 } });
    const crSplit = ['data: {"jsonrpc":"2.0","id":4,\r', '\ndata: "result":1}\r', '\n\r', '\n'];
    expect(await readSseResponse(streamOf(...crSplit), 4)).toMatchObject({ id: 4, result: 1 });
    expect(await readSseResponse(streamOf('data: {"id":5,"result":2}\r\rdata: x\r'), 5)).toMatchObject({
      result: 2,
    });
    expect(await readSseResponse(streamOf('data: not json\n\n'), 3)).toBeUndefined();
    expect(eventData('event: x\nid: 1')).toBeUndefined();
    expect(eventData('data\ndata: a')).toBe('\na');
  });

  it('stops reading once the response arrived, even if the stream stays open', async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(
          new TextEncoder().encode('data: {"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"m"}}\n\n'),
        );
      },
      cancel() {
        cancelled = true;
      },
    });
    expect(await readSseResponse(stream, 1)).toMatchObject({ error: { code: -1 } });
    expect(cancelled).toBe(true);
  });

  it('finds a response in a batch, matching string ids too', () => {
    expect(
      findResponse(
        [
          { id: 1, result: 'a' },
          { id: '2', result: 'b' },
        ],
        2,
      ),
    ).toEqual({ id: '2', result: 'b' });
    expect(findResponse({ id: 2, method: 'sampling/createMessage' }, 2)).toBeUndefined();
  });
});

describe('mcp config', () => {
  it('defaults to tools/list, or tools/call when a tool is named', () => {
    expect(readMcpConfig({ url: 'http://h/mcp' })).toMatchObject({
      endpoint: 'http://h/mcp',
      method: 'tools/list',
      params: {},
      timeoutMs: 60_000,
      requestId: 1,
      protocolVersion: '2025-03-26',
      clientName: 'noetl',
      capabilities: {},
      headers: {},
    });
    expect(
      readMcpConfig({ url: 'http://h/mcp/', tool: 'x', args: { a: 1 }, request_id: 7, timeout: 5 }),
    ).toMatchObject({
      endpoint: 'http://h/mcp',
      method: 'tools/call',
      tool: 'x',
      params: { name: 'x', arguments: { a: 1 } },
      requestId: 7,
      timeoutMs: 5000,
    });
    expect(readMcpConfig({ url: 'http://h', method: 'prompts/get', params: '{"name":"p"}' }).params).toEqual({
      name: 'p',
    });
  });

  it('reads the endpoint from env by server name, then NOETL_MCP_URL', () => {
    expect(serverEnvName('my-server.v2')).toBe('NOETL_MCP_MY_SERVER_V2_ENDPOINT');
    const env = { NOETL_MCP_GITHUB_ENDPOINT: 'http://gh/mcp', NOETL_MCP_URL: 'http://any/mcp' };
    expect(readMcpConfig({ server: 'github' }, env).endpoint).toBe('http://gh/mcp');
    expect(readMcpConfig({ server: 'other' }, env).endpoint).toBe('http://any/mcp');
    expect(readMcpConfig({ server: 'github', endpoint: 'http://explicit' }, env).endpoint).toBe(
      'http://explicit',
    );
    expect(readMcpConfig({ url: 'http://h' }, { NOETL_MCP_REQUEST_TIMEOUT_SECONDS: '2.5' }).timeoutMs).toBe(
      2500,
    );
  });

  it('names what is missing or wrong', () => {
    expect(() => readMcpConfig({})).toThrow(/'endpoint' \(or 'url'\) is required; or set 'server'/);
    expect(() => readMcpConfig({ url: '/relative' })).toThrow(/not an absolute URL/);
    expect(() => readMcpConfig({ url: 'http://h', method: 'tools/call' })).toThrow(
      "'tool' is required for tools/call",
    );
    expect(() => readMcpConfig({ url: 'http://h', tool: 't', arguments: [1] })).toThrow(
      /'arguments' must be a map, got list/,
    );
    expect(() => readMcpConfig({ url: 'http://h', tool: 't', arguments: '{bad' })).toThrow(
      /JSON object string/,
    );
    expect(() => readMcpConfig({ url: 'http://h', request_id: 1.5 })).toThrow(
      /'request_id' must be an integer/,
    );
  });
});

describe('mcp helpers', () => {
  it('derives the health URL from the endpoint', () => {
    expect(healthUrl('http://h:8080/mcp')).toBe('http://h:8080/healthz');
    expect(healthUrl('http://h/api/v1')).toBe('http://h/api/v1/healthz');
    expect(healthUrl('https://h/sse?x=1')).toBe('https://h/healthz');
  });

  it('joins the text parts of content', () => {
    expect(
      contentText([
        { type: 'text', text: 'a' },
        { type: 'image', data: '' },
        { type: 'text', text: 'b' },
      ]),
    ).toBe('a\nb');
    expect(contentText(undefined)).toBe('');
  });
});
