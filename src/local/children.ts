import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
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
 * Finds a child playbook in local mode: a file path relative to the parent's directory, or a
 * catalog path matched against `metadata.path` of the playbooks under that directory.
 */
export async function resolveChildPlaybook(path: string, baseDir: string): Promise<string> {
  if (path.trim() === '') throw new NoetlError('PLAYBOOK_INVALID', "playbook tool: 'path' is required");
  const looksLikeFile = isAbsolute(path) || path.startsWith('.') || /\.ya?ml$/.test(path);
  const candidates = looksLikeFile
    ? [resolve(baseDir, path)]
    : [resolve(baseDir, `${path}.yaml`), resolve(baseDir, `${path}.yml`)];
  for (const c of candidates) if (await isFile(c)) return c;
  if (!looksLikeFile) {
    const index = await localCatalog(baseDir);
    const file = index.get(path);
    if (file) return file;
    throw new NoetlError(
      'NOT_FOUND',
      `playbook '${path}' not found: no file ${path}.yaml and no playbook with metadata.path '${path}' among ${index.size} under ${baseDir}`,
    );
  }
  throw new NoetlError('NOT_FOUND', `playbook file not found: ${candidates[0]}`);
}
