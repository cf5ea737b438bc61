import { useState } from 'preact/hooks';
import { post } from '../api/client.js';
import { deleteKeychainEntry, listKeychain, putKeychainEntry, type KeychainEntry } from '../api/keychain.js';
import type { CatalogEntry } from '../api/types.js';
import { ErrorBox, Missing } from '../components/status.js';
import { ago, fmtTime } from '../lib/format.js';
import { useLoad } from '../lib/hooks.js';
import { navigate } from '../lib/router.js';
import './credentials.css';

// The keychain cache of a playbook: tokens and secrets its runs resolved, kept per catalog entry
// (global, per execution, or per execution tree) until they expire. Listed without their values.

const SCOPE: Record<string, string> = {
  global: 'every execution of this version',
  local: 'one execution',
  shared: 'an execution and its sub-playbooks',
};

interface Row extends KeychainEntry {
  catalog_id: string;
  version: number;
}

function Expiry({ e }: { e: KeychainEntry }) {
  return (
    <span class="expiry">
      {e.expired ? (
        <span class="status status-failed">
          <span aria-hidden="true">✕</span> expired
        </span>
      ) : (
        <span class="status status-completed">
          <span aria-hidden="true">✓</span> valid
        </span>
      )}{' '}
      {fmtTime(e.expires_at)}
    </span>
  );
}

