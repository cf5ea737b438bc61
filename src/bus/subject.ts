import { NoetlError } from '../shared/index.js';

/** Subject prefix of command notifications (`NATS_SUBJECT`, also the legacy single subject). */
export const DEFAULT_SUBJECT_PREFIX = 'noetl.commands';

/** The pool a command goes to when neither an explicit pool nor a special path says otherwise. */
export const DEFAULT_POOL = 'shared';

// A pool becomes one subject token and part of a consumer name: no dots, wildcards or spaces.
const POOL_RE = /^[A-Za-z0-9_-]+$/;

export interface PoolSource {
  /** Explicit pool (playbook `executor.pool`, request field); wins when non-empty. */
  readonly execution_pool?: string;
  /** Catalog path of the playbook. */
  readonly path?: string;
}

/**
 * The pool of a command (contract section 6): the explicit pool, else `system` for `system/*`
 * paths, `subscription` for `subscription/*`, else `shared`.
 */
export function resolvePool(source: PoolSource): string {
  const explicit = source.execution_pool?.trim() ?? '';
  if (explicit !== '') return checkPool(explicit);
  const path = source.path?.replace(/^\/+/, '') ?? '';
  if (path.startsWith('system/')) return 'system';
  if (path.startsWith('subscription/')) return 'subscription';
  return DEFAULT_POOL;
}

/** `<prefix>.<pool>.<execution_id>`, e.g. `noetl.commands.shared.589123456789012345`. */
export function subjectFor(
  source: PoolSource & { readonly execution_id: string },
  prefix: string = DEFAULT_SUBJECT_PREFIX,
): string {
  if (!/^-?\d+$/.test(source.execution_id)) {
    throw new NoetlError('BUS_ERROR', `execution_id must be an integer, got '${source.execution_id}'`);
  }
  return `${prefix}.${resolvePool(source)}.${source.execution_id}`;
}

/** The subject filter matching every notification of one pool, or of every pool. */
export function filterSubject(prefix: string, pool?: string): string {
  return pool === undefined ? `${prefix}.>` : `${prefix}.${checkPool(pool)}.>`;
}

/** The pool token of a routed subject, or undefined for the legacy bare subject. */
export function poolOfSubject(subject: string, prefix: string): string | undefined {
  if (!subject.startsWith(`${prefix}.`)) return undefined;
  return subject.slice(prefix.length + 1).split('.')[0];
}

export function checkPool(pool: string): string {
  if (!POOL_RE.test(pool)) {
    throw new NoetlError('BUS_ERROR', `invalid pool name '${pool}': use letters, digits, '_' and '-'`, {
      details: { pool },
    });
  }
  return pool;
}
