import type { KeychainEntry } from '../dsl/index.js';
import { isPlainObject, NoetlError, toNoetlError } from '../shared/index.js';
import type { TemplateRenderer, TemplateScope } from '../template/index.js';
import { resolveCredentialAlias } from './credentials.js';
import { lookupScope } from './pipeline-state.js';
import type { ToolServices } from './types.js';

/**
 * Resolves a command's keychain entries when it runs (contract 1.5, 9), so that
 * `{{ keychain.<name>.<field> }}` works in its tool config while the resolved values never reach
 * an event: the engine stores configs unrendered and leaves `keychain` out of render contexts.
 */

export interface KeychainDeps {
  readonly templates: TemplateRenderer;
  readonly services: ToolServices;
  readonly signal: AbortSignal;
}

/** Resolved entries: `keychain.<name>.<field>`. */
export type ResolvedKeychain = Record<string, Record<string, unknown>>;

export const KEYCHAIN_KINDS = ['static', 'bearer', 'credential', 'postgres_credential'] as const;

/** Keys of an entry that describe it rather than hold values. */
const META_KEYS = new Set([
  'name',
  'kind',
  'scope',
  'provider',
  'auth',
  'credential',
  'region',
  'residency',
  'allowed_regions',
  'no_broker_fallback',
  'auto_renew',
  'ttl',
  'description',
]);

const REF_RE = /keychain\.([A-Za-z_][A-Za-z0-9_]*)|keychain\[\s*\\?["']([^"'\\]+)\\?["']\s*\]/g;

function refsOf(entry: KeychainEntry): Set<string> {
  const out = new Set<string>();
  for (const m of (JSON.stringify(entry.fields) ?? '').matchAll(REF_RE)) {
    const name = m[1] ?? m[2];
    if (name !== undefined && name !== entry.name) out.add(name);
  }
  return out;
}

function keychainError(
  entry: KeychainEntry,
  message: string,
  code: 'CREDENTIAL_UNSUPPORTED' | 'CREDENTIAL_NOT_FOUND' = 'CREDENTIAL_UNSUPPORTED',
): NoetlError {
  return new NoetlError(code, `keychain '${entry.name}': ${message}`, {
    details: { keychain: entry.name, kind: entry.kind },
  });
}

/** `scope` with `keychain` bound to the entries resolved so far. */
export function withKeychain(scope: TemplateScope, keychain: Readonly<ResolvedKeychain>): TemplateScope {
  return (name: string): unknown => (name === 'keychain' ? keychain : lookupScope(scope, name));
}

function effectiveKind(entry: KeychainEntry): string {
  const kind = entry.kind.trim().toLowerCase();
  if (kind !== '') return kind;
  const f = entry.fields;
  if (f.map !== undefined) return 'static';
  if (f.token !== undefined) return 'bearer';
  if (f.credential !== undefined) return 'credential';
  return '';
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

class KeychainResolver {
  private readonly resolved: ResolvedKeychain = {};
  private readonly byName = new Map<string, KeychainEntry>();
  private readonly active = new Set<string>();

  constructor(
    entries: readonly KeychainEntry[],
    private readonly scope: TemplateScope,
    private readonly deps: KeychainDeps,
  ) {
    for (const entry of entries) this.byName.set(entry.name, entry);
  }

  async all(): Promise<ResolvedKeychain> {
    for (const name of this.byName.keys()) await this.resolve(name);
    return this.resolved;
  }

  private async resolve(name: string): Promise<void> {
    if (name in this.resolved) return;
    const entry = this.byName.get(name);
    if (!entry) return; // not an entry of this command: the template that reads it reports it
    if (this.active.has(name)) throw keychainError(entry, 'its templates read each other in a cycle');
    this.active.add(name);
    for (const ref of refsOf(entry)) await this.resolve(ref);
    this.active.delete(name);
    this.resolved[name] = await this.resolveEntry(entry);
  }

  private render(entry: KeychainEntry, value: unknown): unknown {
    try {
      return this.deps.templates.renderValue(value, withKeychain(this.scope, this.resolved));
    } catch (err) {
      const error = toNoetlError(err, 'TEMPLATE_RENDER');
      throw new NoetlError(error.code, `keychain '${entry.name}': ${error.message}`, { cause: err });
    }
  }

  private async resolveEntry(entry: KeychainEntry): Promise<Record<string, unknown>> {
    const { services, signal } = this.deps;
    const f = entry.fields;
    const kind = effectiveKind(entry);
    switch (kind) {
      case 'static': {
        const source = f.map ?? Object.fromEntries(Object.entries(f).filter(([k]) => !META_KEYS.has(k)));
        const values = this.render(entry, source);
        if (!isPlainObject(values)) throw keychainError(entry, "kind 'static' needs a 'map' of values");
        services.secrets?.addAll(values);
        return { ...values };
      }
      case 'bearer': {
        let token = text(this.render(entry, f.token));
        const alias = text(this.render(entry, f.credential ?? f.auth));
        if (token === undefined && alias !== undefined) {
          const record = await resolveCredentialAlias(alias, services, signal);
          token = text(record.data.token ?? record.data.access_token ?? record.data.bearer_token);
        }
        if (token === undefined)
          throw keychainError(entry, "kind 'bearer' needs a 'token' (or a 'credential' holding one)");
        services.secrets?.add(token);
        return { token };
      }
      case 'credential':
      case 'postgres_credential': {
        const alias = text(this.render(entry, f.credential ?? f.auth)) ?? entry.name;
        const record = await resolveCredentialAlias(alias, services, signal);
        return { ...record.data };
      }
      case 'secrets':
      case 'secret_manager': {
        const provider = text(this.render(entry, f.provider));
        throw keychainError(
          entry,
          provider !== undefined
            ? `secret provider '${provider}' is not configured`
            : `kind '${kind}' needs a secret provider (gcp, aws, azure, vault, k8s), and none is configured`,
        );
      }
      case 'oauth2':
      case 'google_id_token':
        throw keychainError(
          entry,
          `kind '${kind}' is not supported: tokens are not minted here; fetch the token with an http step and pass it on`,
        );
      default:
        throw keychainError(
          entry,
          `unsupported kind '${entry.kind}' (supported: ${KEYCHAIN_KINDS.join(', ')})`,
        );
    }
  }
}

/**
 * Resolves `entries` (a command's keychain, unrendered) against the command's scope: `static` ->
 * its rendered `map`; `bearer` -> `{token}`; `credential`/`postgres_credential` -> the
 * credential's `data`. Entries may read each other. Every resolved value is registered with
 * `services.secrets`. Secret providers and `oauth2` are reported as unsupported.
 */
export function resolveKeychain(
  entries: readonly KeychainEntry[],
  scope: TemplateScope,
  deps: KeychainDeps,
): Promise<ResolvedKeychain> {
  return new KeychainResolver(entries, scope, deps).all();
}
