import { parse } from 'yaml';
import { isPlainObject, NoetlError } from '../../shared/index.js';

/**
 * NoETL `kind: Subscription` resources (apiVersion noetl.io/v1), the webhook part
 * (docs/triggers.md): `spec.source: webhook`, `mode: push`, an ingress path, how each delivery is
 * verified, which playbook it starts and with what payload, header directives and dedup.
 */

export type VerifyType = 'bearer' | 'hmac_sha256' | 'none';

export interface WebhookVerify {
  readonly type: VerifyType;
  /** Credential name (NoETL's "wallet alias") holding the token or the HMAC key. */
  readonly secret?: string;
  /** hmac_sha256: header carrying the signature (hex, optionally `sha256=`-prefixed). */
  readonly header: string;
  /** hmac_sha256: header carrying the unix time the sender signed at; signs `<time>.<body>`. */
  readonly timestampHeader?: string;
  readonly toleranceSecs: number;
}

export interface HeaderDirective {
  readonly header: string;
  readonly controls: string;
  readonly allowed?: readonly string[];
}

export interface WebhookSubscription {
  /** Catalog path of the Subscription resource. */
  readonly path: string;
  readonly name: string;
  readonly version: number;
  /** `/ingress/...` */
  readonly gatewayPath: string;
  readonly verify: WebhookVerify;
  readonly playbook: string;
  readonly payloadFrom: string;
  readonly executionPool?: string;
  readonly directives: readonly HeaderDirective[];
  readonly dedup: {
    readonly enabled: boolean;
    readonly windowSecs: number;
    /** Header whose value is the key (default x-idempotency-key). */
    readonly keyHeader: string;
    /** Dotted path into the JSON body used when the header is absent. */
    readonly keyPath?: string;
  };
}

const DEFAULT_DEDUP_WINDOW_SECS = 600;
const DEFAULT_TOLERANCE_SECS = 300;

function invalid(path: string, message: string): NoetlError {
  return new NoetlError('BAD_REQUEST', `subscription ${path}: ${message}`);
}

/** A trimmed non-empty string, or undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** `spec.headers.directives` of a Subscription (header names lower-cased); malformed ones skipped. */
export function directivesOf(spec: Record<string, unknown>): HeaderDirective[] {
  const headers = isPlainObject(spec['headers']) ? spec['headers'] : {};
  const out: HeaderDirective[] = [];
  for (const d of Array.isArray(headers['directives']) ? (headers['directives'] as unknown[]) : []) {
    if (!isPlainObject(d)) continue;
    const header = str(d['header']);
    const controls = str(d['controls']);
    if (!header || !controls) continue;
    const allowed = Array.isArray(d['allowed'])
      ? d['allowed'].filter((a): a is string => typeof a === 'string')
      : undefined;
    out.push({ header: header.toLowerCase(), controls, ...(allowed ? { allowed } : {}) });
  }
  return out;
}

/**
 * The webhook subscription a catalog entry describes; undefined for other sources (nats, kafka,
 * pubsub: not served by the ingress). Throws BAD_REQUEST with the field for a malformed one.
 */
export function webhookSubscription(
  path: string,
  version: number,
  content: string,
): WebhookSubscription | undefined {
  const root: unknown = parse(content, { maxAliasCount: 100 });
  if (!isPlainObject(root)) throw invalid(path, 'content is not a YAML map');
  const spec = root['spec'];
  if (!isPlainObject(spec)) throw invalid(path, 'spec is missing');
  if (spec['source'] !== 'webhook') return undefined;
  const metadata = isPlainObject(root['metadata']) ? root['metadata'] : {};
  const ingress = isPlainObject(spec['ingress']) ? spec['ingress'] : {};
  const gatewayPath = str(ingress['gateway_path']);
  if (!gatewayPath || !/^\/ingress\/[A-Za-z0-9_./-]+$/.test(gatewayPath)) {
    throw invalid(path, 'spec.ingress.gateway_path must be a path under /ingress/, e.g. /ingress/orders');
  }
  const v = isPlainObject(ingress['verify']) ? ingress['verify'] : undefined;
  const type = v?.['type'];
  if (type !== 'bearer' && type !== 'hmac_sha256' && type !== 'none') {
    throw invalid(
      path,
      "spec.ingress.verify.type must be bearer, hmac_sha256 or none (say 'none' explicitly)",
    );
  }
  const secret = str(v?.['secret']);
  if (type !== 'none' && secret === undefined) {
    throw invalid(path, `spec.ingress.verify.secret names the credential of a ${type} check`);
  }
  const timestampHeader = str(v?.['timestamp_header']);
  const tolerance = v?.['tolerance_secs'];
  const verify: WebhookVerify = {
    type,
    ...(secret !== undefined ? { secret } : {}),
    header: (str(v?.['header']) ?? (type === 'bearer' ? 'authorization' : 'x-signature')).toLowerCase(),
    ...(timestampHeader !== undefined ? { timestampHeader: timestampHeader.toLowerCase() } : {}),
    toleranceSecs: typeof tolerance === 'number' && tolerance > 0 ? tolerance : DEFAULT_TOLERANCE_SECS,
  };
  const dispatch = isPlainObject(spec['dispatch']) ? spec['dispatch'] : {};
  const playbook = str(dispatch['playbook']);
  if (!playbook) throw invalid(path, 'spec.dispatch.playbook is required');
  const directives = directivesOf(spec);
  const dedup = isPlainObject(spec['dedup']) ? spec['dedup'] : {};
  const keyDirective = directives.find((d) => d.controls === 'idempotency_key');
  const window = dedup['window_secs'];
  const keyPath = str(dedup['key_path']);
  const pool = str(dispatch['execution_pool']);
  return {
    path,
    version,
    name: str(metadata['name']) ?? path,
    gatewayPath,
    verify,
    playbook,
    payloadFrom: str(dispatch['payload_from']) ?? 'message.json',
    ...(pool !== undefined ? { executionPool: pool } : {}),
    directives,
    dedup: {
      enabled: dedup['enabled'] === true,
      windowSecs: typeof window === 'number' && window > 0 ? window : DEFAULT_DEDUP_WINDOW_SECS,
      keyHeader: (str(dedup['key_header']) ?? keyDirective?.header ?? 'x-idempotency-key').toLowerCase(),
      ...(keyPath !== undefined ? { keyPath } : {}),
    },
  };
}
