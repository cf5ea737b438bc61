import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../../config/index.js';
import { loadCliConfig } from '../cli-config.js';
import { workerTokenOverride } from './worker-actions.js';

const home = mkdtempSync(join(tmpdir(), 'noetl-worker-token-'));
writeFileSync(join(home, 'api-token'), 'generated-token\n', { mode: 0o600 });
const empty = mkdtempSync(join(tmpdir(), 'noetl-worker-token-none-'));
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

describe('noetl worker start: the API token of a local server', () => {
  it('passes the token a local server generated into $NOETL_HOME/api-token', async () => {
    const config = loadCliConfig({ NOETL_HOME: home }, {});
    const extra = await workerTokenOverride(config, 'http://127.0.0.1:8082');
    expect(extra).toEqual({ NOETL_API_TOKEN: 'generated-token' });
    // and the worker reads it from there
    expect(loadWorkerConfig({ flags: extra, env: {} }).apiToken).toBe('generated-token');
    expect(await workerTokenOverride(config, 'http://localhost:9000')).toEqual(extra);
  });

  it('leaves NOETL_API_TOKEN as set', async () => {
    const config = loadCliConfig({ NOETL_HOME: home, NOETL_API_TOKEN: 'mine' }, {});
    expect(await workerTokenOverride(config, 'http://127.0.0.1:8082')).toEqual({});
  });

  it('never sends the local token to a remote server, nor invents one', async () => {
    const config = loadCliConfig({ NOETL_HOME: home }, {});
    expect(await workerTokenOverride(config, 'https://noetl.example.com')).toEqual({});
    const none = loadCliConfig({ NOETL_HOME: empty }, {});
    expect(await workerTokenOverride(none, 'http://127.0.0.1:8082')).toEqual({});
  });
});
