import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';
import { browserMissing, launchBrowser, type BrowserSession } from './browser.js';

// The Credentials and Keychain pages (docs/ui.md) in headless Chromium against an embedded server:
// create a credential with a secret, edit one field (a PATCH merge keeps the others), delete it;
// list and delete keychain entries. No secret value ever reaches the page: every response body
// the page receives and its DOM are searched for them. NOETL_UI_SCREENSHOTS=<dir> saves
// credentials.png and keychain.png there.

const missing = browserMissing();
const UI_BUILT = existsSync(join(import.meta.dirname, '../../dist/ui/index.html'));
const SHOTS = process.env['NOETL_UI_SCREENSHOTS'];
const SECRET = 'pw-9d41c7-credential-never-shown';
const KC_SECRET = 'tok-5be013-keychain-never-shown';
const NAME = 'ui_cred_pg';

const KC_PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: ui_kc, path: ui/kc }
workflow:
  - step: start
    tool: { kind: noop }
`;

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

async function valuesOf(inputs: Locator): Promise<string[]> {
  return Promise.all((await inputs.all()).map((i) => i.inputValue()));
}

async function remove(server: RunningServer, path: string): Promise<number> {
  return (await fetch(`${server.url}${path}`, { method: 'DELETE' })).status;
}

describe.skipIf(missing !== null)('Credentials and Keychain pages in Chromium', () => {
  let server: RunningServer;
  let session: BrowserSession;
  let page: Page;
  let catalogId = '';
  let executionId = '';
  // Every response body the page received (its API answers, HTML, scripts).
  const bodies: Promise<string>[] = [];
  const collect = (r: Response) => {
    bodies.push(r.text().catch(() => ''));
  };
  // Every URL the page asked for: the UI never asks for include_data.
  const urls: string[] = [];

  beforeAll(async () => {
    if (!UI_BUILT) throw new Error('dist/ui is not built: run npm run build');
    server = await startTestServer();
    const reg = await server.post<{ catalog_id: string }>('/api/catalog/register', { content: KC_PLAYBOOK });
    expect(reg.status).toBe(200);
    catalogId = String(reg.body.catalog_id);
    const ex = await server.post<{ execution_id: string }>('/api/execute', { path: 'ui/kc' });
    executionId = ex.body.execution_id;
    await server.waitFor(executionId);
    session = await launchBrowser();
    page = await session.browser.newPage();
    page.on('response', collect);
    page.on('request', (r) => urls.push(r.url()));
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    await server?.stop();
  });

  it('creates a credential whose values are password inputs', async () => {
    await page.goto(`${server.url}/credentials`);
    await page.getByRole('heading', { name: 'Credentials', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New credential' }).click();
    const form = page.getByRole('form', { name: 'New credential' });
    // The type picker suggests the fields a postgres tool reads.
    expect(await form.getByRole('combobox', { name: 'Type' }).inputValue()).toBe('postgres');
    expect(await form.getByLabel('field 4 name').inputValue()).toBe('password');
    expect(await form.getByLabel('field 4 value').getAttribute('type')).toBe('password');
    await form.getByLabel('Name', { exact: true }).fill(NAME);
    await form.getByLabel('Description').fill('Main warehouse');
    await form.getByLabel('Tags (comma separated)').fill('prod, db');
    await form.getByLabel('field 1 value').fill('db.internal');
    await form.getByLabel('field 3 value').fill('app');
    await form.getByLabel('field 4 value').fill(SECRET);
    await form.getByRole('button', { name: 'Create' }).click();
    await form.waitFor({ state: 'detached' });
    expect(await page.locator('.status-line').innerText()).toBe(`Created ${NAME}.`);
    const row = page.locator(`tr[data-credential="${NAME}"]`);
    expect(await row.innerText()).toMatch(/ui_cred_pg\s+postgres\s+Main warehouse\s+prod, db/);
    const stored = await server.get<{ data: unknown }>(`/api/credentials/${NAME}?include_data=true`);
    // Empty suggested fields (port, database) are not stored.
    expect(stored.body.data).toEqual({ host: 'db.internal', user: 'app', password: SECRET });
  });

  it('edits one field by keyboard and keeps the others (PATCH merge)', async () => {
    const edit = page.locator(`tr[data-credential="${NAME}"]`).getByRole('button', { name: 'Edit' });
    await edit.focus();
    await page.keyboard.press('Enter');
    const form = page.getByRole('form', { name: `Edit ${NAME}` });
    await form.waitFor();
    // The stored field names, sorted, then an empty row; never a value, not even masked.
    await form.getByLabel('field 4 name').waitFor();
    expect(await valuesOf(form.locator('.kv input:not([type=password])'))).toEqual([
      'host',
      'password',
      'user',
      '',
    ]);
    expect(await valuesOf(form.locator('input[type=password]'))).toEqual(['', '', '', '']);
    expect(await form.getByLabel('field 2 name').getAttribute('readonly')).not.toBeNull();
    await shot(page, 'credentials');

    await form.getByLabel('field 3 value').fill('bob');
    await form.getByLabel('field 4 name').fill('sslmode');
    await form.getByLabel('field 4 value').fill('require');
    await form.getByLabel('field 4 value').press('Enter');
    await form.waitFor({ state: 'detached' });
    expect(await page.locator('.status-line').innerText()).toBe(
      `Saved ${NAME}: 2 data fields changed, the others kept.`,
    );
    // The focus goes back to the button that opened the form.
    await expect
      .poll(() => page.evaluate<string>('document.activeElement?.getAttribute("aria-label") ?? ""'))
      .toBe(`Edit ${NAME}`);
    const stored = await server.get<{ data: unknown; description: string; tags: string[] }>(
      `/api/credentials/${NAME}?include_data=true`,
    );
    expect(stored.body.data).toEqual({
      host: 'db.internal',
      user: 'bob',
      password: SECRET,
      sslmode: 'require',
    });
    expect(stored.body).toMatchObject({ description: 'Main warehouse', tags: ['prod', 'db'] });
  });

  it('removes a field, and asks for a value for a new one', async () => {
    await page.locator(`tr[data-credential="${NAME}"]`).getByRole('button', { name: 'Edit' }).click();
    const form = page.getByRole('form', { name: `Edit ${NAME}` });
    await form.getByRole('button', { name: 'remove field sslmode' }).click();
    await form.getByLabel('field 5 name').fill('port');
    await form.getByRole('button', { name: 'Save changes' }).click();
    expect(await form.getByRole('alert').innerText()).toContain('Give a value for the new field "port"');
    await form.getByRole('button', { name: 'remove field 5' }).click();
    await form.getByRole('button', { name: 'Save changes' }).click();
    await form.waitFor({ state: 'detached' });
    const stored = await server.get<{ data: unknown }>(`/api/credentials/${NAME}?include_data=true`);
    expect(stored.body.data).toEqual({ host: 'db.internal', user: 'bob', password: SECRET });
  });

  it('stays readable in a narrow window', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    try {
      const row = page.locator(`tr[data-credential="${NAME}"]`);
      await row.getByRole('button', { name: 'Delete' }).waitFor();
      // Each row is a card: its cells one under the other, the header row hidden.
      const name = await row.locator('td[data-label=name]').boundingBox();
      const type = await row.locator('td[data-label=type]').boundingBox();
      expect(type!.y).toBeGreaterThanOrEqual(name!.y + name!.height - 1);
      expect(type!.width).toBeGreaterThan(300);
      expect(await page.locator('table.stack thead').isHidden()).toBe(true);
      // Nothing wider than the window: no sideways scrolling.
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      expect(overflow).toBeLessThanOrEqual(0);
    } finally {
      await page.setViewportSize({ width: 1366, height: 860 });
    }
  });

  it('deletes a credential after a confirmation', async () => {
    const row = page.locator(`tr[data-credential="${NAME}"]`);
    page.once('dialog', (d) => void d.dismiss());
    await row.getByRole('button', { name: 'Delete' }).click();
    expect((await server.get(`/api/credentials/${NAME}`)).status).toBe(200);
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.accept();
    });
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });
    expect(asked[0]).toContain(`Delete the credential ${NAME}?`);
    expect(await page.locator('.status-line').innerText()).toBe(`Deleted ${NAME}.`);
    expect((await server.get(`/api/credentials/${NAME}`)).status).toBe(404);
  });

  it('lists keychain entries of a playbook with scope and expiry, and deletes one', async () => {
    const put = async (name: string, body: Record<string, unknown>) => {
      const r = await server.post(`/api/keychain/${catalogId}/${name}`, {
        data: { token: KC_SECRET },
        ...body,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    };
    await put('api_token', { expires_in: 3600, credential_type: 'bearer' });
    await put('session', { scope_type: 'local', execution_id: executionId, auto_renew: true });
    await put('old_token', { expires_at: '2020-01-01T00:00:00Z', cache_type: 'secret' });

    await page.goto(`${server.url}/keychain`);
    await page.getByRole('combobox', { name: 'Playbook' }).selectOption('ui/kc');
    const rows = page.locator('tr[data-keychain]');
    await rows.nth(2).waitFor();
    const text = (name: string) => page.locator(`tr[data-keychain="${name}"]`).innerText();
    expect(await text('api_token')).toMatch(/api_token\s+1\s+global\s+bearer \(token\)\s+✓\s+valid/);
    expect(await text('session')).toContain(`local · ${executionId}`);
    expect(await text('session')).toMatch(/\byes\b/);
    expect(await text('old_token')).toMatch(/✕\s+expired\s+20(19|20)-/);
    expect(page.url()).toContain('/keychain?path=ui%2Fkc');
    await shot(page, 'keychain');

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: `Delete session (local ${executionId})` }).click();
    await page.locator('tr[data-keychain="session"]').waitFor({ state: 'detached' });
    expect(await page.locator('.status-line').innerText()).toBe(
      `Deleted session (local to execution ${executionId}).`,
    );
    const gone = await server.get(
      `/api/keychain/${catalogId}/session?scope_type=local&execution_id=${executionId}`,
    );
    expect(gone.status).toBe(404);
    expect((await server.get(`/api/keychain/${catalogId}/api_token`)).status).toBe(200);
    expect(await remove(server, `/api/keychain/${catalogId}/api_token`)).toBe(200);

    // set a global entry from the page (create), then again with a new value (edit: replace)
    await page.getByText('Set an entry').click();
    const form = page.getByRole('form', { name: 'Set a keychain entry' });
    for (const [round, value] of [
      [1, `${KC_SECRET}-1`],
      [2, `${KC_SECRET}-2`],
    ] as const) {
      await form.getByLabel('Name').fill('typed_token');
      await form.getByLabel('Type').fill('bearer');
      await form.getByLabel('Field').fill('token');
      await form.getByLabel('Value').fill(value);
      await form.getByLabel('Expires in (seconds)').fill('600');
      if (round === 1) await shot(page, 'keychain-set');
      await form.getByRole('button', { name: 'Set' }).click();
      await page.locator('tr[data-keychain="typed_token"]').waitFor();
      expect(await page.locator('.status-line').innerText(), `round ${round}`).toBe(
        'Set typed_token (global).',
      );
      const stored = await server.get(`/api/keychain/${catalogId}/typed_token`);
      expect(stored.status).toBe(200);
      expect(stored.body).toMatchObject({ status: 'found', scope_type: 'global', data: { token: value } });
    }
    expect(await page.locator('tr[data-keychain="typed_token"]').count()).toBe(1);
    expect(await remove(server, `/api/keychain/${catalogId}/typed_token`)).toBe(200);
  });

  it('never let a secret value reach the page', async () => {
    const html = await page.content();
    const received = await Promise.all(bodies);
    expect(urls.length).toBeGreaterThan(5);
    for (const u of urls) expect(u).not.toContain('include_data');
    expect(received.filter((b) => b.includes(NAME)).length).toBeGreaterThan(3);
    expect(received.some((b) => b.includes('old_token'))).toBe(true);
    for (const secret of [SECRET, KC_SECRET]) {
      expect(html).not.toContain(secret);
      for (const b of received) expect(b).not.toContain(secret);
    }
  });
});
