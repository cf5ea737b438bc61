// The nats tool's KV and object store operations against a private nats-server with JetStream
// (STYLE.md 18): every operation, encodings, missing buckets. See nats-fixture.ts.
import { describe, expect, it } from 'vitest';
import { describeNats, unique } from './nats-fixture.js';

describeNats('nats tool: stores', (f) => {
  describe('kv', () => {
    it('puts (creating the bucket), gets, lists, deletes and purges keys', async () => {
      const bucket = unique('kv');
      const put = await f.run({ operation: 'kv_put', bucket, key: 'user.1', value: { name: 'Ada', n: 1 } });
      expect(put).toEqual({ status: 'success', bucket, key: 'user.1', revision: 1, bucket_created: true });
      const again = await f.run({ operation: 'kv_put', bucket, key: 'user.2', value: 'plain text' });
      expect(again).toMatchObject({ revision: 2, bucket_created: false });
      await f.run({ operation: 'kv_put', bucket, key: 'order.1', value: 42 });

      const got = await f.run({ operation: 'kv_get', bucket, key: 'user.1' });
      expect(got).toMatchObject({
        status: 'success',
        found: true,
        bucket,
        key: 'user.1',
        value: { name: 'Ada', n: 1 },
      });
      expect(got.revision).toBe(1);
      expect(typeof got.created).toBe('string');
      expect((await f.run({ operation: 'kv_get', bucket, key: 'user.2' })).value).toBe('plain text');
      expect(await f.run({ operation: 'kv_get', bucket, key: 'nope' })).toEqual({
        status: 'not_found',
        found: false,
        bucket,
        key: 'nope',
        value: null,
        revision: null,
      });

      expect(await f.run({ operation: 'kv_keys', bucket })).toEqual({
        status: 'success',
        bucket,
        keys: ['order.1', 'user.1', 'user.2'],
        count: 3,
      });
      expect((await f.run({ operation: 'kv_keys', bucket, pattern: 'user.*' })).keys).toEqual([
        'user.1',
        'user.2',
      ]);

      expect(await f.run({ operation: 'kv_delete', bucket, key: 'user.1' })).toEqual({
        status: 'success',
        bucket,
        key: 'user.1',
        deleted: true,
      });
      expect(await f.run({ operation: 'kv_get', bucket, key: 'user.1' })).toMatchObject({
        found: false,
        value: null,
      });
      expect(await f.run({ operation: 'kv_purge', bucket, key: 'user.2' })).toEqual({
        status: 'success',
        bucket,
        key: 'user.2',
        purged: true,
      });
      expect((await f.run({ operation: 'kv_keys', bucket })).keys).toEqual(['order.1']);
    });

    it('reads values as base64, and writes base64 values as bytes', async () => {
      const bucket = unique('kv');
      await f.run({ operation: 'kv_put', bucket, key: 'bin', value: 'AAEC/w==', encoding: 'base64' });
      expect((await f.run({ operation: 'kv_get', bucket, key: 'bin', encoding: 'base64' })).value).toBe(
        'AAEC/w==',
      );
      await expect(
        f.fails({ operation: 'kv_put', bucket, key: 'bad', value: 'not base64!', encoding: 'base64' }),
      ).resolves.toMatchObject({
        code: 'TOOL_FAILED',
        message: "nats: 'value' is not valid base64",
      });
    });

    it('applies ttl as the max age of a bucket it creates', async () => {
      const bucket = unique('kv');
      await f.run({ operation: 'kv_put', bucket, key: 'k', value: 'v', ttl: 60, description: 'sessions' });
      const info = await f.jsm.streams.info(`KV_${bucket}`);
      expect(info.config.max_age).toBe(60 * 1e9);
      expect(info.config.description).toBe('sessions');
    });

    it('fails clearly on a missing bucket, and when create_bucket is false', async () => {
      const bucket = unique('missing');
      for (const config of [
        { operation: 'kv_get', bucket, key: 'k' },
        { operation: 'kv_keys', bucket },
        { operation: 'kv_delete', bucket, key: 'k' },
        { operation: 'kv_put', bucket, key: 'k', value: 1, create_bucket: false },
      ]) {
        await expect(f.fails(config)).resolves.toMatchObject({
          code: 'TOOL_FAILED',
          retryable: false,
          message: `nats: kv bucket '${bucket}' not found`,
        });
      }
    });
  });

  describe('object store', () => {
    it('puts, gets, describes, lists and deletes objects (utf-8 and base64)', async () => {
      const bucket = unique('obj');
      const put = await f.run({
        operation: 'object_put',
        bucket,
        name: 'report.json',
        data: { rows: 3 },
        description: 'daily',
      });
      expect(put).toMatchObject({
        status: 'success',
        bucket,
        name: 'report.json',
        size: 10,
        description: 'daily',
        bucket_created: true,
      });
      expect(String(put.digest)).toMatch(/^SHA-256=/);
      const bin = await f.run({
        operation: 'object_put',
        bucket,
        name: 'img.bin',
        data: 'AAEC/w==',
        encoding: 'base64',
      });
      expect(bin).toMatchObject({ size: 4, bucket_created: false });

      expect(await f.run({ operation: 'object_get', bucket, name: 'report.json' })).toMatchObject({
        status: 'success',
        found: true,
        name: 'report.json',
        size: 10,
        encoding: 'utf-8',
        data: '{"rows":3}',
      });
      expect(
        (await f.run({ operation: 'object_get', bucket, name: 'img.bin', encoding: 'base64' })).data,
      ).toBe('AAEC/w==');
      expect(await f.run({ operation: 'object_info', bucket, name: 'img.bin' })).toMatchObject({
        status: 'success',
        found: true,
        name: 'img.bin',
        size: 4,
        chunks: 1,
        description: null,
      });
      const list = await f.run({ operation: 'object_list', bucket });
      expect(list).toMatchObject({ status: 'success', bucket, count: 2 });
      expect((list.objects as { name: string }[]).map((o) => o.name)).toEqual(['img.bin', 'report.json']);

      expect(await f.run({ operation: 'object_delete', bucket, name: 'img.bin' })).toEqual({
        status: 'success',
        bucket,
        name: 'img.bin',
        deleted: true,
      });
      expect(await f.run({ operation: 'object_delete', bucket, name: 'img.bin' })).toMatchObject({
        deleted: false,
      });
      expect(await f.run({ operation: 'object_get', bucket, name: 'img.bin' })).toMatchObject({
        status: 'not_found',
        found: false,
        data: null,
      });
      expect(await f.run({ operation: 'object_info', bucket, name: 'nope' })).toMatchObject({ found: false });
      expect((await f.run({ operation: 'object_list', bucket })).count).toBe(1);
    });

    it('fails clearly on a missing object store', async () => {
      const bucket = unique('missing');
      await expect(f.fails({ operation: 'object_list', bucket })).resolves.toMatchObject({
        retryable: false,
        message: `nats: object store '${bucket}' not found`,
      });
      await expect(
        f.fails({ operation: 'object_put', bucket, name: 'x', data: 'y', create_bucket: false }),
      ).resolves.toMatchObject({
        message: `nats: object store '${bucket}' not found`,
      });
    });
  });
});
