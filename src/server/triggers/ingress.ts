import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  errorMessage,
  isPlainObject,
  NoetlError,
  type Clock,
  type JsonValue,
  type Logger,
} from '../../shared/index.js';
import type { Store } from '../../store/index.js';
import { tokensEqual } from '../auth.js';
import type { SecretCipher } from '../crypto/index.js';
import { parseJsonBody } from '../json-body.js';
import type { ExecuteRequest, ExecuteResponse } from '../orchestrator/orchestrator.js';
import { webhookSubscription, type WebhookSubscription } from './subscription.js';

/**
 * Webhook ingress (docs/triggers.md): `POST /ingress/...` serves every registered
 * `kind: Subscription` with `spec.source: webhook`. These routes are outside the API token: each
 * delivery is verified as its subscription says (bearer token or HMAC-SHA256 over the raw body,
 * compared in constant time against a credential) before anything else is read, so an
 * unverified caller cannot start a playbook or steer one with header directives. A verified
 * delivery starts `dispatch.playbook`; with `dedup.enabled` a redelivery (same idempotency key
 * within the window) starts nothing new.
 */

export interface IngressDeps {
  readonly store: Store;
  readonly cipher: SecretCipher;
  readonly runner: { execute(req: ExecuteRequest): Promise<ExecuteResponse> };
  readonly clock: Clock;
  readonly logger: Logger;
  /** True while the server listens on loopback only: `verify.type: none` is refused otherwise. */
  readonly loopbackOnly: boolean;
  /** Largest delivery body; default 1 MiB. */
  readonly bodyLimitBytes?: number;
  /** How long the subscription table is reused before the catalog is read again; default 1 s. */
  readonly refreshMs?: number;
}

const MISS_RELOAD_MS = 250;
const SECRET_FIELDS = ['token', 'secret', 'value', 'key', 'api_key', 'password'] as const;
/** Headers never copied into the payload (credentials and signatures). */
const HIDDEN_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

function unauthorized(message: string): NoetlError {
  return new NoetlError('UNAUTHORIZED', message);
}

