import type { Diagnostic } from '../api/types.js';

/** Tokens of one YAML line for highlighting; rendered as text nodes (never as HTML). */
function tokens(line: string): { cls: string; text: string }[] {
  const out: { cls: string; text: string }[] = [];
  const m = /^(\s*-?\s*)([\w.-]+)(\s*:)(.*)$/.exec(line);
  let rest = line;
  if (m) {
    out.push(
      { cls: '', text: m[1] ?? '' },
      { cls: 'y-key', text: m[2] ?? '' },
      { cls: 'y-punct', text: m[3] ?? '' },
    );
    rest = m[4] ?? '';
  }
  const re =
    /(#.*$)|("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')|(\{\{.*?\}\})|(\b(?:true|false|null)\b|\b-?\d+(?:\.\d+)?\b)/g;
  let last = 0;
  for (let t = re.exec(rest); t; t = re.exec(rest)) {
    if (t.index > last) out.push({ cls: '', text: rest.slice(last, t.index) });
    out.push({ cls: t[1] ? 'y-comment' : t[2] ? 'y-string' : t[3] ? 'y-template' : 'y-scalar', text: t[0] });
    last = t.index + t[0].length;
  }
  if (last < rest.length) out.push({ cls: '', text: rest.slice(last) });
  return out;
}

/** YAML with line numbers, light highlighting, and diagnostics shown under their lines. */
export function YamlView({ text, diagnostics = [] }: { text: string; diagnostics?: Diagnostic[] }) {
  const byLine = new Map<number, Diagnostic[]>();
  for (const d of diagnostics) {
    const line = d.line ?? 0;
    byLine.set(line, [...(byLine.get(line) ?? []), d]);
  }
  const lines = text.replace(/\n$/, '').split('\n');
  const orphans = byLine.get(0) ?? [];
  return (
    <div class="yaml" role="region" aria-label="Playbook YAML" tabIndex={0}>
      {orphans.map((d) => (
        <div class={`diag diag-${d.severity}`}>
          {d.severity} {d.code}: {d.message}
        </div>
      ))}
      <ol>
        {lines.map((line, i) => {
          const diags = byLine.get(i + 1);
          return (
            <li
              class={
                diags
                  ? `has-diag diag-${diags.some((d) => d.severity === 'error') ? 'error' : 'warning'}`
                  : ''
              }
              id={`L${i + 1}`}
            >
              <code>
                {tokens(line).map((t) => (t.cls ? <span class={t.cls}>{t.text}</span> : t.text))}
                {'\n'}
              </code>
              {diags?.map((d) => (
                <div class={`diag diag-${d.severity}`} role="note">
                  {i + 1}:{d.col ?? d.column ?? 1} {d.severity} {d.code}: {d.message}
                </div>
              ))}
            </li>
          );
        })}
      </ol>
    </div>
  );
}
