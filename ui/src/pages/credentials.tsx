import { useState } from 'preact/hooks';
import { ApiError, api, errorText, get, post } from '../api/client.js';
import type { Credential } from '../api/types.js';
import { ErrorBox } from '../components/status.js';
import { fmtTime } from '../lib/format.js';
import { useLoad } from '../lib/hooks.js';

interface Row {
  key: string;
  value: string;
}

/** Create or edit a credential. Secret values are write-only: the form never shows stored ones. */
function CredentialForm({
  existing,
  onDone,
  onCancel,
}: {
  existing: Credential | null;
  onDone: () => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(existing?.name ?? '');
  const [type, setType] = useState(existing?.type ?? 'generic');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [tags, setTags] = useState((existing?.tags ?? []).join(', '));
  const [rows, setRows] = useState<Row[]>([{ key: '', value: '' }]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const setRow = (i: number, r: Partial<Row>) =>
    setRows((rs) => rs.map((x, j) => (j === i ? { ...x, ...r } : x)));
  const submit = async () => {
    const data: Record<string, string> = {};
    for (const r of rows) if (r.key.trim()) data[r.key.trim()] = r.value;
    const tagList = tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    setBusy(true);
    setError(null);
    try {
      if (existing) {
        // A merge update: only the fields given change; data keys given replace theirs, the others stay.
        const body: Record<string, unknown> = { type, description, tags: tagList };
        if (Object.keys(data).length) body['data'] = data;
        try {
          await api('PATCH', `/api/credentials/${encodeURIComponent(existing.name)}`, body);
        } catch (err) {
          if (err instanceof ApiError && err.missingRoute)
            throw new Error(
              'This server cannot update a credential in place (no PATCH route): delete it and create it again.',
            );
          throw err;
        }
      } else {
        if (!name.trim()) throw new Error('a name is required');
        if (Object.keys(data).length === 0) throw new Error('at least one data field is required');
        await post('/api/credentials', { name: name.trim(), type, description, tags: tagList, data });
      }
      onDone();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="panel credential-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2>{existing ? `Edit ${existing.name}` : 'New credential'}</h2>
      <div class="form-grid">
        <label>
          Name
          <input
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            disabled={existing !== null}
            required
            autocomplete="off"
          />
        </label>
        <label>
          Type
          <input value={type} onInput={(e) => setType(e.currentTarget.value)} list="credential-types" />
          <datalist id="credential-types">
            {[
              'generic',
              'postgres',
              'http',
              'bearer',
              'basic',
              'api_key',
              'gcp',
              'aws',
              'snowflake',
              'duckdb',
            ].map((t) => (
              <option value={t} />
            ))}
          </datalist>
        </label>
        <label>
          Description
          <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <label>
          Tags (comma separated)
          <input value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
        </label>
      </div>
      <fieldset>
        <legend>
          Data {existing ? '(fields you fill replace theirs; stored values are never shown)' : ''}
        </legend>
        {rows.map((r, i) => (
          <div class="kv">
            <input
              aria-label={`field ${i + 1} name`}
              placeholder="field, e.g. password"
              value={r.key}
              onInput={(e) => setRow(i, { key: e.currentTarget.value })}
              autocomplete="off"
            />
            <input
              aria-label={`field ${i + 1} value`}
              type="password"
              placeholder="value"
              value={r.value}
              onInput={(e) => setRow(i, { value: e.currentTarget.value })}
              autocomplete="new-password"
            />
            <button
              type="button"
              aria-label={`remove field ${i + 1}`}
              onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}
            >
              ✕
            </button>
          </div>
        ))}
        <button type="button" onClick={() => setRows((rs) => [...rs, { key: '', value: '' }])}>
          Add field
        </button>
      </fieldset>
      {error ? (
        <div class="error-box" role="alert">
          {error}
        </div>
      ) : null}
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {existing ? 'Save changes' : 'Create'}
        </button>
      </div>
    </form>
  );
}

export function CredentialsPage() {
  const [q, setQ] = useState('');
  const list = useLoad(
    () => get<{ items: Credential[] }>(`/api/credentials${q ? `?q=${encodeURIComponent(q)}` : ''}`),
    [q],
  );
  const [editing, setEditing] = useState<Credential | 'new' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const remove = async (c: Credential) => {
    if (!confirm(`Delete the credential ${c.name}? Playbooks that use it will fail.`)) return;
    try {
      await api('DELETE', `/api/credentials/${encodeURIComponent(c.name)}`);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section>
      <div class="title-row">
        <h1>Credentials</h1>
        <button type="button" class="primary" onClick={() => setEditing('new')}>
          New credential
        </button>
      </div>
      <p class="muted">
        Secret values are write-only: they are stored encrypted and never sent back to the browser.
      </p>
      {editing ? (
        <CredentialForm
          key={editing === 'new' ? 'new' : editing.id}
          existing={editing === 'new' ? null : editing}
          onCancel={() => setEditing(null)}
          onDone={() => {
            setEditing(null);
            list.reload();
          }}
        />
      ) : null}
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input
            type="search"
            value={q}
            onChange={(e) => setQ(e.currentTarget.value)}
            placeholder="name or description"
          />
        </label>
      </form>
      <ErrorBox error={list.error ?? error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>name</th>
              <th>type</th>
              <th>description</th>
              <th>tags</th>
              <th>updated</th>
              <th>
                <span class="sr-only">actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(list.data?.items ?? []).map((c) => (
              <tr data-credential={c.name}>
                <td>{c.name}</td>
                <td>{c.type}</td>
                <td>{c.description ?? ''}</td>
                <td>{(c.tags ?? []).join(', ')}</td>
                <td>{fmtTime(c.updated_at)}</td>
                <td class="row-actions">
                  <button type="button" onClick={() => setEditing(c)}>
                    Edit
                  </button>
                  <button type="button" class="danger" onClick={() => void remove(c)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data && list.data.items.length === 0 ? <p class="muted">No credential yet.</p> : null}
    </section>
  );
}
