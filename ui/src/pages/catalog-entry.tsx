import { get, post } from '../api/client.js';
import { fetchGraph } from '../api/graph.js';
import type { CatalogEntry, GraphAnswer, UiSchema } from '../api/types.js';
import { LazyGraph } from '../components/lazy-graph.js';
import { RunForm } from '../components/run-form.js';
import { ErrorBox, Missing } from '../components/status.js';
import { YamlView } from '../components/yaml-view.js';
import { fmtTime } from '../lib/format.js';
import { useLoad } from '../lib/hooks.js';
import { navigate } from '../lib/router.js';

type Tab = 'yaml' | 'graph' | 'run';

export function CatalogEntryPage({ path, params }: { path: string; params: URLSearchParams }) {
  const version = params.get('version');
  const tab = (params.get('tab') as Tab | null) ?? 'yaml';
  const versions = useLoad(() => post<{ entries: CatalogEntry[] }>('/api/catalog/list', { path }), [path]);
  const entry = useLoad(
    () =>
      post<CatalogEntry>('/api/catalog/resource', { path, version: version ? Number(version) : 'latest' }),
    [path, version],
  );
  const v = entry.data?.version;
  const graph = useLoad(
    async (): Promise<GraphAnswer | null> => (v === undefined ? null : fetchGraph({ path, version: v })),
    [path, v],
  );
  const schema = useLoad(
    () =>
      get<UiSchema>(
        `/api/catalog/${path.split('/').map(encodeURIComponent).join('/')}/ui_schema${v ? `?version=${v}` : ''}`,
      ),
    [path, v],
  );
  const setTab = (t: Tab) => {
    const p = new URLSearchParams(params);
    p.set('tab', t);
    navigate(`/catalog/${path}?${p.toString()}`, true);
  };
  const allVersions = (versions.data?.entries ?? [])
    .filter((e) => e.path === path)
    .sort((a, b) => b.version - a.version);
  const diags = graph.data?.diagnostics ?? [];
  const errors = diags.filter((d) => d.severity === 'error').length;

  return (
    <section>
      <div class="title-row">
        <h1>
          <span class="muted">Playbook</span> {path}
        </h1>
        {graph.data ? (
          <span class={`status status-${graph.data.valid ? 'completed' : 'failed'}`}>
            {graph.data.valid ? '✓ valid' : `✕ ${errors} error${errors === 1 ? '' : 's'}`}
          </span>
        ) : null}
      </div>
      <ErrorBox error={entry.error} title="Could not read the entry" />
      <div class="entry-grid">
        <aside class="panel versions" aria-label="Versions">
          <h2>Versions</h2>
          <ol>
            {allVersions.map((e) => (
              <li>
                <a
                  href={`/catalog/${path}?version=${e.version}${tab !== 'yaml' ? `&tab=${tab}` : ''}`}
                  aria-current={e.version === v ? 'true' : undefined}
                >
                  v{e.version}
                </a>{' '}
                <span class="muted">{fmtTime(e.created_at)}</span>
              </li>
            ))}
          </ol>
          <p>
            <a href={`/executions?path=${encodeURIComponent(path)}`}>Executions of this playbook</a>
          </p>
        </aside>
        <div class="entry-main">
          <div class="tabs" role="tablist">
            {(['yaml', 'graph', 'run'] as Tab[]).map((t) => (
              <button
                type="button"
                role="tab"
                aria-selected={tab === t}
                class={tab === t ? 'active' : ''}
                onClick={() => setTab(t)}
              >
                {t === 'yaml'
                  ? `YAML${diags.length ? ` (${diags.length} diagnostics)` : ''}`
                  : t === 'graph'
                    ? 'Graph'
                    : 'Run'}
              </button>
            ))}
          </div>
          <div class="panel" role="tabpanel">
            {tab === 'yaml' ? (
              typeof entry.data?.content === 'string' ? (
                <YamlView text={entry.data.content} diagnostics={diags} />
              ) : (
                <p class="muted">Loading…</p>
              )
            ) : null}
            {tab === 'graph' ? (
              graph.data === null && !graph.loading ? (
                <Missing what="playbook graphs" />
              ) : graph.data?.graph ? (
                <LazyGraph graph={graph.data.graph} label={`Graph of ${path}`} />
              ) : graph.data ? (
                <p class="note">The playbook has errors; see the YAML tab.</p>
              ) : (
                <p class="muted">Loading…</p>
              )
            ) : null}
            {tab === 'run' ? (
              schema.data ? (
                <>
                  <RunForm schema={schema.data} version={v ?? null} />
                </>
              ) : (
                <ErrorBox error={schema.error} title="No run form" />
              )
            ) : null}
          </div>
        </div>
      </div>
    </section>
  );
}
