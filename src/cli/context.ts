import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, errorMessage, isPlainObject, NoetlError, NotFoundError } from '../shared/index.js';
import type { CliConfig } from './cli-config.js';

export const DEFAULT_SERVER_URL = 'http://localhost:8082';
/** The token a server listening beyond loopback generates (server/api-token.ts writes it). */
export const API_TOKEN_FILE = 'api-token';
export const RUNTIMES = ['local', 'distributed', 'auto'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** One named context. Keys other than these (NoETL's gateway_*, kube_*) are kept as they are. */
export interface ContextEntry {
  readonly server_url?: string;
  readonly runtime?: string;
  readonly [key: string]: unknown;
}

/** `$NOETL_HOME/config.yaml`: `{current_context, contexts: {name: {server_url, runtime}}}`. */
export interface ContextsFile {
  readonly current_context?: string;
  readonly contexts: Readonly<Record<string, ContextEntry>>;
  readonly [key: string]: unknown;
}

export function contextsPath(home: string): string {
  return join(home, 'config.yaml');
}

/** Reads config.yaml; a missing file is an empty one. `yaml` is loaded only when the file exists. */
export async function readContexts(home: string): Promise<ContextsFile> {
  const file = contextsPath(home);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: {} };
    throw new ConfigError(`cannot read ${file}: ${errorMessage(err)}`, { cause: err });
  }
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: ${errorMessage(err).split('\n')[0] ?? ''}`, { cause: err });
  }
  if (doc === null || doc === undefined) return { contexts: {} };
  if (!isPlainObject(doc)) throw new ConfigError(`${file}: must be a map with current_context and contexts`);
  const contexts: Record<string, ContextEntry> = {};
  const raw = doc['contexts'];
  if (raw !== undefined && raw !== null) {
    if (!isPlainObject(raw)) throw new ConfigError(`${file}: contexts must be a map of name: {server_url}`);
    for (const [name, entry] of Object.entries(raw)) {
      if (!isPlainObject(entry)) throw new ConfigError(`${file}: context '${name}' must be a map`);
      contexts[name] = entry;
    }
  }
  const current = doc['current_context'];
  return {
    ...doc,
    contexts,
    ...(typeof current === 'string' && current !== '' ? { current_context: current } : {}),
  };
}

export async function writeContexts(home: string, data: ContextsFile): Promise<void> {
  const { stringify } = await import('yaml');
  await mkdir(home, { recursive: true });
  const file = contextsPath(home);
  const tmp = `${file}.${process.pid}.tmp`;
  const { current_context, contexts, ...rest } = data;
  const ordered = { ...(current_context !== undefined ? { current_context } : {}), contexts, ...rest };
  await writeFile(tmp, stringify(ordered), { mode: 0o600 });
  await rename(tmp, file);
}

export function requireContext(file: ContextsFile, name: string): ContextEntry {
  const entry = file.contexts[name];
  if (!entry) {
    const known = Object.keys(file.contexts);
    throw new NotFoundError(
      `no context named '${name}'${known.length ? ` (known: ${known.join(', ')})` : ' (none defined)'}`,
      { details: { hint: 'add one with `noetl context add NAME --server-url URL`' } },
    );
  }
  return entry;
}

export interface ResolvedServer {
  readonly url: string;
  /** '--server-url', 'NOETL_SERVER_URL', "context 'prod'", 'default'... */
  readonly from: string;
}

/**
 * The server the API commands talk to: `--server-url`, `--host/--port`, `--context`, then
 * `NOETL_SERVER_URL`, `NOETL_HOST/NOETL_PORT`, then the current context, else
 * http://localhost:8082 (docs/cli.md).
 */
export async function resolveServer(config: CliConfig): Promise<ResolvedServer> {
  if (config.explicitServer) return config.explicitServer;
  const file = await readContexts(config.home);
  const name = config.context ?? file.current_context;
  if (name !== undefined) {
    const entry = requireContext(file, name);
    const url = entry.server_url;
    if (typeof url !== 'string' || url === '') {
      throw new NoetlError('CONFIG_INVALID', `context '${name}' has no server_url`);
    }
    return { url: url.replace(/\/+$/, ''), from: `context '${name}'` };
  }
  return { url: DEFAULT_SERVER_URL, from: 'default' };
}

function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The token of `$NOETL_HOME/api-token` when the server is on this machine (a loopback URL) and no
 * token is configured; undefined when there is no such file. A server started with
 * `--host 0.0.0.0` and no NOETL_API_TOKEN writes it there (docs/security.md).
 */
export async function localApiToken(home: string, serverUrl: string): Promise<string | undefined> {
  if (!isLoopbackUrl(serverUrl)) return undefined;
  const file = join(home, API_TOKEN_FILE);
  try {
    const token = (await readFile(file, 'utf8')).trim();
    return token === '' ? undefined : token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read ${file}: ${errorMessage(err)}`, { cause: err });
  }
}
