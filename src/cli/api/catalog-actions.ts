import { relative } from 'node:path';
import type {
  CatalogRegistered,
  ControlPlaneClient,
  CredentialInput,
  CredentialView,
} from '../../client/index.js';
import { ConfigReader } from '../../config/index.js';
import { isNoetlError, isPlainObject, NoetlError, toNoetlError } from '../../shared/index.js';
import type { GlobalFlags } from '../cli-config.js';
import { EXIT } from '../exit.js';
import type { CliContext } from '../main.js';
import { cell, note, print, printJson, table } from '../output.js';
import { reportError } from '../report.js';
import { connectApi } from './connect.js';
import {
  credentialOf,
  credentialsIn,
  findCredentialFiles,
  findPlaybooks,
  parseData,
  readResource,
} from './resource-files.js';

export interface SourceOptions {
  readonly file?: string;
  readonly dir?: string;
  readonly json?: boolean;
  /** Warnings are errors: the server refuses the playbook (also NOETL_STRICT=1). */
  readonly strict?: boolean;
}

/** `--strict`, else `NOETL_STRICT` of the environment. */
export function strictOf(ctx: CliContext, opts: { strict?: boolean }): boolean {
  return opts.strict === true || new ConfigReader({ env: ctx.env }).bool('NOETL_STRICT', false);
}

function oneSource(opts: SourceOptions, what: string): { file: string } | { dir: string } {
  if (opts.file !== undefined && opts.dir !== undefined)
    throw new NoetlError('USAGE', `give -f FILE or -d DIR, not both`);
  if (opts.file !== undefined) return { file: opts.file };
  if (opts.dir !== undefined) return { dir: opts.dir };
  throw new NoetlError('USAGE', `register ${what} needs -f FILE or -d DIR`);
}

function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

function playbookLine(r: CatalogRegistered, file: string): string {
  const what = r.unchanged === true ? 'unchanged' : 'registered';
  const lines = [`${what} ${r.path} version ${r.version} (${shown(file)})`];
  for (const w of r.warnings ?? []) {
    const at = w.line !== undefined ? `:${w.line}:${w.column ?? 1}` : '';
    lines.push(`  warning ${w.code ?? ''}${at}: ${w.message ?? ''}`);
  }
  return lines.join('\n');
}

interface Diagnostic {
  readonly code?: string;
  readonly severity?: string;
  readonly message?: string;
  readonly line?: number;
  readonly column?: number;
}

/** The diagnostics of a refused registration (422 `details.diagnostics`), if the error has them. */
function diagnosticsOf(err: unknown): Diagnostic[] {
  if (!isNoetlError(err)) return [];
  const inner = err.details?.['details'];
  const list = isPlainObject(inner) ? inner['diagnostics'] : undefined;
  return Array.isArray(list) ? list.filter((d): d is Diagnostic => isPlainObject(d)) : [];
}

/**
 * Registers the text of `file`; when the server refuses the playbook, every diagnostic is printed
 * on stderr as `file:line:col: severity CODE: message` before the error goes on.
 */
async function registerText(
  client: ControlPlaneClient,
  text: string,
  file: string,
  strict: boolean,
): Promise<CatalogRegistered> {
  try {
    return await client.registerCatalog(text, undefined, { strict });
  } catch (err) {
    for (const d of diagnosticsOf(err))
      process.stderr.write(
        `${shown(file)}:${d.line ?? 1}:${d.column ?? 1}: ${d.severity ?? 'error'} ${d.code ?? ''}: ${d.message ?? ''}\n`,
      );
    throw err;
  }
}

/**
 * Runs `each` over the files; with several files a failure is reported and the rest go on (an
 * unreachable server stops everything). Returns the exit code.
 */
async function forEachFile<T>(
  ctx: CliContext,
  files: readonly string[],
  each: (file: string) => Promise<T[]>,
  single: boolean,
): Promise<{ results: T[]; code: number }> {
  const results: T[] = [];
  let code: number = EXIT.ok;
  for (const file of files) {
    try {
      results.push(...(await each(file)));
    } catch (err) {
      const e = toNoetlError(err);
      if (single || e.code === 'UNAVAILABLE') throw err;
      const failed = reportError(new NoetlError(e.code, `${shown(file)}: ${e.message}`), ctx.debug());
      if (code === EXIT.ok) code = failed;
    }
  }
  return { results, code };
}

async function registerPlaybookFile(
  client: ControlPlaneClient,
  file: string,
  json: boolean,
  strict: boolean,
): Promise<CatalogRegistered[]> {
  const r = await registerText(client, await readResource(file), file, strict);
  if (!json) print(playbookLine(r, file));
  return [r];
}

/** `noetl register playbook -f FILE | -d DIR`: POST /api/catalog/register per playbook. */
export async function registerPlaybook(
  ctx: CliContext,
  flags: GlobalFlags,
  opts: SourceOptions,
): Promise<number> {
  const source = oneSource(opts, 'playbook');
  const files = 'file' in source ? [source.file] : await findPlaybooks(source.dir);
  if (files.length === 0 && 'dir' in source) {
    throw new NoetlError(
      'FILE_NOT_FOUND',
      `no playbooks under ${source.dir} (YAML files with apiVersion: and kind: Playbook)`,
    );
  }
  const { client } = await connectApi(ctx, flags);
  const json = opts.json === true;
  const strict = strictOf(ctx, opts);
  const { results, code } = await forEachFile(
    ctx,
    files,
    (f) => registerPlaybookFile(client, f, json, strict),
    'file' in source,
  );
  if (json) printJson('file' in source ? results[0] : results);
  return code;
}

