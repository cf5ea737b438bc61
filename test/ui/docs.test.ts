/**
 * `/docs` (Swagger UI, @fastify/swagger-ui) in headless Chromium against a real embedded server
 * with an API token: the page loads under its Content-Security-Policy, asks for the token when the
 * document answers 401, then lists the operations and can call one with the token.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';
import { browserMissing, launchBrowser, type BrowserSession } from './browser.js';

const missing = browserMissing();
const TOKEN = 'docs-browser-token-8c1e';

describe.skipIf(missing !== null)('/docs in a browser', () => {
  let server: RunningServer;
  let session: BrowserSession;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ NOETL_API_TOKEN: TOKEN });
    session = await launchBrowser();
    page = await session.browser.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/401|Unauthorized/i.test(msg.text())) problems.push(msg.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    await server?.stop();
  });

  it('asks for the token, then shows every operation without a CSP violation', async () => {
    const prompts: string[] = [];
    page.on('dialog', (dialog) => {
      prompts.push(dialog.message());
      void dialog.accept(TOKEN);
    });
    await page.goto(`${server.url}/docs`);
    await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toContain('NOETL_API_TOKEN');
    const paths = await page.locator('.opblock-summary-path').allTextContents();
    expect(paths.map((p) => p.replace(/\u200b/g, ''))).toEqual(
      expect.arrayContaining(['/api/catalog/register', '/api/execute']),
    );
    expect(problems).toEqual([]);
  }, 60_000);

  it('sends the kept token with "Try it out"', async () => {
    const block = page.locator('.opblock', { hasText: '/api/status' }).first();
    await block.locator('.opblock-summary').click();
    await block.getByRole('button', { name: 'Try it out' }).click();
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/status')),
      block.getByRole('button', { name: 'Execute' }).click(),
    ]);
    expect(response.status()).toBe(200);
    expect(problems).toEqual([]);
  }, 60_000);
});
