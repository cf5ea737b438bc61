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
import { readScriptSource, type ScriptSource } from '../script-source.js';

export interface PythonConfig {
  /** Inline code, or undefined when `script` gives the code. */
  readonly code?: string;
  /** Where `script:` says the code is (inline, a file, an http URL). */
  readonly script?: ScriptSource;
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
  const rawScript = pick(config, 'script');
  const script =
    rawCode === undefined && rawScript !== undefined ? readScriptSource(KIND, rawScript) : undefined;
  if (rawCode === undefined && script === undefined) {
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
    ...(script !== undefined ? { script } : {}),
    input,
    libs,
    warnings,
    ...(python !== undefined ? { python } : {}),
    ...(cwd !== undefined ? { cwd } : {}),
    ...(env !== undefined ? { env } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}
