import { parse as parseYaml } from 'yaml';
import { isPlainObject } from '../../shared/index.js';
import type { JsonValue } from '../../shared/index.js';

/**
 * The run form of a catalog entry (`GET /api/catalog/{path}/ui_schema`), inferred from its
 * workload as NoETL does: a field per top-level workload key, its kind from the default's type,
 * nested maps as children, and `# ui:` comment directives on the key's line
 * (`# ui:secret`, `# ui:enum=[a,b]`, `# ui:credential=pg_*`, `# ui:description=...`).
 */

export interface UiField {
  readonly name: string;
  readonly kind: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null' | 'enum';
  readonly default: JsonValue;
  readonly description: string | null;
  readonly secret: boolean;
  readonly credential_glob: string | null;
  readonly options?: readonly JsonValue[];
  readonly children?: readonly UiField[];
}

type Directives = Record<string, string | true | string[]>;

const DIRECTIVE_RE = /#\s*ui:([A-Za-z_][A-Za-z0-9_]*)(?:\s*=\s*([^\n#]*?))?(?=\s+#|\s*$)/g;
const TOP_KEY_RE = /^( {2,})([A-Za-z_][A-Za-z0-9_-]*)\s*:/;

function directiveValue(text: string): string | string[] {
  const t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) {
    return t
      .slice(1, -1)
      .split(',')
      .map((s) => s.trim().replace(/^['"]|['"]$/g, ''))
      .filter((s) => s !== '');
  }
  const quoted = /^(['"])(.*)\1$/.exec(t);
  return quoted ? (quoted[2] ?? '') : t;
}

/** `# ui:` directives per top-level workload key, from the raw text. */
function scanDirectives(text: string): Map<string, Directives> {
  const out = new Map<string, Directives>();
  let inWorkload = false;
  let keyIndent = -1;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const indent = line.length - trimmed.length;
    if (indent === 0) {
      inWorkload = /^workload\s*:/.test(trimmed);
      keyIndent = -1;
      continue;
    }
    if (!inWorkload) continue;
    const m = TOP_KEY_RE.exec(line);
    if (!m) continue;
    const width = m[1]?.length ?? 0;
    if (keyIndent === -1) keyIndent = width;
    if (width !== keyIndent) continue;
    const found: Directives = {};
    for (const d of line.matchAll(DIRECTIVE_RE)) {
      const key = d[1] ?? '';
      const raw = d[2];
      found[key] = raw === undefined || raw.trim() === '' ? true : directiveValue(raw);
    }
    if (Object.keys(found).length > 0) out.set(m[2] ?? '', found);
  }
  return out;
}

function field(name: string, value: unknown, directives: Directives): UiField {
  const rawDescription = directives['description'];
  const description = Array.isArray(rawDescription)
    ? rawDescription.join(', ')
    : typeof rawDescription === 'string'
      ? rawDescription
      : null;
  const credential = directives['credential'];
  const base = {
    name,
    default: (value ?? null) as JsonValue,
    description,
    secret: directives['secret'] !== undefined,
    credential_glob: typeof credential === 'string' ? credential : null,
  };
  const options = directives['enum'];
  if (options !== undefined) {
    return { ...base, kind: 'enum', options: Array.isArray(options) ? options : [String(options)] };
  }
  if (isPlainObject(value)) {
    return { ...base, kind: 'object', children: Object.entries(value).map(([k, v]) => field(k, v, {})) };
  }
  if (Array.isArray(value)) return { ...base, kind: 'array' };
  if (typeof value === 'boolean') return { ...base, kind: 'boolean' };
  if (typeof value === 'number') return { ...base, kind: Number.isInteger(value) ? 'integer' : 'number' };
  if (value === null || value === undefined) return { ...base, kind: 'null' };
  return { ...base, kind: 'string' };
}

/** Fields of the workload of a YAML text; empty when there is no workload map. */
export function inferUiFields(text: string): UiField[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    return [];
  }
  const workload = isPlainObject(doc) ? doc['workload'] : undefined;
  if (!isPlainObject(workload)) return [];
  const directives = scanDirectives(text);
  return Object.entries(workload).map(([k, v]) => field(k, v, directives.get(k) ?? {}));
}
