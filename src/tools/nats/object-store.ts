import type { ObjectInfo, ObjectStore } from '@nats-io/obj';
import { optBoolean, optString, pick, reqString } from '../config-helpers.js';
import { decodePayload, encodePayload } from './codec.js';
import { NATS_KIND, type NatsConfig } from './config.js';
import type { NatsSession } from './connection.js';
import { missingError, natsError } from './errors.js';

type ObjectOperation = 'object_get' | 'object_put' | 'object_delete' | 'object_list' | 'object_info';

interface OpenedStore {
  readonly os: ObjectStore;
  readonly created: boolean;
}

function isMissingStore(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'StreamNotFoundError' ||
      (err as Error & { code?: unknown }).code === 10059 ||
      /object store not found|stream not found/i.test(err.message))
  );
}

async function openStore(s: NatsSession, bucket: string, create: boolean): Promise<OpenedStore> {
  const objm = new s.mods.obj.Objm(s.js);
  try {
    return { os: await objm.open(bucket), created: false };
  } catch (err) {
    if (!isMissingStore(err)) throw natsError(`object store '${bucket}'`, err, { bucket });
    if (!create) throw missingError(`object store '${bucket}'`, { bucket });
  }
  try {
    return { os: await objm.create(bucket), created: true };
  } catch (err) {
    throw natsError(`cannot create object store '${bucket}'`, err, { bucket });
  }
}

/** The metadata a playbook sees of an object. */
function objectFields(info: ObjectInfo): Record<string, unknown> {
  return {
    name: info.name,
    size: info.size,
    description: info.description === undefined || info.description === '' ? null : info.description,
    digest: info.digest,
    mtime: info.mtime,
    chunks: info.chunks,
    revision: info.revision,
  };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return new Uint8Array(Buffer.concat(parts));
}

async function objectGet(s: NatsSession, cfg: NatsConfig, bucket: string): Promise<Record<string, unknown>> {
  const name = reqString(NATS_KIND, cfg.fields, 'name', 'key');
  const { os } = await openStore(s, bucket, false);
  const result = await os.get(name);
  if (!result || result.info.deleted) {
    return { status: 'not_found', found: false, bucket, name, data: null, size: 0 };
  }
  const bytes = await readAll(result.data);
  const failed = await result.error;
  if (failed) throw failed;
  return {
    status: 'success',
    found: true,
    bucket,
    ...objectFields(result.info),
    encoding: cfg.encoding,
    data: decodePayload(bytes, cfg.encoding, false),
  };
}

async function objectPut(s: NatsSession, cfg: NatsConfig, bucket: string): Promise<Record<string, unknown>> {
  const name = reqString(NATS_KIND, cfg.fields, 'name', 'key');
  const bytes = encodePayload(pick(cfg.fields, 'data', 'value'), cfg.encoding, 'data');
  const description = optString(NATS_KIND, cfg.fields, 'description');
  const create = optBoolean(NATS_KIND, cfg.fields, 'create_bucket') ?? true;
  const { os, created } = await openStore(s, bucket, create);
  const info = await os.putBlob({ name, ...(description !== undefined ? { description } : {}) }, bytes);
  return { status: 'success', bucket, ...objectFields(info), bucket_created: created };
}

export async function runObjectStore(
  op: ObjectOperation,
  s: NatsSession,
  cfg: NatsConfig,
): Promise<Record<string, unknown>> {
  const bucket = reqString(NATS_KIND, cfg.fields, 'bucket');
  try {
    switch (op) {
      case 'object_get':
        return await objectGet(s, cfg, bucket);
      case 'object_put':
        return await objectPut(s, cfg, bucket);
      case 'object_delete': {
        const name = reqString(NATS_KIND, cfg.fields, 'name', 'key');
        const { os } = await openStore(s, bucket, false);
        const existing = await os.info(name);
        if (!existing || existing.deleted) return { status: 'not_found', bucket, name, deleted: false };
        await os.delete(name);
        return { status: 'success', bucket, name, deleted: true };
      }
      case 'object_list': {
        const { os } = await openStore(s, bucket, false);
        const objects = (await os.list())
          .filter((info) => !info.deleted)
          .map(objectFields)
          .sort((a, b) => String(a.name).localeCompare(String(b.name)));
        return { status: 'success', bucket, objects, count: objects.length };
      }
      case 'object_info': {
        const name = reqString(NATS_KIND, cfg.fields, 'name', 'key');
        const { os } = await openStore(s, bucket, false);
        const info = await os.info(name);
        if (!info || info.deleted) return { status: 'not_found', found: false, bucket, name };
        return { status: 'success', found: true, bucket, ...objectFields(info) };
      }
    }
  } catch (err) {
    throw natsError(`${op} on object store '${bucket}'`, err, { bucket });
  }
}
