import {
  checkKeys,
  EXECUTOR_KEYS,
  EXECUTOR_REQUIRES_KEYS,
  EXECUTOR_SPEC_KEYS,
  WORKBOOK_ENTRY_KEYS,
} from './known-keys.js';
import { normalizeToolAt } from './normalize-tool.js';
import { has, isMap, present, show, type Path, type RawMap } from './raw.js';
import type { Reporter } from './reporter.js';
import type { ExecutorSpec, KeychainEntry, PlaybookMetadata, WorkbookEntry } from './types.js';

/** A map-valued key; absent or null gives `{}`. Reports INVALID_TYPE otherwise. */
export function mapAt(parent: RawMap, key: string, path: Path, rep: Reporter): RawMap | undefined {
  const value = present(parent, key);
  if (value === undefined || value === null) return undefined;
  if (isMap(value)) return value;
  rep.error('INVALID_TYPE', [...path, key], `\`${key}\` must be a map`);
  return undefined;
}

function optionalString(parent: RawMap, key: string, path: Path, rep: Reporter): string | undefined {
  const value = present(parent, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  rep.error('INVALID_TYPE', [...path, key], `\`${key}\` must be a string`);
  return undefined;
}

export function normalizeMetadata(root: RawMap, rep: Reporter): PlaybookMetadata | undefined {
  const raw = present(root, 'metadata');
  if (raw === undefined || raw === null) {
    rep.error('MISSING_FIELD', [], 'missing `metadata:` with at least `name:`');
    return undefined;
  }
  if (!isMap(raw)) {
    rep.error('INVALID_TYPE', ['metadata'], '`metadata` must be a map with `name:`');
    return undefined;
  }
  const path = ['metadata'];
  const name = present(raw, 'name');
  if (name === undefined || name === null || name === '') {
    rep.error('MISSING_FIELD', path, 'missing `metadata.name`');
    return undefined;
  }
  if (typeof name !== 'string') {
    rep.error('INVALID_TYPE', [...path, 'name'], '`metadata.name` must be a string');
    return undefined;
  }
  const filePath = optionalString(raw, 'path', path, rep);
  const description = optionalString(raw, 'description', path, rep);
  const version = optionalString(raw, 'version', path, rep);
  const labels = mapAt(raw, 'labels', path, rep);
  return {
    name,
    path: filePath !== undefined && filePath !== '' ? filePath : name,
    ...(description !== undefined ? { description } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(labels ? { labels } : {}),
    raw,
  };
}

export function normalizeKeychain(root: RawMap, rep: Reporter): KeychainEntry[] {
  const raw = present(root, 'keychain');
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    rep.error('KEYCHAIN_INVALID', ['keychain'], '`keychain` must be a list of `{name, kind, ...}`');
    return [];
  }
  const entries: KeychainEntry[] = [];
  const seen = new Set<string>();
  raw.forEach((item, i) => {
    const path = ['keychain', i];
    if (!isMap(item)) {
      rep.error('KEYCHAIN_INVALID', path, 'a keychain entry must be a map `{name, kind, ...}`');
      return;
    }
    const name = present(item, 'name');
    if (typeof name !== 'string' || name === '') {
      rep.error('KEYCHAIN_INVALID', path, 'a keychain entry needs `name:`');
      return;
    }
    if (seen.has(name))
      rep.error('KEYCHAIN_INVALID', [...path, 'name'], `keychain entry ${show(name)} is defined twice`);
    seen.add(name);
    const kind = present(item, 'kind');
    if (kind !== undefined && typeof kind !== 'string')
      rep.error(
        'KEYCHAIN_INVALID',
        [...path, 'kind'],
        '`kind` must be a string (e.g. secrets, bearer, static)',
      );
    else if (kind === undefined)
      rep.warning('KEYCHAIN_INVALID', path, `keychain entry ${show(name)} has no \`kind\``);
    rep.templates(item, path);
    entries.push({ name, kind: typeof kind === 'string' ? kind : '', fields: item });
  });
  return entries;
}

/**
 * Root `workbook` (a list of `{name, tool}`). Each entry's tool is checked here, once; steps that
 * reference it get the entry's raw tool (see normalize-tool `resolveWorkbook`).
 */
export function normalizeWorkbook(
  root: RawMap,
  rep: Reporter,
  kinds: ReadonlySet<string>,
): { entries: WorkbookEntry[]; byName: Map<string, RawMap> } {
  const entries: WorkbookEntry[] = [];
  const byName = new Map<string, RawMap>();
  const raw = present(root, 'workbook');
  if (raw === undefined || raw === null) return { entries, byName };
  if (!Array.isArray(raw)) {
    const hint = isMap(raw)
      ? ' (a map is the documented form; NoETL code reads a list of `{name, tool}`)'
      : '';
    rep.error('INVALID_TYPE', ['workbook'], `\`workbook\` must be a list of \`{name, tool}\`${hint}`);
    return { entries, byName };
  }
  raw.forEach((item, i) => {
    const path = ['workbook', i];
    if (!isMap(item)) {
      rep.error('INVALID_TYPE', path, 'a workbook entry must be a map `{name, tool}`');
      return;
    }
    const name = present(item, 'name');
    if (typeof name !== 'string' || name === '') {
      rep.error('MISSING_FIELD', path, 'a workbook entry needs `name:`');
      return;
    }
    checkKeys(item, WORKBOOK_ENTRY_KEYS, path, `workbook entry '${name}'`, rep);
    const tool = present(item, 'tool');
    if (!isMap(tool)) {
      rep.error(
        tool === undefined || tool === null ? 'MISSING_FIELD' : 'INVALID_TYPE',
        has(item, 'tool') ? [...path, 'tool'] : path,
        'a workbook entry needs `tool:` as a single map `{kind: ..., ...}`',
      );
      return;
    }
    if (tool.kind === 'workbook')
      rep.error(
        'UNKNOWN_WORKBOOK',
        [...path, 'tool', 'kind'],
        'a workbook entry cannot reference another workbook entry',
      );
    normalizeToolAt(tool, name, [...path, 'tool'], rep, { kinds });
    if (byName.has(name)) {
      rep.error('DUPLICATE_NAME', [...path, 'name'], `workbook entry ${show(name)} is defined twice`);
      return;
    }
    byName.set(name, tool);
    entries.push({ name, tool });
  });
  return { entries, byName };
}

const PROFILES: ReadonlySet<string> = new Set(['local', 'distributed', 'auto']);

function isProfile(value: unknown): value is ExecutorSpec['profile'] {
  return typeof value === 'string' && PROFILES.has(value);
}

function stepName(parent: RawMap, key: string, path: Path, rep: Reporter): string | undefined {
  const value = present(parent, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value !== '') return value;
  rep.error('EXECUTOR_INVALID', [...path, key], `\`${key}\` must be a step name`);
  return undefined;
}

/** Root `executor` (used by the local runtime: entry/final step, required tools). */
export function normalizeExecutor(root: RawMap, rep: Reporter): ExecutorSpec | undefined {
  const raw = present(root, 'executor');
  if (raw === undefined || raw === null) return undefined;
  const path = ['executor'];
  if (!isMap(raw)) {
    rep.error('EXECUTOR_INVALID', path, '`executor` must be a map `{profile, version, requires, spec}`');
    return undefined;
  }
  checkKeys(raw, EXECUTOR_KEYS, path, '`executor`', rep);
  const profileRaw = present(raw, 'profile') ?? 'auto';
  const profile = isProfile(profileRaw) ? profileRaw : 'auto';
  if (!isProfile(profileRaw))
    rep.error(
      'EXECUTOR_INVALID',
      [...path, 'profile'],
      `\`profile\` must be local, distributed or auto, not ${show(profileRaw)}`,
    );
  const version = present(raw, 'version');
  if (version !== undefined && version !== null && typeof version !== 'string')
    rep.error('EXECUTOR_INVALID', [...path, 'version'], '`version` must be a string like noetl-runtime/1');

  const requiresTools: string[] = [];
  const requires = present(raw, 'requires');
  if (requires !== undefined && requires !== null) {
    const tools = isMap(requires) ? (present(requires, 'tools') ?? []) : undefined;
    if (!Array.isArray(tools) || !tools.every((t): t is string => typeof t === 'string'))
      rep.error(
        'EXECUTOR_INVALID',
        [...path, 'requires'],
        '`requires` must be a map `{tools: [kind, ...], features: [...]}`',
      );
    else requiresTools.push(...tools);
    if (isMap(requires))
      checkKeys(requires, EXECUTOR_REQUIRES_KEYS, [...path, 'requires'], '`executor.requires`', rep);
  }

  const spec = present(raw, 'spec');
  let entryStep: string | undefined;
  let finalStep: string | undefined;
  let noNextIsError = false;
  if (spec !== undefined && spec !== null) {
    const specPath = [...path, 'spec'];
    if (!isMap(spec)) rep.error('EXECUTOR_INVALID', specPath, '`executor.spec` must be a map');
    else {
      checkKeys(spec, EXECUTOR_SPEC_KEYS, specPath, '`executor.spec`', rep);
      entryStep = stepName(spec, 'entry_step', specPath, rep);
      finalStep = stepName(spec, 'final_step', specPath, rep);
      const nn = present(spec, 'no_next_is_error');
      if (typeof nn === 'boolean') noNextIsError = nn;
      else if (nn !== undefined && nn !== null)
        rep.error(
          'EXECUTOR_INVALID',
          [...specPath, 'no_next_is_error'],
          '`no_next_is_error` must be true or false',
        );
    }
  }
  return {
    profile,
    ...(typeof version === 'string' ? { version } : {}),
    requiresTools,
    ...(entryStep !== undefined ? { entryStep } : {}),
    ...(finalStep !== undefined ? { finalStep } : {}),
    noNextIsError,
  };
}