/** The secret text of a credential: a string, or its first token-like field. */
function secretOf(data: JsonValue): string | undefined {
  if (typeof data === 'string') return data;
  if (!isPlainObject(data)) return undefined;
  for (const field of SECRET_FIELDS) {
    const v = data[field];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Subscriptions by ingress path, read from the catalog (newest version of each path). */
class SubscriptionTable {
  private byPath = new Map<string, WebhookSubscription>();
  private loadedAt = -Infinity;
  private loading: Promise<void> | undefined;

  constructor(private readonly deps: IngressDeps) {}

  async get(gatewayPath: string): Promise<WebhookSubscription | undefined> {
    if (this.deps.clock.now() - this.loadedAt > (this.deps.refreshMs ?? 1_000)) await this.reload();
    const found = this.byPath.get(gatewayPath);
    // A subscription registered since the last read is served at once: a miss reads the catalog
    // again, at most every 250 ms (so probing unknown paths cannot hammer the store).
    if (found || this.deps.clock.now() - this.loadedAt < MISS_RELOAD_MS) return found;
    await this.reload();
    return this.byPath.get(gatewayPath);
  }

  private async reload(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    await this.loading;
  }

  private async load(): Promise<void> {
    const entries = await this.deps.store.catalog.list({ kind: 'subscription', limit: 10_000 });
    const newest = new Map<string, (typeof entries)[number]>();
    for (const e of entries) {
      const seen = newest.get(e.path);
      if (!seen || e.version > seen.version) newest.set(e.path, e);
    }
    const byPath = new Map<string, WebhookSubscription>();
    for (const e of newest.values()) {
      try {
        const sub = webhookSubscription(e.path, e.version, e.content ?? '');
        if (!sub) continue;
        const taken = byPath.get(sub.gatewayPath);
        if (taken) {
          this.deps.logger.warn(
            { path: sub.gatewayPath, first: taken.path, second: sub.path },
            'two subscriptions claim one ingress path; the first is served',
          );
          continue;
        }
        byPath.set(sub.gatewayPath, sub);
      } catch (err) {
        this.deps.logger.warn({ subscription: e.path, err: errorMessage(err) }, 'subscription not served');
      }
    }
    this.byPath = byPath;
    this.loadedAt = this.deps.clock.now();
  }
}

/** The body of a delivery: JSON or a form, as a value; other media types are refused. */
function bodyValue(request: FastifyRequest, raw: Buffer): JsonValue | undefined {
  const type = (header(request, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (raw.length === 0) return undefined;
  if (type === 'application/json' || type.endsWith('+json'))
    return parseJsonBody(raw.toString('utf8')) as JsonValue;
  if (type === 'application/x-www-form-urlencoded') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) {
      const seen = out[k];
      out[k] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v];
    }
    return out;
  }
  throw new NoetlError(
    'UNSUPPORTED_MEDIA_TYPE',
    `ingress takes application/json or form bodies, not '${type || 'none'}'`,
  );
}

function pathValue(value: JsonValue | undefined, dotted: string): JsonValue | undefined {
  let v: JsonValue | undefined = value;
  for (const part of dotted.split('.')) {
    if (!isPlainObject(v)) return undefined;
    v = v[part];
  }
  return v;
}

export function ingressRoutes(deps: IngressDeps): FastifyPluginAsync {
  const table = new SubscriptionTable(deps);

  async function secret(sub: WebhookSubscription): Promise<string> {
    const name = sub.verify.secret ?? '';
    const record = await deps.store.credentials.get(name);
    const value = record ? secretOf(deps.cipher.open(record.dataEncrypted)) : undefined;
    if (value === undefined) {
      deps.logger.warn(
        { subscription: sub.path, credential: name },
        'subscription credential missing or without a token/secret field',
      );
      throw new NoetlError('UNAVAILABLE', 'this ingress cannot verify deliveries right now');
    }
    return value;
  }

  async function verify(sub: WebhookSubscription, request: FastifyRequest, raw: Buffer): Promise<void> {
    const v = sub.verify;
    if (v.type === 'none') {
      if (!deps.loopbackOnly) {
        throw new NoetlError(
          'FORBIDDEN',
          "verify.type 'none' is refused while the server listens beyond loopback",
        );
      }
      return;
    }
    const expected = await secret(sub);
    if (v.type === 'bearer') {
      const given = header(request, v.header);
      const token = v.header === 'authorization' ? /^Bearer\s+(\S+)\s*$/i.exec(given ?? '')?.[1] : given;
      if (token === undefined || !tokensEqual(token, expected))
        throw unauthorized('delivery not verified: bad or missing bearer token');
      return;
    }
    const signature = header(request, v.header)
      ?.trim()
      .replace(/^sha256=/i, '')
      .toLowerCase();
    if (!signature) throw unauthorized(`delivery not verified: no ${v.header} signature`);
    let signed: Buffer = raw;
    if (v.timestampHeader !== undefined) {
      const ts = Number(header(request, v.timestampHeader));
      if (!Number.isFinite(ts))
        throw unauthorized(`delivery not verified: no ${v.timestampHeader} timestamp`);
      const ms = ts > 1e12 ? ts : ts * 1000;
      if (Math.abs(deps.clock.now() - ms) > v.toleranceSecs * 1000) {
        throw unauthorized('delivery not verified: timestamp outside the tolerance (replayed?)');
      }
      signed = Buffer.concat([Buffer.from(`${header(request, v.timestampHeader)}.`), raw]);
    }
    const digest = createHmac('sha256', expected).update(signed).digest('hex');
    if (!tokensEqual(signature, digest))
      throw unauthorized('delivery not verified: signature does not match');
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- fastify plugins are async functions
  return async (app) => {
    app.post(
      '/ingress/*',
      {
        config: { public: true, rawBody: true },
        bodyLimit: deps.bodyLimitBytes ?? 1024 * 1024,
        schema: { hide: true },
      },
      async (request, reply) => {
        const gatewayPath = request.url.split('?')[0]!.replace(/\/+$/, '');
        const sub = await table.get(gatewayPath);
        if (!sub) throw new NoetlError('NOT_FOUND', `no subscription serves ${gatewayPath}`);
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        await verify(sub, request, raw); // nothing of the delivery is read before this passes
        const body = bodyValue(request, raw);
        let playbook = sub.playbook;
        for (const d of sub.directives) {
          const value = header(request, d.header);
          if (value === undefined || d.controls !== 'dispatch.playbook') continue;
          if (!d.allowed?.includes(value)) {
            throw new NoetlError(
              'BAD_REQUEST',
              `${d.header}: '${value.slice(0, 200)}' is not an allowed playbook of this subscription`,
            );
          }
          playbook = value;
        }
        const headers: Record<string, JsonValue> = {};
        for (const [k, v] of Object.entries(request.headers)) {
          if (HIDDEN_HEADERS.has(k) || k === sub.verify.header || v === undefined) continue;
          headers[k] = Array.isArray(v) ? v.join(', ') : v;
        }
        const query = Object.fromEntries(new URLSearchParams(request.url.split('?')[1] ?? ''));
        const key = header(request, sub.dedup.keyHeader);
        const messageId =
          key ?? header(request, 'x-message-id') ?? header(request, 'x-request-id') ?? randomUUID();
        const message = {
          id: messageId,
          json: body ?? null,
          headers,
          query,
          path: gatewayPath,
          received_at: new Date(deps.clock.now()).toISOString(),
        };
        const payload: Record<string, JsonValue> =
          sub.payloadFrom === 'message.json' && isPlainObject(body) ? { ...body } : {};
        payload['message'] = message;
        payload['subscription'] = sub.name;
        let dedupKey: string | undefined;
        if (sub.dedup.enabled) {
          const fromPath = sub.dedup.keyPath !== undefined ? pathValue(body, sub.dedup.keyPath) : undefined;
          const k =
            key ??
            (typeof fromPath === 'string' || typeof fromPath === 'number'
              ? String(fromPath)
              : createHash('sha256').update(raw).digest('hex'));
          dedupKey = `subscription:${sub.path}:${k}`;
        }
        const response = await deps.runner.execute({
          path: playbook,
          payload,
          ...(sub.executionPool !== undefined ? { executionPool: sub.executionPool } : {}),
          ...(dedupKey !== undefined ? { dedupKey, dedupWindowMs: sub.dedup.windowSecs * 1000 } : {}),
        });
        return reply.code(response.status === 'duplicate' ? 200 : 202).send({
          status: response.status,
          execution_id: response.execution_id,
          subscription: sub.path,
          playbook,
        });
      },
    );
  };
}
