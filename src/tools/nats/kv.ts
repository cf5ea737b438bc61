import type { KV, KvOptions } from '@nats-io/kv';
import { configError, optBoolean, optNumber, optString, pick, reqString } from '../config-helpers.js';
import { decodePayload, encodePayload, globMatcher } from './codec.js';
import { NATS_KIND, type NatsConfig } from './config.js';
import type { NatsSession } from './connection.js';
import { isNotFoundError, missingError, natsError } from './errors.js';

type KvOperation = 'kv_get' | 'kv_put' | 'kv_delete' | 'kv_keys' | 'kv_purge';

interface OpenedKv {
  readonly kv: KV;
  readonly created: boolean;
}

/** Binds to a bucket, creating it when `create` options are given and it does not exist. */
async function openKv(s: NatsSession, bucket: string, create?: Partial<KvOptions>): Promise<OpenedKv> {
  const kvm = new s.mods.kv.Kvm(s.js);
  try {
    await s.jsm.streams.info(`KV_${bucket}`);
    return { kv: await kvm.open(bucket), created: false };
  } catch (err) {
    if (!isNotFoundError(err, 'stream')) throw natsError(`kv bucket '${bucket}'`, err, { bucket });
    if (!create) throw missingError(`kv bucket '${bucket}'`, { bucket });
  }
  try {
    return { kv: await kvm.create(bucket, create), created: true };
  } catch (err) {
    throw natsError(`cannot create kv bucket '${bucket}'`, err, { bucket });
  }
}

async function kvGet(s: NatsSession, cfg: NatsConfig, bucket: string): Promise<Record<string, unknown>> {
  const key = reqString(NATS_KIND, cfg.fields, 'key');
  const { kv } = await openKv(s, bucket);
  const entry = await kv.get(key);
  // A deleted or purged key keeps a marker entry; to a playbook it is simply absent.
  if (!entry || entry.operation !== 'PUT') {
    return { status: 'not_found', found: false, bucket, key, value: null, revision: entry?.revision ?? null };
  }
  return {
    status: 'success',
    found: true,
    bucket,
    key,
    value: decodePayload(entry.value, cfg.encoding, true),
    revision: entry.revision,
    created: entry.created.toISOString(),
  };
}

async function kvPut(s: NatsSession, cfg: NatsConfig, bucket: string): Promise<Record<string, unknown>> {
  const key = reqString(NATS_KIND, cfg.fields, 'key');
  const value = pick(cfg.fields, 'value', 'data');
  const ttlSeconds = optNumber(NATS_KIND, cfg.fields, 'ttl');
  if (ttlSeconds !== undefined && ttlSeconds < 0) throw configError(NATS_KIND, "'ttl' must not be negative");
  const description = optString(NATS_KIND, cfg.fields, 'description');
  const create = optBoolean(NATS_KIND, cfg.fields, 'create_bucket') ?? true;
  // NATS KV keeps values for the bucket's max age, not per key: `ttl` applies when the bucket is made.
  const options: Partial<KvOptions> = {
    ...(ttlSeconds !== undefined && ttlSeconds > 0 ? { ttl: Math.round(ttlSeconds * 1000) } : {}),
    ...(description !== undefined ? { description } : {}),
  };
  const { kv, created } = await openKv(s, bucket, create ? options : undefined);
  const revision = await kv.put(key, encodePayload(value, cfg.encoding, 'value'));
  return { status: 'success', bucket, key, revision, bucket_created: created };
}

async function kvKeys(s: NatsSession, cfg: NatsConfig, bucket: string): Promise<Record<string, unknown>> {
  const pattern = optString(NATS_KIND, cfg.fields, 'pattern', 'filter');
  const match = pattern !== undefined && pattern !== '' ? globMatcher(pattern) : () => true;
  const { kv } = await openKv(s, bucket);
  const keys: string[] = [];
  for await (const key of await kv.keys()) if (match(key)) keys.push(key);
  keys.sort();
  return { status: 'success', bucket, keys, count: keys.length };
}

export async function runKv(
  op: KvOperation,
  s: NatsSession,
  cfg: NatsConfig,
): Promise<Record<string, unknown>> {
  const bucket = reqString(NATS_KIND, cfg.fields, 'bucket');
  try {
    switch (op) {
      case 'kv_get':
        return await kvGet(s, cfg, bucket);
      case 'kv_put':
        return await kvPut(s, cfg, bucket);
      case 'kv_keys':
        return await kvKeys(s, cfg, bucket);
      case 'kv_delete': {
        const key = reqString(NATS_KIND, cfg.fields, 'key');
        await (await openKv(s, bucket)).kv.delete(key);
        return { status: 'success', bucket, key, deleted: true };
      }
      case 'kv_purge': {
        // Removes the key and all its history (a purge marker remains).
        const key = reqString(NATS_KIND, cfg.fields, 'key');
        await (await openKv(s, bucket)).kv.purge(key);
        return { status: 'success', bucket, key, purged: true };
      }
    }
  } catch (err) {
    if (isNotFoundError(err, 'stream')) throw missingError(`kv bucket '${bucket}'`, { bucket });
    throw natsError(`${op} on bucket '${bucket}'`, err, { bucket });
  }
}
