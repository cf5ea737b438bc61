import { isPlainObject } from '../shared/index.js';

/**
 * `/docs`: a self-contained HTML page of the API built from the OpenAPI document (no CDN, no
 * script): one section per tag, each operation with its parameters and request body schema.
 */

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function obj(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly summary: string;
  readonly description: string;
  readonly parameters: readonly Record<string, unknown>[];
  readonly body: unknown;
  readonly secured: boolean;
}

function operationsOf(doc: Record<string, unknown>): Map<string, Operation[]> {
  const byTag = new Map<string, Operation[]>();
  const globalSecurity = Array.isArray(doc['security']) && doc['security'].length > 0;
  for (const [path, item] of Object.entries(obj(doc['paths']))) {
    for (const method of METHODS) {
      const op = obj(obj(item)[method]);
      if (Object.keys(op).length === 0) continue;
      const tags = Array.isArray(op['tags']) ? op['tags'].map(str) : [];
      const content = obj(obj(op['requestBody'])['content']);
      const firstContent = Object.values(content)[0];
      const security = op['security'];
      const entry: Operation = {
        method: method.toUpperCase(),
        path,
        summary: str(op['summary']),
        description: str(op['description']),
        parameters: Array.isArray(op['parameters']) ? op['parameters'].map(obj) : [],
        body: firstContent === undefined ? undefined : obj(firstContent)['schema'],
        secured: Array.isArray(security) ? security.length > 0 : globalSecurity,
      };
      const tag = tags[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), entry]);
    }
  }
  return byTag;
}

function renderOperation(op: Operation): string {
  const params = op.parameters
    .map((p) => {
      const schema = obj(p['schema']);
      const type = str(schema['type']) || 'value';
      const required = p['required'] === true ? ' <em>required</em>' : '';
      const desc = str(p['description']) || str(schema['description']);
      return `<li><code>${esc(str(p['name']))}</code> (${esc(str(p['in']))}, ${esc(type)})${required}${desc ? ` — ${esc(desc)}` : ''}</li>`;
    })
    .join('');
  const body =
    op.body === undefined
      ? ''
      : `<details><summary>request body</summary><pre>${esc(JSON.stringify(op.body, null, 2))}</pre></details>`;
  return `<div class="op">
<h3><span class="m m-${op.method.toLowerCase()}">${op.method}</span> <code>${esc(op.path)}</code>${op.secured ? '' : ' <small>(no token)</small>'}</h3>
${op.summary ? `<p>${esc(op.summary)}</p>` : ''}${op.description ? `<p class="d">${esc(op.description)}</p>` : ''}
${params ? `<ul>${params}</ul>` : ''}${body}
</div>`;
}

/** The HTML of `/docs` for an OpenAPI document. */
export function renderDocsPage(document: unknown): string {
  const doc = obj(document);
  const info = obj(doc['info']);
  const title = str(info['title']) || 'API';
  const sections = [...operationsOf(doc).entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([tag, ops]) =>
        `<section><h2 id="${esc(tag)}">${esc(tag)}</h2>${ops
          .sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method))
          .map(renderOperation)
          .join('\n')}</section>`,
    );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
.op{margin:1em 0;padding:.4em .8em;border-left:3px solid #ccc}
.op h3{font-size:1em;margin:.2em 0}
.m{display:inline-block;min-width:4.5em;font-family:monospace;font-weight:bold}
.m-get{color:#1a7f37}.m-post{color:#0550ae}.m-delete{color:#cf222e}.m-put{color:#9a6700}
pre{background:#f6f8fa;padding:.6em;overflow:auto;font-size:13px}
.d{color:#555}small{color:#777}
</style></head><body>
<h1>${esc(title)} <small>${esc(str(info['version']))}</small></h1>
<p>${esc(str(info['description']))}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Errors are JSON
<code>{"error", "status", "code"}</code>; snowflake ids are strings.</p>
${sections.join('\n')}
</body></html>
`;
}
