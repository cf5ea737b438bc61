import { isPlainObject } from '../../shared/index.js';
import { configError, optString, type ConfigMap } from '../config-helpers.js';

/**
 * The `artifact` tool's config, as NoETL's worker reads it (noetl/tools/artifact/executor.py):
 * `action` (`get`, the default, or `put`), `uri` or `result_ref` (a `noetl://` reference, or the
 * `{kind: result_ref, ref}` object put gives back, or `{{ step._ref }}` of a step whose `output:`
 * kept its result in the store), `data` (put), and for put a `uri`
 * of `artifact://<name>` names the value (default: the step's name; `name:` is a task's label). Keys may also sit under `input:`/`args:`,
 * as NoETL's Rust tool reads `input.result_ref`. `credential` and `compress` are accepted and
 * unused here: values live in the result store, never in a bucket.
 */
export type ArtifactConfig =
  | { readonly action: 'get'; readonly ref: string }
  | { readonly action: 'put'; readonly name: string | undefined; readonly data: unknown };

const KIND = 'artifact';

/** `input:`/`args:` keys under the top-level ones (the top level wins). */
function merged(config: ConfigMap): ConfigMap {
  const nested = [config['input'], config['args']].filter(isPlainObject);
  return Object.assign({}, ...nested, config) as ConfigMap;
}

function refOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (isPlainObject(value) && typeof value['ref'] === 'string') return value['ref'];
  // a whole externalized step value (`{{ step }}`): its `_ref`
  if (isPlainObject(value) && typeof value['_ref'] === 'string') return value['_ref'];
  return undefined;
}

export function readArtifactConfig(raw: ConfigMap): ArtifactConfig {
  const config = merged(raw);
  const action = optString(KIND, config, 'action') ?? 'get';
  const uri = optString(KIND, config, 'uri');
  if (action === 'get') {
    const ref = uri ?? refOf(config['result_ref']) ?? refOf(config['ref']);
    if (ref === undefined) throw configError(KIND, "get needs 'uri' or 'result_ref' (what put returned)");
    return { action, ref };
  }
  if (action === 'put') {
    if (config['data'] === undefined) throw configError(KIND, "put needs 'data'");
    let name: string | undefined;
    if (uri !== undefined) {
      const m = /^artifact:\/\/(.+)$/.exec(uri);
      if (!m) {
        throw configError(
          KIND,
          `put stores values in the result store; 'uri' may be artifact://<name>, not ${uri.split(':')[0]}:`,
        );
      }
      name = m[1]!.replace(/^\/+|\/+$/g, '');
    }
    return { action, name, data: config['data'] };
  }
  throw configError(KIND, `action '${action}' is not supported (get, put)`);
}