export function KeychainPage({ params }: { params: URLSearchParams }) {
  const path = params.get('path') ?? '';
  const catalog = useLoad(() => post<{ entries: CatalogEntry[] }>('/api/catalog/list', {}), []);
  const versions = (catalog.data?.entries ?? []).filter((e) => e.path === path);
  const paths = [...new Set((catalog.data?.entries ?? []).map((e) => e.path))].sort();
  const ids = versions.map((v) => `${v.catalog_id}:${v.version}`).join(',');
  const list = useLoad(
    async (signal): Promise<Row[]> => {
      const lists = await Promise.all(
        versions.map(async (v) =>
          (await listKeychain(v.catalog_id, signal)).entries.map((e) => ({
            ...e,
            catalog_id: v.catalog_id,
            version: v.version,
          })),
        ),
      );
      return lists
        .flat()
        .sort((a, b) => a.keychain_name.localeCompare(b.keychain_name) || b.version - a.version);
    },
    [ids],
  );
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState('');
  const rows = list.data ?? [];

  // Set (create or replace) a global entry: the value is write-only, typed again to change it.
  const save = async (form: HTMLFormElement) => {
    const f = new FormData(form);
    const text = (key: string): string => {
      const v = f.get(key);
      return typeof v === 'string' ? v : '';
    };
    const name = text('name').trim();
    const catalogId = text('catalog_id');
    const field = text('field').trim() || 'token';
    const value = text('value');
    if (!name || !catalogId || !value) {
      setMessage('A name, a version and a value are needed.');
      return;
    }
    setError(null);
    try {
      await putKeychainEntry(catalogId, name, {
        data: { [field]: value },
        credential_type: text('credential_type').trim() || 'bearer',
        expires_in: Math.max(1, Number(text('expires_in') || 3600) || 3600),
      });
      form.reset();
      setMessage(`Set ${name} (global).`);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };

  const remove = async (r: Row) => {
    const where =
      r.scope_type === 'global' ? 'global' : `${r.scope_type} to execution ${r.execution_id ?? '?'}`;
    if (!confirm(`Delete the keychain entry ${r.keychain_name} (${where})? The next run resolves it again.`))
      return;
    setError(null);
    try {
      await deleteKeychainEntry(r.catalog_id, r);
      setMessage(`Deleted ${r.keychain_name} (${where}).`);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section class="keychain">
      <div class="title-row">
        <h1>Keychain</h1>
      </div>
      <p class="muted">
        Tokens and secrets a playbook's <code>keychain</code> resolved, cached per playbook version until they
        expire: global, for one execution (local) or for an execution and its sub-playbooks (shared). Values
        are never shown; deleting an entry makes the next run resolve it again.
      </p>
      <p class="status-line" role="status" aria-live="polite">
        {message}
      </p>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Playbook
          <select
            value={path}
            onChange={(e) => {
              setMessage('');
              const p = e.currentTarget.value;
              navigate(`/keychain${p ? `?path=${encodeURIComponent(p)}` : ''}`, true);
            }}
          >
            <option value="">choose a playbook…</option>
            {paths.map((p) => (
              <option value={p}>{p}</option>
            ))}
          </select>
        </label>
        <button type="button" disabled={!path || list.loading} onClick={() => list.reload()}>
          Reload
        </button>
      </form>
      <ErrorBox error={catalog.error} title="Could not list the catalog" />
      {list.missing ? <Missing what="keychain listing" /> : <ErrorBox error={list.error ?? error} />}
      {path ? (
        <>
          <div class="table-wrap">
            <table class="stack">
              <thead>
                <tr>
                  <th>name</th>
                  <th>version</th>
                  <th>scope</th>
                  <th>type</th>
                  <th>expires</th>
                  <th>auto renew</th>
                  <th>reads</th>
                  <th>
                    <span class="sr-only">actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr data-keychain={r.keychain_name} data-scope={r.scope_type}>
                    <td data-label="name">
                      <strong>{r.keychain_name}</strong>
                    </td>
                    <td data-label="version">{r.version}</td>
                    <td data-label="scope" title={SCOPE[r.scope_type]}>
                      {r.scope_type}
                      {r.execution_id ? (
                        <>
                          {' '}
                          · <a href={`/executions/${r.execution_id}`}>{r.execution_id}</a>
                        </>
                      ) : null}
                    </td>
                    <td data-label="type">
                      {r.credential_type} <span class="muted">({r.cache_type})</span>
                    </td>
                    <td data-label="expires">
                      <Expiry e={r} />
                    </td>
                    <td data-label="auto renew">{r.auto_renew ? 'yes' : 'no'}</td>
                    <td data-label="reads">
                      {r.access_count}
                      {r.access_count > 0 && r.accessed_at ? (
                        <span class="muted"> · last {ago(r.accessed_at)}</span>
                      ) : null}
                    </td>
                    <td class="row-actions">
                      <button
                        type="button"
                        class="danger"
                        aria-label={`Delete ${r.keychain_name} (${r.scope_type}${r.execution_id ? ` ${r.execution_id}` : ''})`}
                        onClick={() => void remove(r)}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <details class="keychain-set">
            <summary>Set an entry</summary>
            <form
              class="editor"
              aria-label="Set a keychain entry"
              onSubmit={(e) => {
                e.preventDefault();
                void save(e.currentTarget);
              }}
            >
              <label>
                Name <input name="name" required pattern="[A-Za-z0-9_.:-]+" autocomplete="off" />
              </label>
              <label>
                Version
                <select name="catalog_id">
                  {[...versions]
                    .sort((a, b) => b.version - a.version)
                    .map((v) => (
                      <option value={v.catalog_id}>{v.version}</option>
                    ))}
                </select>
              </label>
              <label>
                Type <input name="credential_type" placeholder="bearer" autocomplete="off" />
              </label>
              <label>
                Field <input name="field" placeholder="token" autocomplete="off" />
              </label>
              <label>
                Value <input name="value" type="password" required autocomplete="new-password" />
              </label>
              <label>
                Expires in (seconds) <input name="expires_in" type="number" min="1" value="3600" />
              </label>
              <button type="submit">Set</button>
            </form>
          </details>
          <p class="muted" role="status">
            {list.loading && !list.data
              ? 'Loading…'
              : list.data
                ? rows.length === 0
                  ? `No keychain entry for ${path}.`
                  : `${rows.length} entr${rows.length === 1 ? 'y' : 'ies'} over ${versions.length} version${versions.length === 1 ? '' : 's'}`
                : ''}
          </p>
        </>
      ) : (
        <p class="muted">Choose a playbook to see its keychain entries.</p>
      )}
    </section>
  );
}
