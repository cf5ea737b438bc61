import { render } from 'preact';
import { TokenDialog } from './components/token-dialog.js';
import { onLinkClick, useLocation } from './lib/router.js';
import { CatalogEntryPage } from './pages/catalog-entry.js';
import { CatalogPage } from './pages/catalog.js';
import { CredentialsPage } from './pages/credentials.js';
import { DashboardPage } from './pages/dashboard.js';
import { ExecutionPage } from './pages/execution.js';
import { ExecutionsPage } from './pages/executions.js';
import { KeychainPage } from './pages/keychain.js';
import { SchedulePage, SchedulesPage } from './pages/schedules.js';
import { WorkersPage } from './pages/workers.js';

const NAV: [string, string][] = [
  ['/', 'Dashboard'],
  ['/catalog', 'Catalog'],
  ['/executions', 'Executions'],
  ['/schedules', 'Schedules'],
  ['/credentials', 'Credentials'],
  ['/keychain', 'Keychain'],
  ['/workers', 'Workers'],
];

function Page({ path, params }: { path: string; params: URLSearchParams }) {
  if (path === '/' || path === '') return <DashboardPage />;
  if (path === '/catalog') return <CatalogPage params={params} />;
  if (path.startsWith('/catalog/'))
    return <CatalogEntryPage path={decodeURIComponent(path.slice('/catalog/'.length))} params={params} />;
  if (path === '/executions') return <ExecutionsPage params={params} />;
  const ex = /^\/executions\/(\d+)$/.exec(path);
  if (ex?.[1]) return <ExecutionPage id={ex[1]} params={params} />;
  if (path === '/schedules') return <SchedulesPage params={params} />;
  const sc = /^\/schedules\/(\d+)$/.exec(path);
  if (sc?.[1]) return <SchedulePage id={sc[1]} />;
  if (path === '/credentials') return <CredentialsPage />;
  if (path === '/keychain') return <KeychainPage params={params} />;
  if (path === '/workers') return <WorkersPage />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page at <code>{path}</code>. <a href="/">Back to the dashboard</a>.
      </p>
    </section>
  );
}

function App() {
  const { path, params } = useLocation();
  const section = '/' + (path.split('/')[1] ?? '');
  return (
    <div class="shell" onClick={onLinkClick}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          noetl
        </a>
        <nav aria-label="Main">
          {NAV.map(([href, label]) => (
            <a href={href} aria-current={section === href ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <a class="api-link" href="/docs" target="_blank" rel="noopener">
          API
        </a>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={path} params={params} />
      </main>
      <TokenDialog />
    </div>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
