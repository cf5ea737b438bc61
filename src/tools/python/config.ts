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
  readonly libs: Readonly<Record<string, string>>;
  readonly python?: string;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
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

function readLibs(config: ConfigMap): Record<string, string> {
  const libs = optMap(KIND, config, 'libs');
  const out: Record<string, string> = {};
  if (!libs) return out;
  for (const [alias, module] of Object.entries(libs)) {
    if (typeof module !== 'string' || !MODULE_RE.test(module) || !ALIAS_RE.test(alias)) {
      throw configError(KIND, `'libs.${alias}' must map an identifier to a module name`);
    }
    out[alias] = module;
  }
  return out;
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
  return {
    ...(rawCode !== undefined ? { code: rawCode } : {}),
    ...(scriptPath !== undefined ? { scriptPath } : {}),
    input,
    libs: readLibs(config),
    ...(python !== undefined ? { python } : {}),
    ...(cwd !== undefined ? { cwd } : {}),
    ...(env !== undefined ? { env } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}
