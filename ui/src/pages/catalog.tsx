import { useState } from 'preact/hooks';
import { ApiError, errorText, post } from '../api/client.js';
import type { CatalogEntry, Diagnostic, Json, RegisterAnswer } from '../api/types.js';
import { ErrorBox } from '../components/status.js';
import { fmtTime } from '../lib/format.js';
import { useLoad } from '../lib/hooks.js';
import { navigate } from '../lib/router.js';

/** The newest version of each path, from the newest-first list. */
function latestOnly(entries: CatalogEntry[]): (CatalogEntry & { versions: number })[] {
  const out = new Map<string, CatalogEntry & { versions: number }>();
  for (const e of entries) {
    const seen = out.get(e.path);
    if (!seen) out.set(e.path, { ...e, versions: 1 });
    else {
      seen.versions++;
      if (e.version > seen.version) out.set(e.path, { ...e, versions: seen.versions });
    }
  }
  return [...out.values()].sort((a, b) => a.path.localeCompare(b.path));
}

export function CatalogPage({ params }: { params: URLSearchParams }) {
  const list = useLoad(() => post<{ entries: CatalogEntry[] }>('/api/catalog/list', {}), []);
  const q = params.get('q') ?? '';
  const kind = params.get('kind') ?? '';
  const entries = latestOnly(list.data?.entries ?? []);
  const kinds = [...new Set(entries.map((e) => e.kind))].sort();
  const shown = entries.filter(
    (e) => (!kind || e.kind === kind) && (!q || e.path.toLowerCase().includes(q.toLowerCase())),
  );
  const setParam = (name: string, value: string) => {
    const p = new URLSearchParams(params);
    if (value) p.set(name, value);
    else p.delete(name);
    navigate(`/catalog${p.toString() ? `?${p.toString()}` : ''}`, true);
  };
  return (
    <section>
      <h1>Catalog</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input
            type="search"
            placeholder="path"
            value={q}
            onInput={(e) => setParam('q', e.currentTarget.value)}
          />
        </label>
        <label>
          Kind
          <select value={kind} onChange={(e) => setParam('kind', e.currentTarget.value)}>
            <option value="">any</option>
            {kinds.map((k) => (
              <option value={k}>{k}</option>
            ))}
          </select>
        </label>
      </form>
      <ErrorBox error={list.error} title="Could not list the catalog" />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>path</th>
              <th>kind</th>
              <th>version</th>
              <th>registered</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr>
                <td>
                  <a href={`/catalog/${e.path}`}>{e.path}</a>
                </td>
                <td>{e.kind}</td>
                <td>
                  {e.version}
                  {e.versions > 1 ? <span class="muted"> ({e.versions} versions)</span> : null}
                </td>
                <td>{fmtTime(e.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data && shown.length === 0 ? <p class="muted">Nothing registered matches.</p> : null}
      <Register onDone={(path) => navigate(`/catalog/${path}`)} />
    </section>
  );
}

function diagnosticsOf(err: unknown): Diagnostic[] {
  if (!(err instanceof ApiError) || !err.details || typeof err.details !== 'object') return [];
  const d = err.details as { [k: string]: Json };
  const list = Array.isArray(d['diagnostics']) ? d['diagnostics'] : typeof d['line'] === 'number' ? [d] : [];
  return list.filter(
    (x): x is Diagnostic & { [k: string]: Json } => typeof x === 'object' && x !== null && !Array.isArray(x),
  );
}

/** Register a playbook by paste or upload; errors come back with line:col. */
function Register({ onDone }: { onDone: (path: string) => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<RegisterAnswer | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const r = await post<RegisterAnswer>('/api/catalog/register', { content: text });
      setResult(r);
      if (r.warnings.length === 0) onDone(r.path);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const diags = diagnosticsOf(error);
  return (
    <section class="panel register">
      <h2>Register a playbook</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label>
          Upload a YAML file
          <input
            type="file"
            accept=".yaml,.yml,text/yaml,application/yaml"
            onChange={(e) => {
              const f = e.currentTarget.files?.[0];
              if (f) f.text().then(setText, (err: unknown) => setError(err));
            }}
          />
        </label>
        <label>
          or paste it
          <textarea
            rows={12}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
            spellcheck={false}
            placeholder={
              'apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: hello }\nworkflow: [...]'
            }
          />
        </label>
        <button type="submit" class="primary" disabled={busy || text.trim() === ''}>
          Register
        </button>
      </form>
      {error ? (
        <div class="error-box" role="alert">
          <strong>Not registered.</strong> {errorText(error)}
          {diags.length ? (
            <ul>
              {diags.map((d) => (
                <li>
                  line {d.line ?? '?'}:{d.col ?? d.column ?? '?'} {d.severity ?? ''} {d.code ?? ''}{' '}
                  {d.message ?? ''}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {result ? (
        <div class="note" role="status">
          {result.message}{' '}
          <a href={`/catalog/${result.path}?version=${result.version}`}>Open {result.path}</a>
          {result.warnings.length ? (
            <ul>
              {result.warnings.map((w) => (
                <li>
                  line {w.line ?? '?'}:{w.column ?? w.col ?? '?'} {w.severity} {w.code}: {w.message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
