/**
 * Webhook subscriptions (docs/triggers.md) on the embedded server, as a sender would call them:
 * bearer and HMAC-SHA256 verification (good, bad, missing, stale timestamp), a 401 starts nothing,
 * a verified delivery starts one execution with the delivery as its workload, a redelivery with
 * the same idempotency key starts none, form bodies, header directives limited to allowed
 * playbooks, and the body limit.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/cluster.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

const HANDLER = (path: string, via: string) => `
apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: ${path.split('/').pop()}, path: ${path} }
workflow:
  - step: start
    tool:
      kind: python
      input:
        order_id: "{{ workload.order_id | default('unknown') }}"
        message_id: "{{ workload.message.id | default('') }}"
        subscription: "{{ workload.subscription | default('') }}"
      code: |
        result = {"via": "${via}", "order_id": input_data.get("order_id"),
                  "message_id": input_data.get("message_id"), "subscription": input_data.get("subscription")}
`;

const BEARER = `
apiVersion: noetl.io/v1
kind: Subscription
metadata: { name: hook_bearer, path: subscriptions/hook_bearer }
spec:
  source: webhook
  mode: push
  ingress:
    gateway_path: /ingress/hookbearer
    verify: { type: bearer, secret: hook_bearer_token }
  dispatch: { playbook: tests/hooks/default, payload_from: message.json }
  headers:
    directives:
      - header: x-noetl-route
        controls: dispatch.playbook
        allowed: [tests/hooks/default, tests/hooks/priority]
`;

const HMAC = `
apiVersion: noetl.io/v1
kind: Subscription
metadata: { name: webhook_orders, path: subscriptions/webhook_orders }
spec:
  source: webhook
  mode: push
  ingress:
    gateway_path: /ingress/orders
    verify:
      type: hmac_sha256
      header: X-Signature
      secret: webhook_hmac_secret
      timestamp_header: X-Timestamp
      tolerance_secs: 300
  dispatch: { playbook: tests/hooks/default, payload_from: message.json }
  dedup: { enabled: true, window_secs: 600 }
`;

const HMAC_KEY = 'k3y-for-hmac';
const TOKEN = 'bearer-secret-123';

function sign(body: string, ts: string, key = HMAC_KEY): string {
  return `sha256=${createHmac('sha256', key).update(`${ts}.${body}`).digest('hex')}`;
}

describe('webhook subscriptions', () => {
  let server: RunningServer;

  async function deliver(path: string, body: string, headers: Record<string, string>) {
    const r = await fetch(`${server.url}${path}`, { method: 'POST', headers, body });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : {}) as Record<string, string> };
  }

  async function executionCount(): Promise<number> {
    const r = await server.get<unknown[]>('/api/executions?limit=500');
    expect(Array.isArray(r.body)).toBe(true);
    return r.body.length;
  }

  async function result(executionId: string): Promise<string> {
    expect((await server.waitFor(executionId))['status']).toBe('COMPLETED');
    return JSON.stringify((await server.get(`/api/executions/${executionId}/result`)).body);
  }

  beforeAll(async () => {
    server = await startTestServer();
    await server.register(HANDLER('tests/hooks/default', 'default'));
    await server.register(HANDLER('tests/hooks/priority', 'priority'));
    for (const [name, data] of [
      ['hook_bearer_token', { token: TOKEN }],
      ['webhook_hmac_secret', { secret: HMAC_KEY }],
    ] as const) {
      const r = await server.post('/api/credentials', { name, type: 'generic', data });
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
    }
    await server.register(BEARER);
    await server.register(HMAC);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('bearer: missing or wrong token is 401 and starts nothing; the right one starts the playbook', async () => {
    const before = await executionCount();
    const body = JSON.stringify({ order_id: 'A-1' });
    const json = { 'content-type': 'application/json' };
    expect((await deliver('/ingress/hookbearer', body, json)).status).toBe(401);
    const wrong = await deliver('/ingress/hookbearer', body, { ...json, authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body['code']).toBe('UNAUTHORIZED');
    // a directive from an unverified sender is not even looked at
    const steer = await deliver('/ingress/hookbearer', body, {
      ...json,
      'x-noetl-route': 'tests/hooks/priority',
    });
    expect(steer.status).toBe(401);
    expect(await executionCount()).toBe(before);

    const good = await deliver('/ingress/hookbearer', body, { ...json, authorization: `Bearer ${TOKEN}` });
    expect(good.status).toBe(202);
    const out = await result(good.body['execution_id']!);
    expect(out).toContain('"order_id":"A-1"');
    expect(out).toContain('"via":"default"');
    expect(out).toContain('"subscription":"hook_bearer"');
    expect(out).not.toContain(TOKEN);
  }, 60_000);

  it('bearer: header directives choose only among the allowed playbooks', async () => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
    const routed = await deliver('/ingress/hookbearer', '{"order_id":"P-1"}', {
      ...headers,
      'x-noetl-route': 'tests/hooks/priority',
    });
    expect(routed.status).toBe(202);
    expect(await result(routed.body['execution_id']!)).toContain('"via":"priority"');
    const refused = await deliver('/ingress/hookbearer', '{}', {
      ...headers,
      'x-noetl-route': 'admin/drop_all',
    });
    expect(refused.status).toBe(400);
  }, 60_000);

  it('hmac: good signature starts one execution; bad, missing or stale ones are 401', async () => {
    const before = await executionCount();
    const body = JSON.stringify({ order_id: 'H-1', amount: 12.5 });
    const now = String(Math.floor(Date.now() / 1000));
    const base = { 'content-type': 'application/json', 'x-timestamp': now };
    expect((await deliver('/ingress/orders', body, base)).status).toBe(401);
    expect(
      (await deliver('/ingress/orders', body, { ...base, 'x-signature': sign(body, now, 'other') })).status,
    ).toBe(401);
    const tampered = `${body} `;
    expect(
      (await deliver('/ingress/orders', tampered, { ...base, 'x-signature': sign(body, now) })).status,
    ).toBe(401);
    const old = String(Math.floor(Date.now() / 1000) - 3600);
    expect(
      (
        await deliver('/ingress/orders', body, {
          ...base,
          'x-timestamp': old,
          'x-signature': sign(body, old),
        })
      ).status,
    ).toBe(401);
    expect(await executionCount()).toBe(before);

    const good = await deliver('/ingress/orders', body, {
      ...base,
      'x-signature': sign(body, now),
      'x-idempotency-key': 'delivery-1',
    });
    expect(good.status).toBe(202);
    expect(good.body['status']).toBe('started');
    const out = await result(good.body['execution_id']!);
    expect(out).toContain('"order_id":"H-1"');
    expect(out).toContain('"message_id":"delivery-1"');

    // the sender retries the same delivery: no second execution
    const again = await deliver('/ingress/orders', body, {
      ...base,
      'x-signature': sign(body, now),
      'x-idempotency-key': 'delivery-1',
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'duplicate', execution_id: good.body['execution_id'] });
    expect(await executionCount()).toBe(before + 1);
  }, 60_000);

  it('hmac: form bodies are verified over the raw bytes and become the workload', async () => {
    const body = 'order_id=F-7&note=hello+world';
    const now = String(Math.floor(Date.now() / 1000));
    const r = await deliver('/ingress/orders', body, {
      'content-type': 'application/x-www-form-urlencoded',
      'x-timestamp': now,
      'x-signature': sign(body, now),
    });
    expect(r.status).toBe(202);
    expect(await result(r.body['execution_id']!)).toContain('"order_id":"F-7"');
  }, 60_000);

  it('examples/triggers: the orders subscription starts handle_order once per delivery', async () => {
    const example = (f: string) =>
      readFileSync(new URL(`../../examples/triggers/${f}`, import.meta.url), 'utf8');
    const cred = await server.post('/api/credentials', {
      name: 'orders_hmac',
      type: 'generic',
      data: { secret: 'ex-key' },
    });
    expect(cred.status).toBeLessThan(300);
    await server.register(example('handle_order.yaml'));
    await server.register(example('orders.subscription.yaml'));
    // served within 250 ms of its registration: an unsigned probe answers 401, no longer 404
    await waitFor(
      async () =>
        (await deliver('/ingress/shop/orders', '{}', { 'content-type': 'application/json' })).status === 401
          ? true
          : undefined,
      'the example subscription served',
      10_000,
    );
    const body = JSON.stringify({ order_id: 'EX-1', amount: 12.5 });
    const ts = String(Math.floor(Date.now() / 1000));
    const headers = {
      'content-type': 'application/json',
      'x-timestamp': ts,
      'x-signature': sign(body, ts, 'ex-key'),
      'x-idempotency-key': 'EX-1',
    };
    const first = await deliver('/ingress/shop/orders', body, headers);
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body['playbook']).toBe('examples/triggers/handle_order');
    const out = await result(first.body['execution_id']!);
    expect(out).toContain('"order_id":"EX-1"');
    expect(out).toContain('"amount":12.5');
    expect(out).toContain('"delivery":"EX-1"');
    const again = await deliver('/ingress/shop/orders', body, headers);
    expect(again.body).toMatchObject({ status: 'duplicate', execution_id: first.body['execution_id'] });
  }, 60_000);

  it('unknown ingress paths are 404, other media types 415, oversized bodies 413', async () => {
    expect((await deliver('/ingress/nope', '{}', { 'content-type': 'application/json' })).status).toBe(404);
    const headers = { authorization: `Bearer ${TOKEN}` };
    expect(
      (await deliver('/ingress/hookbearer', '<x/>', { ...headers, 'content-type': 'text/xml' })).status,
    ).toBe(415);
    const big = JSON.stringify({ blob: 'x'.repeat(2 * 1024 * 1024) });
    expect(
      (await deliver('/ingress/hookbearer', big, { ...headers, 'content-type': 'application/json' })).status,
    ).toBe(413);
  }, 60_000);
});

describe('verify: none', () => {
  const OPEN = (name: string) => `
apiVersion: noetl.io/v1
kind: Subscription
metadata: { name: ${name}, path: subscriptions/${name} }
spec:
  source: webhook
  mode: push
  ingress: { gateway_path: /ingress/${name}, verify: { type: none } }
  dispatch: { playbook: tests/hooks/default }
`;

  it('is served on loopback and refused (403, nothing started) while the server listens beyond it', async () => {
    const token = 'api-token-for-this-test';
    const open = await startTestServer({ NOETL_HOST: '0.0.0.0', NOETL_API_TOKEN: token });
    try {
      const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      for (const content of [HANDLER('tests/hooks/default', 'default'), OPEN('open_hook')]) {
        const r = await fetch(`${open.url}/api/catalog/register`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ content }),
        });
        expect(r.status).toBe(200);
      }
      const r = await fetch(`${open.url}/ingress/open_hook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(r.status).toBe(403);
      const list = await fetch(`${open.url}/api/executions`, { headers: auth });
      expect(await list.json()).toEqual([]);
    } finally {
      await open.stop();
    }
    const local = await startTestServer();
    try {
      await local.register(HANDLER('tests/hooks/default', 'default'));
      await local.register(OPEN('open_hook'));
      const r = await fetch(`${local.url}/ingress/open_hook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"order_id":"N-1"}',
      });
      expect(r.status).toBe(202);
    } finally {
      await local.stop();
    }
  }, 90_000);
});
