import { parse } from 'yaml';
import { isPlainObject, NoetlError } from '../../shared/index.js';
import { directivesOf, str, webhookSubscription, type HeaderDirective } from './subscription.js';

/**
 * NoETL `kind: Subscription` resources with a pull source (docs/triggers.md): `spec.source: nats`
 * (served here by a durable JetStream consumer per subscription), and `kafka` / `pubsub`, whose
 * format is accepted but which this build cannot consume (no client for them).
 */

export type StreamSource = 'nats' | 'kafka' | 'pubsub';

export const UNAVAILABLE_SOURCES: readonly StreamSource[] = ['kafka', 'pubsub'];

export interface NatsSubscription {
  /** Catalog path of the Subscription resource. */
  readonly path: string;
  readonly name: string;
  readonly version: number;
  readonly source: 'nats';
  readonly stream: string;
  /** Durable pull consumer on `stream`; created when missing. */
  readonly consumer: string;
  /** Credential alias with the NATS url/user/password or token; the server's NATS otherwise. */
  readonly auth?: string;
  /** Messages per pull (`runtime.batch`). */
  readonly batch: number;
  /** How long one pull waits for messages (`runtime.timeout_ms`). */
  readonly timeoutMs: number;
  readonly playbook: string;
  readonly payloadFrom: string;
  readonly executionPool?: string;
  readonly directives: readonly HeaderDirective[];
  readonly dedup: {
    readonly enabled: boolean;
    readonly windowSecs: number;
    /** Header whose value is the idempotency key (default x-idempotency-key). */
    readonly keyHeader: string;
  };
}

/** What a Subscription resource's `spec.source` is, and the reasons it cannot be served. */
export interface SubscriptionCheck {
  readonly source: string;
  readonly nats?: NatsSubscription;
  /** Sources this build accepts but does not consume (kafka, pubsub). */
  readonly warnings: readonly string[];
}

const DEFAULT_DEDUP_WINDOW_SECS = 600;
const DEFAULT_BATCH = 50;
const MAX_BATCH = 1_000;
const DEFAULT_TIMEOUT_MS = 2_000;
const NAME_RE = /^[A-Za-z0-9_-]+$/;

function invalid(path: string, message: string): NoetlError {
  return new NoetlError('BAD_REQUEST', `subscription ${path}: ${message}`);
}

function positive(path: string, field: string, value: unknown, fallback: number, max?: number): number {
  if (value === undefined || value === null) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    (max !== undefined && value > max)
  )
    throw invalid(path, `${field} must be a whole number from 1${max !== undefined ? ` to ${max}` : ''}`);
  return value;
}

/**
 * Reads a Subscription resource's source: a nats one fully (BAD_REQUEST naming the field when
 * malformed), kafka/pubsub with a warning that this build does not consume them, others (webhook)
 * only by name.
 */
export function checkSubscription(path: string, version: number, content: string): SubscriptionCheck {
  const root: unknown = parse(content, { maxAliasCount: 100 });
  if (!isPlainObject(root)) throw invalid(path, 'content is not a YAML map');
  const spec = root['spec'];
  if (!isPlainObject(spec)) throw invalid(path, 'spec is missing');
  const source = str(spec['source']) ?? '';
  if ((UNAVAILABLE_SOURCES as readonly string[]).includes(source)) {
    return {
      source,
      warnings: [
        `spec.source '${source}' is accepted but not available in this build: nothing consumes this subscription (nats and webhook are)`,
      ],
    };
  }
  if (source !== 'nats') return { source, warnings: [] };
  const mode = str(spec['mode']) ?? 'pull';
  if (mode !== 'pull') throw invalid(path, `spec.mode '${mode}': a nats subscription pulls (mode: pull)`);
  const activation = str(spec['activation']) ?? 'continuous';
  const warnings: string[] = [];
  if (activation !== 'continuous') {
    warnings.push(
      `spec.activation '${activation}': the server runs only continuous subscriptions; drain the stream from a playbook with the subscription tool (kind: subscription, source: nats)`,
    );
  }
  const stream = str(spec['stream']);
  if (!stream || !NAME_RE.test(stream))
    throw invalid(path, 'spec.stream must name a JetStream stream (A-Z a-z 0-9 _ -)');
  const consumer = str(spec['consumer']);
  if (!consumer || !NAME_RE.test(consumer))
    throw invalid(path, 'spec.consumer must name a durable consumer (A-Z a-z 0-9 _ -)');
  const runtime = isPlainObject(spec['runtime']) ? spec['runtime'] : {};
  const dispatch = isPlainObject(spec['dispatch']) ? spec['dispatch'] : {};
  const playbook = str(dispatch['playbook']);
  if (!playbook) throw invalid(path, 'spec.dispatch.playbook is required');
  const directives = directivesOf(spec);
  const dedup = isPlainObject(spec['dedup']) ? spec['dedup'] : {};
  const keyDirective = directives.find((d) => d.controls === 'idempotency_key');
  const metadata = isPlainObject(root['metadata']) ? root['metadata'] : {};
  const auth = str(spec['auth']);
  const pool = str(dispatch['execution_pool']);
  const nats: NatsSubscription = {
    path,
    version,
    name: str(metadata['name']) ?? path,
    source: 'nats',
    stream,
    consumer,
    ...(auth !== undefined ? { auth } : {}),
    batch: positive(path, 'spec.runtime.batch', runtime['batch'], DEFAULT_BATCH, MAX_BATCH),
    timeoutMs: Math.max(
      1_000,
      positive(path, 'spec.runtime.timeout_ms', runtime['timeout_ms'], DEFAULT_TIMEOUT_MS),
    ),
    playbook,
    payloadFrom: str(dispatch['payload_from']) ?? 'message.json',
    ...(pool !== undefined ? { executionPool: pool } : {}),
    directives,
    dedup: {
      enabled: dedup['enabled'] === true,
      windowSecs: positive(path, 'spec.dedup.window_secs', dedup['window_secs'], DEFAULT_DEDUP_WINDOW_SECS),
      keyHeader: keyDirective?.header ?? 'x-idempotency-key',
    },
  };
  return { source, nats, warnings };
}

export interface SubscriptionDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: 'SUBSCRIPTION' | 'SOURCE_UNAVAILABLE';
  readonly message: string;
}

/**
 * What `noetl validate` says of a `kind: Subscription` file: errors for a malformed webhook or
 * nats subscription (the field named), a warning for sources this build accepts but does not
 * consume (kafka, pubsub) or serve in another form, nothing for a good one.
 */
export function subscriptionDiagnostics(content: string, path = 'subscription'): SubscriptionDiagnostic[] {
  try {
    const check = checkSubscription(path, 1, content);
    if (check.source === 'webhook') webhookSubscription(path, 1, content);
    else if (check.source !== 'nats' && !(UNAVAILABLE_SOURCES as readonly string[]).includes(check.source)) {
      return [
        {
          severity: 'error',
          code: 'SUBSCRIPTION',
          message: `spec.source must be webhook, nats, kafka or pubsub, not '${check.source}'`,
        },
      ];
    }
    const code = (UNAVAILABLE_SOURCES as readonly string[]).includes(check.source)
      ? 'SOURCE_UNAVAILABLE'
      : 'SUBSCRIPTION';
    return check.warnings.map((message) => ({ severity: 'warning', code, message }));
  } catch (err) {
    return [
      { severity: 'error', code: 'SUBSCRIPTION', message: err instanceof Error ? err.message : String(err) },
    ];
  }
}
