import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTransport } from './http-transport.js';

const servers: http.Server[] = [];
const transports: HttpTransport[] = [];

async function serve(handler: http.RequestListener): Promise<URL> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
}

/** Answers every request but the second, which arrives on the kept-alive socket: dropped unanswered. */
async function dropsSecondRequest(): Promise<{ url: URL; calls: () => number }> {
  let calls = 0;
  const url = await serve((req, res) => {
    calls++;
    if (calls === 2) req.socket.destroy();
    else res.end('ok');
  });
  return { url, calls: () => calls };
}

function transport(): HttpTransport {
  const t = new HttpTransport();
  transports.push(t);
  return t;
}

afterEach(async () => {
  for (const t of transports.splice(0)) t.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

describe('HttpTransport', () => {
  it('sends method, headers and body, and reuses one kept-alive connection', async () => {
    const sockets = new Set<unknown>();
    const url = await serve((req, res) => {
      sockets.add(req.socket);
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'], body }));
      });
    });
    const t = transport();
    for (let i = 0; i < 3; i++) {
      const reply = await t.send({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        body: '{"a":"é"}',
        timeoutMs: 5000,
      });
      expect(reply.status).toBe(201);
      expect(JSON.parse(reply.text)).toEqual({ method: 'POST', type: 'application/json', body: '{"a":"é"}' });
    }
    expect(sockets.size).toBe(1);
  });

  it('sends an idempotent request again when the reused connection was closed under it', async () => {
    const server = await dropsSecondRequest();
    const t = transport();
    await t.send({ method: 'GET', url: server.url, headers: {}, timeoutMs: 5000 });
    const again = await t.send({
      method: 'GET',
      url: server.url,
      headers: {},
      timeoutMs: 5000,
      idempotent: true,
    });
    expect(again).toEqual({ status: 200, text: 'ok' });
    expect(server.calls()).toBe(3);
  });

  it('does not send a non-idempotent request twice', async () => {
    const server = await dropsSecondRequest();
    const t = transport();
    const post = { method: 'POST', url: server.url, headers: {}, body: '{}', timeoutMs: 5000 };
    await t.send(post);
    await expect(t.send(post)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(server.calls()).toBe(2);
  });

  it('gives up after the timeout', async () => {
    const url = await serve(() => undefined); // never answers
    const t = transport();
    await expect(t.send({ method: 'GET', url, headers: {}, timeoutMs: 100 })).rejects.toThrow(
      /no answer within 100 ms/,
    );
  });
});
