import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isPlainObject, ToolError } from '../shared/index.js';
import { configError } from './config-helpers.js';
import type { ToolContext } from './types.js';

/**
 * Where a tool's `script:` comes from, as NoETL reads it:
 * `script: {uri, source: {type: inline|file|http|gcs|s3, code, path, endpoint|url, method, timeout}}`,
 * or the short forms `script: <path>` and `script: {uri: <path or file:// or http(s):// URL>}`.
 */
export type ScriptSource =
  | { readonly type: 'inline'; readonly code: string }
  | { readonly type: 'file'; readonly path: string }
  | { readonly type: 'http'; readonly url: string; readonly method: string; readonly timeoutMs: number };

const DEFAULT_FETCH_TIMEOUT_MS = 30_000;

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function fromUri(kind: string, uri: string): ScriptSource {
  if (uri.startsWith('file://')) return { type: 'file', path: uri.slice('file://'.length) };
  if (/^https?:\/\//i.test(uri))
    return { type: 'http', url: uri, method: 'GET', timeoutMs: DEFAULT_FETCH_TIMEOUT_MS };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1];
  if (scheme) throw unsupported(kind, scheme.toLowerCase(), uri);
  return { type: 'file', path: uri };
}

function unsupported(kind: string, type: string, what: string): ToolError {
  return new ToolError(
    `${kind}: script source '${type}' (${what}) is not supported here; use inline code, a file or an http(s) URL`,
    { code: 'TOOL_UNSUPPORTED', details: { tool: kind, source: type } },
  );
}

/** Reads a `script` config value; throws a ToolError naming what is wrong. */
export function readScriptSource(kind: string, script: unknown): ScriptSource {
  if (typeof script === 'string') {
    if (script === '') throw configError(kind, "'script' is empty");
    return fromUri(kind, script);
  }
  if (!isPlainObject(script))
    throw configError(kind, "'script' must be a path or a map with 'uri' or 'source'");
  const uri = str(script['uri']);
  const source = script['source'];
  if (source === undefined || source === null) {
    if (!uri) throw configError(kind, "'script' needs a 'uri' or a 'source'");
    return fromUri(kind, uri);
  }
  if (!isPlainObject(source)) throw configError(kind, "'script.source' must be a map");
  const type = (str(source['type']) ?? 'inline').toLowerCase();
  switch (type) {
    case 'inline': {
      const code = source['code'];
      if (typeof code !== 'string') throw configError(kind, "script 'source.type: inline' needs 'code'");
      return { type: 'inline', code };
    }
    case 'file': {
      const path = str(source['path']) ?? uri;
      if (!path) throw configError(kind, "script 'source.type: file' needs 'path' or 'script.uri'");
      return { type: 'file', path: path.startsWith('file://') ? path.slice('file://'.length) : path };
    }
    case 'http': {
      const url = str(source['endpoint']) ?? str(source['url']) ?? uri;
      if (!url)
        throw configError(kind, "script 'source.type: http' needs 'endpoint' (or 'url', or 'script.uri')");
      const timeout = source['timeout'];
      return {
        type: 'http',
        url,
        method: (str(source['method']) ?? 'GET').toUpperCase(),
        timeoutMs: typeof timeout === 'number' && timeout > 0 ? timeout * 1000 : DEFAULT_FETCH_TIMEOUT_MS,
      };
    }
    case 'gcs':
    case 's3':
      throw unsupported(kind, type, uri ?? 'no uri');
    default:
      throw configError(
        kind,
        `script 'source.type: ${type}' is unknown; expected inline, file, http, gcs or s3`,
      );
  }
}

/**
 * The folder a relative script path resolves against: the playbook file's folder in `noetl run`
 * (`ctx.baseDir`); on a worker, `NOETL_SCRIPT_ROOT`, default `$NOETL_HOME/scripts`. Never the
 * process's working directory.
 */
export function scriptRoot(ctx: ToolContext): string {
  if (ctx.baseDir !== undefined) return ctx.baseDir;
  // The worker's own settings: its process environment (the tools' environment is filtered).
  const setting = (name: string): string | undefined =>
    ctx.services.env?.[name] || process.env[name] || undefined;
  const root = setting('NOETL_SCRIPT_ROOT');
  if (root) return root;
  return join(setting('NOETL_HOME') ?? join(homedir(), '.noetl'), 'scripts');
}

/**
 * Where a relative script path is looked for, in order: the script root, then (in `noetl run`)
 * the playbook root, the nearest folder up from the playbook's with a `noetl.yaml` or `.git`, as
 * sub-playbooks are found. NoETL's worker reads such a path from its working directory, the
 * repository root in NoETL's own setup, so fixtures name scripts from there.
 */
async function candidates(path: string, ctx: ToolContext): Promise<string[]> {
  const out = [resolve(scriptRoot(ctx), path)];
  if (ctx.baseDir === undefined) return out;
  const start = resolve(ctx.baseDir);
  for (let d = start; ; d = dirname(d)) {
    if ((await present(join(d, 'noetl.yaml'))) || (await present(join(d, '.git')))) {
      const atRoot = resolve(d, path);
      if (!out.includes(atRoot)) out.push(atRoot);
      return out;
    }
    if (dirname(d) === d) return out;
  }
}

async function present(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Loads a script's text: `filename` names where it came from (for tracebacks and errors). */
export async function loadScript(
  kind: string,
  source: ScriptSource,
  ctx: ToolContext,
): Promise<{ code: string; filename: string }> {
  if (source.type === 'inline') return { code: source.code, filename: `<${ctx.step}>` };
  if (source.type === 'file') {
    const tried = isAbsolute(source.path) ? [source.path] : await candidates(source.path, ctx);
    let last: unknown;
    for (const full of tried) {
      try {
        return { code: await readFile(full, 'utf8'), filename: full };
      } catch (err) {
        last = err;
      }
    }
    const full = tried[0] ?? source.path;
    const also = tried.length > 1 ? ` (also tried ${tried.slice(1).join(', ')})` : '';
    throw new ToolError(`${kind}: cannot read script ${full}${also}`, {
      cause: last,
      details: { path: full, tried },
    });
  }
  const timeout = AbortSignal.timeout(source.timeoutMs);
  let res: Response;
  try {
    res = await fetch(source.url, { method: source.method, signal: AbortSignal.any([ctx.signal, timeout]) });
  } catch (err) {
    throw new ToolError(`${kind}: cannot fetch script ${source.url}: ${(err as Error).message}`, {
      retryable: true,
      cause: err,
      details: { url: source.url },
    });
  }
  const text = await res.text();
  if (!res.ok) {
    throw new ToolError(`${kind}: fetching script ${source.url} gave HTTP ${res.status}`, {
      retryable: res.status >= 500 || res.status === 429,
      details: { url: source.url, http_status: res.status },
    });
  }
  return { code: text, filename: source.url };
}
