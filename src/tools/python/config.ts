import { isPlainObject } from '../../shared/index.js';
import {
  configError,
  optMap,
  optSeconds,
  optString,
  optStringMap,
  pick,
  typeName,
  type ConfigMap,
} from '../config-helpers.js';

export interface PythonConfig {
  /** Inline code, or undefined when `script` names a file. */
  readonly code?: string;
  /** `script.uri` of a local file (relative to the playbook directory). */
  readonly scriptPath?: string;
  readonly input: Readonly<Record<string, unknown>>;
  /** Imports bound as globals before the code runs, in order. */
  readonly libs: readonly PythonLib[];
  /** Lines the run prints to stderr first (e.g. a `libs` list, which is ignored). */
  readonly warnings: readonly string[];
  readonly python?: string;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/** `import module as alias`, or with `name`: `from module import name as alias`. */
export interface PythonLib {
  readonly alias: string;
  readonly module: string;
  readonly name?: string;
}

const KIND = 'python';
const MODULE_RE = /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/;
const ALIAS_RE = /^[A-Za-z_]\w*$/;

function readScript(config: ConfigMap): string | undefined {
  const script = pick(config, 'script');
  if (script === undefined) return undefined;
  const uri = typeof script === 'string' ? script : isPlainObject(script) ? script.uri : undefined;
  if (typeof uri !== 'string' || uri === '') throw configError(KIND, "'script' needs a 'uri'");
  if (uri.startsWith('file://')) return uri.slice('file://'.length);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    throw configError(KIND, `script uri '${uri}' is not supported (only local files)`);
  }
  return uri;
}

/**
 * `libs` as NoETL's python tool reads it: a map of alias to a module name (`{pd: pandas}`) or to
 * `{from: module, import: name}`; anything else (a list of package names, as some playbooks
 * write) is ignored with a warning and the code runs.
 */
function readLibs(config: ConfigMap): { libs: PythonLib[]; warnings: string[] } {
  const raw = pick(config, 'libs');
  if (raw === undefined || raw === null) return { libs: [], warnings: [] };
  if (!isPlainObject(raw)) {
    return {
      libs: [],
      warnings: [
        `noetl: python 'libs' must map an alias to a module (got ${typeName(raw)}); ignored: import in the code instead`,
      ],
    };
  }
  const libs: PythonLib[] = [];
  for (const [alias, spec] of Object.entries(raw)) {
    if (!ALIAS_RE.test(alias))
      throw configError(KIND, `'libs.${alias}': '${alias}' is not a Python identifier`);
    if (typeof spec === 'string' && MODULE_RE.test(spec)) {
      libs.push({ alias, module: spec });
      continue;
    }
    if (isPlainObject(spec)) {
      const from = spec['from'];
      const name = spec['import'];
      if (
        typeof from === 'string' &&
        MODULE_RE.test(from) &&
        typeof name === 'string' &&
        ALIAS_RE.test(name)
      ) {
        libs.push({ alias, module: from, name });
        continue;
      }
    }
    throw configError(KIND, `'libs.${alias}' must be a module name or {from: <module>, import: <name>}`);
  }
  return { libs, warnings: [] };
}

export function readPythonConfig(config: ConfigMap): PythonConfig {
  const rawCode = pick(config, 'code');
  if (rawCode !== undefined && typeof rawCode !== 'string') {
    throw configError(KIND, `'code' must be a string, got ${typeName(rawCode)}`);
  }
  const scriptPath = rawCode === undefined ? readScript(config) : undefined;
  if (rawCode === undefined && scriptPath === undefined) {
    throw configError(KIND, "'code' or 'script' is required");
  }
  const input = optMap(KIND, config, 'input', 'args') ?? {};
  const python = optString(KIND, config, 'python');
  const cwd = optString(KIND, config, 'cwd');
  const env = optStringMap(KIND, config, 'env');
  const timeoutMs = optSeconds(KIND, config, 'timeout_seconds', 'timeout');
  const { libs, warnings } = readLibs(config);
  return {
    ...(rawCode !== undefined ? { code: rawCode } : {}),
    ...(scriptPath !== undefined ? { scriptPath } : {}),
    input,
    libs,
    warnings,
    ...(python !== undefined ? { python } : {}),
    ...(cwd !== undefined ? { cwd } : {}),
    ...(env !== undefined ? { env } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}
