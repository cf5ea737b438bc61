import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorText } from '../api/client.js';
import {
  CREDENTIAL_TYPES,
  createCredential,
  credentialFields,
  deleteCredential,
  listCredentials,
  patchCredential,
  type Credential,
  type CredentialPatch,
} from '../api/credentials.js';
import { ErrorBox } from '../components/status.js';
import { fmtTime } from '../lib/format.js';
import { useLoad } from '../lib/hooks.js';
import './credentials.css';

// Credentials: list, create, edit (a merge update), delete. Secret values are write-only: the
// form sends them and the page never receives one back (it never asks for include_data).

interface Row {
  key: string;
  value: string;
  /** A field the credential already holds: its name is fixed, an empty value keeps it. */
  stored: boolean;
  removed: boolean;
}

const OTHER = '__other__';
const emptyRow = (key = ''): Row => ({ key, value: '', stored: false, removed: false });
const splitTags = (tags: string) =>
  tags
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);

/** The type picker: the types the tools understand, or any other name. */
function TypePicker({ type, onChange }: { type: string; onChange: (t: string) => void }) {
  const known = type in CREDENTIAL_TYPES;
  const [other, setOther] = useState(!known);
  return (
    <>
      <label>
        Type
        <select
          value={other ? OTHER : type}
          onChange={(e) => {
            const v = e.currentTarget.value;
            setOther(v === OTHER);
            if (v !== OTHER) onChange(v);
            else if (known) onChange('');
          }}
        >
          {Object.keys(CREDENTIAL_TYPES).map((t) => (
            <option value={t}>{t}</option>
          ))}
          <option value={OTHER}>other…</option>
        </select>
      </label>
      {other ? (
        <label>
          Other type
          <input value={type} required onInput={(e) => onChange(e.currentTarget.value)} />
        </label>
      ) : null}
    </>
  );
}

