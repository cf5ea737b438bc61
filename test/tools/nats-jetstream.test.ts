// The nats tool's JetStream operations against a private nats-server (STYLE.md 18), plus
// connection caching, config, credentials (a second server with user/password) and a playbook run
// through runLocal. See nats-fixture.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/dsl/index.js';
import { runLocal } from '../../src/local/index.js';
import type { ToolServices } from '../../src/tools/index.js';
import { openNatsConnectionCount } from '../../src/tools/nats/connection.js';
import { closeNatsConnections, natsTool } from '../../src/tools/nats/index.js';
import { freePort, startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { describeNats, toolCtx, unique } from './nats-fixture.js';

describeNats('nats tool: jetstream, connections, credentials', (f) => {
  describe('jetstream', () => {
    let stream = '';
    let subject = '';
    beforeAll(async () => {
      stream = unique('events');
      subject = `${stream}.orders`;
      await f.jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    });

    it('publishes with headers, reads messages back and describes the stream', async () => {
      const first = await f.run({
        operation: 'js_publish',
        stream,
        subject,
        data: { id: 1 },
        headers: { 'X-Source': 'test' },
      });
      expect(first).toEqual({ status: 'success', stream, seq: 1, duplicate: false, subject });
      const second = await f.run({ operation: 'js_publish', subject: `${stream}.refunds`, data: 'refund 2' });
      expect(second).toMatchObject({ stream, seq: 2 });
      const dedup = { operation: 'js_publish', subject, data: 'x', headers: { 'Nats-Msg-Id': 'once' } };
      expect((await f.run(dedup)).duplicate).toBe(false);
      expect(await f.run(dedup)).toMatchObject({ duplicate: true, seq: 3 });

      const bySeq = await f.run({ operation: 'js_get_msg', stream, seq: 1 });
      expect(bySeq).toMatchObject({
        status: 'success',
        found: true,
        stream,
        subject,
        seq: 1,
        data: { id: 1 },
        headers: { 'X-Source': 'test' },
      });
      expect(typeof bySeq.time).toBe('string');
      expect(await f.run({ operation: 'js_get_msg', stream, subject: `${stream}.refunds` })).toMatchObject({
        seq: 2,
        data: 'refund 2',
      });
      expect(await f.run({ operation: 'js_get_msg', stream, last: true })).toMatchObject({
        seq: 3,
        data: 'x',
      });
      expect(await f.run({ operation: 'js_get_msg', stream, seq: 99 })).toMatchObject({
        status: 'not_found',
        found: false,
        data: null,
      });

      const info = await f.run({ operation: 'js_stream_info', stream });
      expect(info).toMatchObject({
        status: 'success',
        stream,
        config: { name: stream, subjects: [`${stream}.>`], storage: 'file', retention: 'limits' },
        state: { messages: 3, first_seq: 1, last_seq: 3, consumer_count: 0 },
      });
    });

    it('consumes a bounded batch from a durable consumer, acking or not', async () => {
      const s = unique('work');
      await f.jsm.streams.add({ name: s, subjects: [`${s}.>`] });
      await f.jsm.consumers.add(s, { durable_name: 'workers', ack_policy: 'explicit', ack_wait: 30e9 });
      for (const n of [1, 2, 3]) await f.run({ operation: 'js_publish', subject: `${s}.job`, data: { n } });

      const firstBatch = await f.run({
        operation: 'js_consume',
        stream: s,
        consumer: 'workers',
        batch: 2,
        timeout_ms: 3000,
      });
      expect(firstBatch).toMatchObject({
        status: 'success',
        stream: s,
        consumer: 'workers',
        count: 2,
        acked: true,
      });
      expect(firstBatch.messages).toMatchObject([
        {
          subject: `${s}.job`,
          seq: 1,
          stream_seq: 1,
          consumer_seq: 1,
          delivered: 1,
          pending: 2,
          data: { n: 1 },
        },
        { seq: 2, data: { n: 2 } },
      ]);

      const rest = await f.run({
        operation: 'js_consume',
        stream: s,
        consumer: 'workers',
        ack: false,
        timeout_ms: 300,
      });
      expect(rest).toMatchObject({ count: 1, acked: false, messages: [{ seq: 3 }] });
      expect((await f.jsm.consumers.info(s, 'workers')).num_ack_pending).toBe(1);

      const started = Date.now();
      const empty = await f.run({ operation: 'js_consume', stream: s, consumer: 'workers', timeout_ms: 200 });
      expect(empty).toMatchObject({ count: 0, messages: [] });
      expect(Date.now() - started).toBeLessThan(900);
    });

    it('fails clearly on a missing stream, consumer or subject', async () => {
      await expect(f.fails({ operation: 'js_stream_info', stream: 'no_such_stream' })).resolves.toMatchObject(
        {
          retryable: false,
          message: "nats: stream 'no_such_stream' not found",
        },
      );
      await expect(f.fails({ operation: 'js_consume', stream, consumer: 'nobody' })).resolves.toMatchObject({
        message: `nats: consumer 'nobody' on stream '${stream}' not found`,
      });
      await expect(
        f.fails({ operation: 'js_publish', subject: 'nowhere.at.all', data: 1 }),
      ).resolves.toMatchObject({
        retryable: false,
        message: "nats: a JetStream stream for subject 'nowhere.at.all' not found",
      });
      await expect(
        f.fails({ operation: 'js_publish', stream: 'other', subject, data: 1 }),
      ).resolves.toMatchObject({
        code: 'TOOL_FAILED',
        message: expect.stringMatching(/^nats: js_publish: /),
      });
      await expect(f.fails({ operation: 'js_get_msg', stream })).resolves.toMatchObject({
        message: expect.stringMatching(/needs 'seq', 'subject'/),
      });
    });
  });

  describe('connections and config', () => {
    it('reuses one connection per server and credentials, and closes them on request', async () => {
      await closeNatsConnections();
      const bucket = unique('kv');
      await f.run({ operation: 'kv_put', bucket, key: 'a', value: 1 });
      await Promise.all([1, 2, 3].map((n) => f.run({ operation: 'kv_put', bucket, key: `k${n}`, value: n })));
      expect(openNatsConnectionCount()).toBe(1);
      await closeNatsConnections();
      expect(openNatsConnectionCount()).toBe(0);
      expect((await f.run({ operation: 'kv_get', bucket, key: 'a' })).value).toBe(1);
    });

    it('reports an unreachable server as a retryable error', async () => {
      const port = await freePort();
      await expect(
        natsTool.execute(toolCtx(), {
          url: `nats://127.0.0.1:${port}`,
          operation: 'kv_get',
          bucket: 'b',
          key: 'k',
        }),
      ).rejects.toMatchObject({
        code: 'TOOL_FAILED',
        retryable: true,
        message: expect.stringMatching(/cannot connect/),
      });
    });

    it('takes the url from env NATS_URL, and rejects bad config', async () => {
      const bucket = unique('kv');
      const viaEnv = await natsTool.execute(toolCtx({ env: { NATS_URL: f.url } }), {
        operation: 'kv_put',
        bucket,
        key: 'k',
        value: 1,
      });
      expect(viaEnv.data).toMatchObject({ revision: 1 });
      await expect(
        natsTool.execute(toolCtx(), { operation: 'kv_get', bucket, key: 'k' }),
      ).rejects.toMatchObject({
        message: expect.stringMatching(/'url'.* is required/),
      });
      await expect(f.fails({ operation: 'kv_frobnicate' })).resolves.toMatchObject({
        message: /unknown operation 'kv_frobnicate'/,
      });
      await expect(f.fails({ operation: 'kv_get', key: 'k' })).resolves.toMatchObject({
        message: "nats: 'bucket' is required",
      });
    });
  });

  describe('credentials', () => {
    let secured: NatsServerHandle;
    beforeAll(async () => {
      secured = await startNatsServer({ args: ['--user', 'noetl', '--pass', 'S3cret-nats'] });
    });
    afterAll(async () => {
      await closeNatsConnections();
      await secured?.dispose();
    });
    const services = (data: Record<string, unknown>, type = 'nats'): ToolServices => ({
      resolveCredential: (alias) => Promise.resolve({ name: alias, type, data }),
    });

    it('connects with a credential of type nats (prefixed or plain field names)', async () => {
      const bucket = unique('kv');
      const creds = services({ nats_url: secured.url, nats_user: 'noetl', nats_password: 'S3cret-nats' });
      const put = await natsTool.execute(toolCtx(creds), {
        auth: 'nats_local',
        operation: 'kv_put',
        bucket,
        key: 'k',
        value: 'v',
      });
      expect(put.data).toMatchObject({ revision: 1 });
      const plain = services({ url: secured.url, user: 'noetl', password: 'S3cret-nats' });
      const got = await natsTool.execute(toolCtx(plain), {
        auth: { credential: 'other' },
        operation: 'kv_get',
        bucket,
        key: 'k',
      });
      expect(got.data).toMatchObject({ value: 'v' });
    });

    it('fails without retry on a wrong password, and names unsupported credential types', async () => {
      const wrong = services({ url: secured.url, user: 'noetl', password: 'nope' });
      await expect(
        natsTool.execute(toolCtx(wrong), { auth: 'bad', operation: 'kv_keys', bucket: 'b' }),
      ).rejects.toMatchObject({
        retryable: false,
        message: expect.stringMatching(/cannot connect.*(authorization|auth)/i),
      });
      await expect(
        natsTool.execute(toolCtx(services({ db_host: 'x' }, 'postgres')), {
          auth: 'pg',
          operation: 'kv_keys',
          bucket: 'b',
        }),
      ).rejects.toMatchObject({
        code: 'CREDENTIAL_UNSUPPORTED',
        message: expect.stringMatching(/supported: nats/),
      });
    });
  });

  it('runs a playbook through runLocal (url from the workload, then from an auth alias)', async () => {
    const bucket = unique('pb');
    const { playbook, diagnostics } = parsePlaybook(`
apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: nats_kv_roundtrip, path: tests/nats_kv_roundtrip }
workload:
nats_url: ""
bucket: ""
workflow:
- step: start
  tool:
    kind: nats
    url: "{{ workload.nats_url }}"
    operation: kv_put
    bucket: "{{ workload.bucket }}"
    key: greeting
    value: { text: hello, n: 2 }
  next:
    - step: read
- step: read
  tool:
    kind: nats
    auth: nats_local
    operation: kv_get
    bucket: "{{ workload.bucket }}"
    key: greeting
  next:
    - step: end
- step: end
  tool:
    kind: noop
    result: "{{ read.value.text }} x{{ read.value.n }}"
`);
    if (!playbook) throw new Error(JSON.stringify(diagnostics));
    const services: ToolServices = {
      resolveCredential: (alias) => Promise.resolve({ name: alias, type: 'nats', data: { nats_url: f.url } }),
    };
    const result = await runLocal({
      playbook,
      payload: { nats_url: f.url, bucket },
      runDir: false,
      services,
    });
    expect(result.error).toBeNull();
    expect(result.status).toBe('COMPLETED');
    expect(result.step_results['start']).toMatchObject({ revision: 1, bucket_created: true });
    expect(result.step_results['read']).toMatchObject({ found: true, value: { text: 'hello', n: 2 } });
    expect(result.final_result).toBe('hello x2');
  });
});
