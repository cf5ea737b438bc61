import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { errorMessage, isPlainObject, NoetlError, type SecretRegistry } from '../shared/index.js';
import type { CredentialRecord } from '../tools/index.js';

export interface LocalCredentialOptions {
  /** `noetl run --credentials FILE`: looked in first. */
  readonly file?: string;
  /** The environment: `NOETL_HOME` and `NOETL_CREDENTIAL_<ALIAS>`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Secret values of the run: every resolved credential's secret fields are added. */
  readonly secrets?: SecretRegistry;
}

type Source = { readonly label: string; readonly records: ReadonlyMap<string, CredentialRecord> };

/** `NOETL_CREDENTIAL_<ALIAS>`: the alias upper-cased, every other character `_`. */
export function credentialEnvName(alias: string): string {
  return `NOETL_CREDENTIAL_${alias.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function record(name: string, raw: unknown, where: string): CredentialRecord {
  if (!isPlainObject(raw)) throw invalid(where, `credential '${name}' must be a map {type, data}`);
  const type = raw.type;
  if (typeof type !== 'string' || type.trim() === '') {
    throw invalid(where, `credential '${name}' needs a 'type' (e.g. postgres, bearer, basic, api_key, nats)`);
  }
  let data = raw.data;
  if (data === undefined) {
    // `{name, type, host, ...}` without `data:`: the other keys are the data.
    const { name: _n, type: _t, description: _d, meta: _m, tags: _g, ...rest } = raw;
    data = rest;
  }
  if (!isPlainObject(data)) throw invalid(where, `credential '${name}': 'data' must be a map`);
  return { name, type: type.trim(), data };
}

function invalid(where: string, message: string): NoetlError {
  return new NoetlError('CONFIG_INVALID', `${where}: ${message}`, { details: { source: where } });
}

/** A credentials file: a list of `{name, type, data}`, `{credentials: [...]}`, or a map by name. */
export function parseCredentialsText(text: string, where: string): Map<string, CredentialRecord> {
  let doc: unknown;
  try {
    doc = parse(text) as unknown;
  } catch (err) {
    throw invalid(where, `not valid YAML or JSON: ${errorMessage(err)}`);
  }
  if (isPlainObject(doc) && Array.isArray(doc.credentials)) doc = doc.credentials;
  const out = new Map<string, CredentialRecord>();
  if (doc === null || doc === undefined) return out;
  if (Array.isArray(doc)) {
    doc.forEach((item, i) => {
      const name = isPlainObject(item) ? item.name : undefined;
      if (typeof name !== 'string' || name === '') throw invalid(where, `entry ${i} needs a 'name'`);
      out.set(name, record(name, item, where));
    });
    return out;
  }
  if (!isPlainObject(doc)) throw invalid(where, 'expected a list of {name, type, data}');
  for (const [name, item] of Object.entries(doc)) out.set(name, record(name, item, where));
  return out;
}

async function readSource(file: string, label: string, optional: boolean): Promise<Source> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { label: `${label} (no such file)`, records: new Map() };
    }
    throw new NoetlError('FILE_NOT_FOUND', `credentials file ${file}: ${errorMessage(err)}`);
  }
  return { label, records: parseCredentialsText(text, file) };
}

/** `$NOETL_HOME`, default `~/.noetl`. */
export function noetlHome(env: Readonly<Record<string, string | undefined>>): string {
  const home = env['NOETL_HOME'];
  return home !== undefined && home !== '' ? home : join(homedir(), '.noetl');
}

/**
 * Credentials of local mode (`noetl run`), looked up in order: the `--credentials` file, then
 * `$NOETL_HOME/credentials.yaml` (NOETL_HOME default `~/.noetl`), then the environment variable
 * `NOETL_CREDENTIAL_<ALIAS>` holding JSON `{type, data}`. Files are read once, on first use.
 */
export class LocalCredentials {
  private sources: Promise<Source[]> | undefined;

  constructor(private readonly options: LocalCredentialOptions) {}

  /** Where credentials are looked up, in order. */
  homeFile(): string {
    return join(noetlHome(this.options.env), 'credentials.yaml');
  }

  private load(): Promise<Source[]> {
    this.sources ??= (async () => {
      const out: Source[] = [];
      if (this.options.file !== undefined) {
        const file = resolve(this.options.file);
        out.push(await readSource(file, `--credentials ${file}`, false));
      }
      const home = this.homeFile();
      out.push(await readSource(home, home, true));
      return out;
    })();
    return this.sources;
  }

  async resolve(alias: string): Promise<CredentialRecord> {
    const sources = await this.load();
    for (const source of sources) {
      const hit = source.records.get(alias);
      if (hit) return this.found(hit);
    }
    const envName = credentialEnvName(alias);
    const raw = this.options.env[envName];
    if (raw !== undefined && raw !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw) as unknown;
      } catch {
        throw invalid(`env ${envName}`, 'not valid JSON (expected {"type": ..., "data": {...}})');
      }
      return this.found(record(alias, parsed, `env ${envName}`));
    }
    const looked = [...sources.map((s) => s.label), `env ${envName} (not set)`];
    throw new NoetlError(
      'CREDENTIAL_NOT_FOUND',
      `credential '${alias}' not found; looked in: ${looked.join(', ')}`,
      { details: { alias, looked } },
    );
  }

  private found(credential: CredentialRecord): CredentialRecord {
    this.options.secrets?.addSecretFields(credential.data);
    return credential;
  }
}