/** Create or edit a credential. Stored values are never shown, not even masked. */
function CredentialForm({
  existing,
  onDone,
  onCancel,
}: {
  existing: Credential | null;
  onDone: (message: string) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(existing?.name ?? '');
  const [type, setType] = useState(existing?.type ?? 'postgres');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [tags, setTags] = useState((existing?.tags ?? []).join(', '));
  const [rows, setRows] = useState<Row[]>(() =>
    existing ? [] : (CREDENTIAL_TYPES['postgres'] ?? []).map((k) => emptyRow(k)),
  );
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [loading, setLoading] = useState(existing !== null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => heading.current?.focus(), []);
  useEffect(() => {
    if (!existing) return undefined;
    const abort = new AbortController();
    credentialFields(existing.name, abort.signal).then(
      (c) => {
        setRows([...c.fields.map((k) => ({ ...emptyRow(k), stored: true })), emptyRow()]);
        setLoading(false);
      },
      (err: unknown) => {
        if (abort.signal.aborted) return;
        setRows([emptyRow()]);
        setLoading(false);
        setError(`Could not read the field names (${errorText(err)}); fields you add are still merged in.`);
      },
    );
    return () => abort.abort();
  }, [existing?.name]);

  const setRow = (i: number, r: Partial<Row>) =>
    setRows((rs) => rs.map((x, j) => (j === i ? { ...x, ...r } : x)));
  /** On a new credential, a new type suggests its fields while none is filled in yet. */
  const pickType = (t: string) => {
    setType(t);
    if (!existing && rows.every((r) => r.value === '')) {
      const suggested = CREDENTIAL_TYPES[t];
      if (suggested) setRows(suggested.length ? suggested.map((k) => emptyRow(k)) : [emptyRow()]);
    }
  };

  const submit = async () => {
    setError(null);
    const data: Record<string, string | null> = {};
    for (const r of rows) {
      const key = r.key.trim();
      if (!key) continue;
      if (r.stored) {
        if (r.removed) data[key] = null;
        else if (r.value !== '') data[key] = r.value;
      } else if (r.value === '') {
        if (existing) return setError(`Give a value for the new field "${key}", or remove it.`);
      } else data[key] = r.value;
    }
    const tagList = splitTags(tags);
    setBusy(true);
    try {
      if (existing) {
        const body: CredentialPatch = { type, description, tags: tagList };
        if (Object.keys(data).length) body.data = data;
        try {
          await patchCredential(existing.name, body);
        } catch (err) {
          if (err instanceof ApiError && err.missingRoute)
            throw new Error(
              'This server cannot update a credential in place (no PATCH route): delete it and create it again.',
            );
          throw err;
        }
        const changed = Object.keys(data).length;
        onDone(
          `Saved ${existing.name}: ${changed} data field${changed === 1 ? '' : 's'} changed, the others kept.`,
        );
      } else {
        if (!name.trim()) throw new Error('A name is required.');
        const values = Object.fromEntries(
          Object.entries(data).filter((e): e is [string, string] => e[1] !== null),
        );
        if (Object.keys(values).length === 0) throw new Error('Give at least one field a value.');
        await createCredential({ name: name.trim(), type, description, tags: tagList, data: values });
        onDone(`Created ${name.trim()}.`);
      }
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="panel credential-form"
      aria-labelledby="credential-form-title"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
      }}
    >
      <h2 id="credential-form-title" tabIndex={-1} ref={heading}>
        {existing ? `Edit ${existing.name}` : 'New credential'}
      </h2>
      <div class="form-grid">
        <label>
          Name
          <input
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            disabled={existing !== null}
            required
            autocomplete="off"
            spellcheck={false}
          />
        </label>
        <TypePicker type={type} onChange={pickType} />
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
        <legend>Data</legend>
        <p class="muted hint">
          {existing
            ? 'Stored values are never shown. Type a value to replace a field; leave it empty to keep it.'
            : 'Values are sent once and stored encrypted; they are never shown again.'}
        </p>
        {loading ? (
          <p class="muted" role="status">
            Reading the field names…
          </p>
        ) : null}
        {rows.map((r, i) => (
          <div class={`kv${r.removed ? ' removed' : ''}`} data-field={r.key}>
            <input
              aria-label={`field ${i + 1} name`}
              placeholder="field, e.g. password"
              value={r.key}
              readOnly={r.stored}
              onInput={(e) => setRow(i, { key: e.currentTarget.value })}
              autocomplete="off"
              spellcheck={false}
            />
            <input
              aria-label={`field ${i + 1} value${r.stored ? ' (empty keeps the stored value)' : ''}`}
              type="password"
              placeholder={r.removed ? 'will be removed' : r.stored ? 'unchanged' : 'value'}
              value={r.value}
              disabled={r.removed}
              onInput={(e) => setRow(i, { value: e.currentTarget.value })}
              autocomplete="new-password"
            />
            {r.stored ? (
              <button
                type="button"
                aria-label={`${r.removed ? 'keep' : 'remove'} field ${r.key}`}
                aria-pressed={r.removed}
                onClick={() => setRow(i, { removed: !r.removed, value: '' })}
              >
                {r.removed ? 'Keep' : 'Remove'}
              </button>
            ) : (
              <button
                type="button"
                aria-label={`remove field ${i + 1}`}
                onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}
              >
                Remove
              </button>
            )}
          </div>
        ))}
        <button type="button" onClick={() => setRows((rs) => [...rs, emptyRow()])}>
          Add field
        </button>
      </fieldset>
      {error ? (
        <div class="error-box" role="alert">
          {error}
        </div>
      ) : null}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || loading}>
          {existing ? 'Save changes' : 'Create'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function CredentialsPage() {
  const [q, setQ] = useState('');
  const [type, setType] = useState('');
  const list = useLoad((signal) => listCredentials(q, type, signal), [q, type]);
  const [editing, setEditingState] = useState<Credential | 'new' | null>(null);
  // The button that opened the form gets the focus back when it closes (keyboard users).
  const opener = useRef<HTMLElement | null>(null);
  const setEditing = (next: Credential | 'new' | null) => {
    if (next !== null) opener.current = document.activeElement as HTMLElement | null;
    else {
      const back = opener.current;
      requestAnimationFrame(() => {
        if (back?.isConnected) back.focus();
      });
    }
    setEditingState(next);
  };
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState('');
  const items = list.data?.items ?? [];
  const types = [...new Set([...Object.keys(CREDENTIAL_TYPES), ...items.map((c) => c.type)])].sort();

  const remove = async (c: Credential) => {
    if (!confirm(`Delete the credential ${c.name}? Playbooks that use it will fail.`)) return;
    setError(null);
    try {
      await deleteCredential(c.name);
      setMessage(`Deleted ${c.name}.`);
      if (editing !== 'new' && editing?.name === c.name) setEditing(null);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section class="credentials">
      <div class="title-row">
        <h1>Credentials</h1>
        <button
          type="button"
          class="primary"
          onClick={() => {
            setMessage('');
            setEditing('new');
          }}
        >
          New credential
        </button>
      </div>
      <p class="muted">
        Secret values are write-only: they are stored encrypted and never sent back to the browser. Playbooks
        use a credential by its name (<code>auth: name</code>, <code>keychain</code>).
      </p>
      <p class="status-line" role="status" aria-live="polite">
        {message}
      </p>
      {editing ? (
        <CredentialForm
          key={editing === 'new' ? 'new' : editing.id}
          existing={editing === 'new' ? null : editing}
          onCancel={() => setEditing(null)}
          onDone={(m) => {
            setEditing(null);
            setMessage(m);
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
        <label>
          Type
          <select value={type} onChange={(e) => setType(e.currentTarget.value)}>
            <option value="">any</option>
            {types.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </label>
      </form>
      <ErrorBox error={list.error ?? error} />
      <div class="table-wrap">
        <table class="stack">
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
            {items.map((c) => (
              <tr data-credential={c.name}>
                <td data-label="name">
                  <strong>{c.name}</strong>
                </td>
                <td data-label="type">{c.type}</td>
                <td data-label="description">{c.description ?? ''}</td>
                <td data-label="tags">{(c.tags ?? []).join(', ')}</td>
                <td data-label="updated">{fmtTime(c.updated_at)}</td>
                <td class="row-actions">
                  <button
                    type="button"
                    aria-label={`Edit ${c.name}`}
                    onClick={() => {
                      setMessage('');
                      setEditing(c);
                    }}
                  >
                    Edit
                  </button>
                  <button
                    type="button"
                    class="danger"
                    aria-label={`Delete ${c.name}`}
                    onClick={() => void remove(c)}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="muted" role="status">
        {list.loading && !list.data
          ? 'Loading…'
          : list.data
            ? items.length === 0
              ? q || type
                ? 'No credential matches.'
                : 'No credential yet.'
              : `${items.length} credential${items.length === 1 ? '' : 's'}`
            : ''}
      </p>
    </section>
  );
}
