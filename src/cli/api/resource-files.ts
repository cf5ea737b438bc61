import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { CredentialInput } from '../../client/index.js';
import { errorMessage, isPlainObject, NoetlError } from '../../shared/index.js';

/** Reads a file for registration; a missing one is FILE_NOT_FOUND (exit 2). */
export async function readResource(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR')
      throw new NoetlError('FILE_NOT_FOUND', `file not found: ${file}`);
    throw new NoetlError('FILE_NOT_FOUND', `cannot read ${file}: ${errorMessage(err)}`);
  }
}

/** Every file under `dir` (recursively, skipping dot-directories and node_modules), sorted. */
async function walk(dir: string): Promise<string[]> {
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new NoetlError('FILE_NOT_FOUND', `not a directory: ${dir}`);
    names = await readdir(dir);
  } catch (err) {
    if (err instanceof NoetlError) throw err;
    throw new NoetlError('FILE_NOT_FOUND', `directory not found: ${dir}`);
  }
  const out: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.') || name === 'node_modules') continue;
    const path = join(dir, name);
    const s = await stat(path).catch(() => undefined);
    if (s?.isDirectory()) out.push(...(await walk(path)));
    else if (s?.isFile()) out.push(path);
  }
  return out;
}

const YAML_EXT = new Set(['.yaml', '.yml']);

/** A YAML playbook as NoETL's CLI recognises one in a directory: `apiVersion:` and `kind: Playbook`. */
export function looksLikePlaybook(text: string): boolean {
  return /^apiVersion:/m.test(text) && /^kind:\s*["']?Playbook["']?\s*(#.*)?$/m.test(text);
}

/** The playbook files under `dir`. */
export async function findPlaybooks(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const file of await walk(dir)) {
    if (!YAML_EXT.has(extname(file).toLowerCase())) continue;
    if (looksLikePlaybook(await readFile(file, 'utf8'))) out.push(file);
  }
  return out;
}

/** JSON or YAML (by extension; YAML is loaded only when needed). */
export async function parseData(text: string, file: string): Promise<unknown> {
  if (extname(file).toLowerCase() === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new NoetlError('USAGE', `${file}: not valid JSON: ${errorMessage(err)}`);
    }
  }
  const { parse } = await import('yaml');
  try {
    return parse(text) as unknown;
  } catch (err) {
    throw new NoetlError('YAML_SYNTAX', `${file}: ${errorMessage(err).split('\n')[0] ?? ''}`);
  }
}

/**
 * A credential from a document: `{name, type, data}` (NoETL's credential files), or
 * `kind: Credential` with `metadata.name` and `spec.{type, data}`; undefined when it is neither.
 */
export function credentialOf(doc: unknown): CredentialInput | undefined {
  if (!isPlainObject(doc)) return undefined;
  const metadata = isPlainObject(doc['metadata']) ? doc['metadata'] : {};
  const spec = isPlainObject(doc['spec']) ? doc['spec'] : {};
  const name = doc['name'] ?? metadata['name'];
  const type = doc['type'] ?? spec['type'];
  const data = doc['data'] ?? spec['data'];
  if (typeof name !== 'string' || typeof type !== 'string' || !isPlainObject(data)) return undefined;
  const description = doc['description'] ?? metadata['description'];
  const tags = doc['tags'];
  return {
    name,
    type,
    data,
    ...(typeof description === 'string' ? { description } : {}),
    ...(Array.isArray(tags) && tags.every((t) => typeof t === 'string') ? { tags: tags } : {}),
    ...(doc['meta'] !== undefined ? { meta: doc['meta'] } : {}),
  };
}

/** The credentials a file holds: one document, or a list of them. Errors name the file. */
export async function credentialsIn(file: string, strict: boolean): Promise<CredentialInput[]> {
  const doc = await parseData(await readResource(file), file);
  const docs = Array.isArray(doc) ? doc : [doc];
  const out: CredentialInput[] = [];
  for (const [i, d] of docs.entries()) {
    const c = credentialOf(d);
    if (c) {
      out.push(c);
    } else if (strict) {
      const where = docs.length > 1 ? ` (item ${i + 1})` : '';
      throw new NoetlError('USAGE', `${file}${where}: a credential needs name, type and a data map`);
    }
  }
  return out;
}

/** The credential files under `dir`: JSON or YAML holding `{name, type, data}` documents. */
export async function findCredentialFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const file of await walk(dir)) {
    const ext = extname(file).toLowerCase();
    if (ext !== '.json' && !YAML_EXT.has(ext)) continue;
    const found = await credentialsIn(file, false).catch(() => []);
    if (found.length > 0) out.push(file);
  }
  return out;
}