async function registerCredentials(
  client: ControlPlaneClient,
  creds: readonly CredentialInput[],
  json: boolean,
): Promise<CredentialView[]> {
  const out: CredentialView[] = [];
  for (const c of creds) {
    const r = await client.registerCredential(c);
    if (!json) print(`registered credential ${r.name} (${r.type})`);
    out.push(r);
  }
  return out;
}

/** `noetl register credential -f FILE | -d DIR`: POST /api/credentials per `{name, type, data}`. */
export async function registerCredential(
  ctx: CliContext,
  flags: GlobalFlags,
  opts: SourceOptions,
): Promise<number> {
  const source = oneSource(opts, 'credential');
  const files = 'file' in source ? [source.file] : await findCredentialFiles(source.dir);
  if (files.length === 0 && 'dir' in source) {
    throw new NoetlError(
      'FILE_NOT_FOUND',
      `no credential files under ${source.dir} (JSON or YAML with name, type and data)`,
    );
  }
  const { client } = await connectApi(ctx, flags);
  const json = opts.json === true;
  const { results, code } = await forEachFile(
    ctx,
    files,
    async (f) => registerCredentials(client, await credentialsIn(f, true), json),
    'file' in source,
  );
  if (json) printJson('file' in source && results.length === 1 ? results[0] : results);
  return code;
}

/** `noetl catalog register FILE`: a playbook, or a credential when the file says `kind: Credential`. */
export async function catalogRegister(
  ctx: CliContext,
  flags: GlobalFlags,
  file: string,
  opts: { json?: boolean; strict?: boolean },
): Promise<number> {
  const text = await readResource(file);
  const doc = await parseData(text, file).catch(() => undefined);
  const kind = isPlainObject(doc) && typeof doc['kind'] === 'string' ? doc['kind'].toLowerCase() : '';
  const { client } = await connectApi(ctx, flags);
  if (kind === 'credential') {
    const cred = credentialOf(doc);
    if (!cred)
      throw new NoetlError('USAGE', `${file}: a credential needs name (or metadata.name), type and data`);
    const [r] = await registerCredentials(client, [cred], opts.json === true);
    if (opts.json) printJson(r);
    return EXIT.ok;
  }
  const r = await registerText(client, text, file, strictOf(ctx, opts));
  if (opts.json) printJson(r);
  else print(playbookLine(r, file));
  return EXIT.ok;
}

/** `noetl catalog get PATH`: the registered content (YAML) on stdout; --json the whole entry. */
export async function catalogGet(
  ctx: CliContext,
  flags: GlobalFlags,
  path: string,
  opts: { version?: string; json?: boolean },
): Promise<number> {
  let version: number | 'latest' | undefined;
  if (opts.version !== undefined) {
    if (opts.version !== 'latest' && !/^\d+$/.test(opts.version)) {
      throw new NoetlError('USAGE', `--version must be a number or 'latest', got '${opts.version}'`);
    }
    version = opts.version === 'latest' ? 'latest' : Number(opts.version);
  }
  const { client } = await connectApi(ctx, flags);
  const entry = await client.catalogResource(path, version);
  if (opts.json) printJson(entry);
  else {
    note(`# ${entry.path} version ${entry.version} (${entry.kind}, catalog id ${entry.catalog_id})`);
    print(entry.content ?? '');
  }
  return EXIT.ok;
}

/** `noetl catalog list [TYPE]`. */
export async function catalogList(
  ctx: CliContext,
  flags: GlobalFlags,
  type: string | undefined,
  opts: { json?: boolean },
): Promise<number> {
  const { client } = await connectApi(ctx, flags);
  const { entries } = await client.catalogList(type);
  if (opts.json) printJson(entries);
  else if (entries.length === 0) print(`no ${type ? `${type} ` : ''}entries in the catalog`);
  else {
    print(
      table(
        ['path', 'version', 'kind', 'catalog_id', 'created'],
        entries.map((e) => [e.path, e.version, e.kind, e.catalog_id, e.created_at]),
      ),
    );
  }
  return EXIT.ok;
}

/** `noetl get credential NAME [--include-data]`. */
export async function getCredential(
  ctx: CliContext,
  flags: GlobalFlags,
  name: string,
  opts: { includeData?: boolean; json?: boolean },
): Promise<number> {
  const { client } = await connectApi(ctx, flags);
  const c = await client.credential(name, opts.includeData === true);
  if (opts.json) {
    printJson(c);
    return EXIT.ok;
  }
  const rows: [string, unknown][] = [
    ['name', c.name],
    ['type', c.type],
    ['id', c.id],
    ['description', c.description],
    ['tags', c.tags && c.tags.length > 0 ? c.tags.join(', ') : undefined],
    ['created', c.created_at],
    ['updated', c.updated_at],
  ];
  const lines = rows
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k.padEnd(12)}${cell(v)}`);
  if (c.data !== undefined) {
    lines.push('data');
    lines.push(
      ...JSON.stringify(c.data, null, 2)
        .split('\n')
        .map((l) => `  ${l}`),
    );
  } else lines.push('data        (hidden; --include-data shows it)');
  print(lines.join('\n'));
  return EXIT.ok;
}
