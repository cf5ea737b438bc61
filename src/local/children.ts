import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { NoetlError } from '../shared/index.js';

const SKIP_DIRS = new Set(['node_modules', '.git', '.noetl', 'dist']);
const catalogCache = new Map<string, Promise<Map<string, string>>>();

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function* yamlFiles(dir: string, depth = 0): AsyncGenerator<string> {
  if (depth > 8) return;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) yield* yamlFiles(full, depth + 1);
    } else if (/\.ya?ml$/.test(entry.name)) {
      yield full;
    }
  }
}

/** `metadata.path` -> file, for the playbooks under a directory (a local stand-in for the catalog). */
async function localCatalog(dir: string): Promise<Map<string, string>> {
  let hit = catalogCache.get(dir);
  if (!hit) {
    hit = (async () => {
      const index = new Map<string, string>();
      for await (const file of yamlFiles(dir)) {
        try {
          const text = await readFile(file, 'utf8');
          if (!/^kind:\s*Playbook\b/m.test(text)) continue;
          const doc = parse(text) as { metadata?: { path?: unknown; name?: unknown } } | null;
          const key = doc?.metadata?.path ?? doc?.metadata?.name;
          if (typeof key === 'string' && !index.has(key)) index.set(key, file);
        } catch {
          // not a playbook we can read: ignore it here; loading it directly reports the problem
        }
      }
      return index;
    })();
    catalogCache.set(dir, hit);
  }
  return hit;
}

/**
 * The playbook root of a directory: the nearest folder up (itself included) holding a
 * `noetl.yaml` or a `.git`; the directory itself when there is none.
 */
export async function playbookRoot(dir: string): Promise<string> {
  const start = resolve(dir);
  for (let d = start; ; d = dirname(d)) {
    if ((await isFile(join(d, 'noetl.yaml'))) || (await exists(join(d, '.git')))) return d;
    if (dirname(d) === d) return start;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds a child playbook in local mode: a file path relative to the parent's directory, or a
 * catalog path: `<path>.yaml` beside the parent, then a playbook whose `metadata.path` is `path`
 * under the parent's directory, then the same under the playbook root (`root`, default the
 * nearest folder up with a `noetl.yaml` or `.git`), so a parent can call children in sibling
 * folders by catalog path as the server does.
 */
export async function resolveChildPlaybook(path: string, baseDir: string, root?: string): Promise<string> {
  if (path.trim() === '') throw new NoetlError('PLAYBOOK_INVALID', "playbook tool: 'path' is required");
  const looksLikeFile = isAbsolute(path) || path.startsWith('.') || /\.ya?ml$/.test(path);
  const candidates = looksLikeFile
    ? [resolve(baseDir, path)]
    : [resolve(baseDir, `${path}.yaml`), resolve(baseDir, `${path}.yml`)];
  for (const c of candidates) if (await isFile(c)) return c;
  if (!looksLikeFile) {
    const near = await localCatalog(baseDir);
    const file = near.get(path);
    if (file) return file;
    const top = root ?? (await playbookRoot(baseDir));
    let searched = `${near.size} under ${baseDir}`;
    if (resolve(top) !== resolve(baseDir)) {
      for (const c of [join(top, `${path}.yaml`), join(top, `${path}.yml`)]) if (await isFile(c)) return c;
      const far = await localCatalog(top);
      const found = far.get(path);
      if (found) return found;
      searched += ` and ${far.size} under the playbook root ${top}`;
    }
    throw new NoetlError(
      'NOT_FOUND',
      `playbook '${path}' not found: no file ${path}.yaml and no playbook with metadata.path '${path}' among ${searched}`,
    );
  }
  throw new NoetlError('NOT_FOUND', `playbook file not found: ${candidates[0]}`);
}
