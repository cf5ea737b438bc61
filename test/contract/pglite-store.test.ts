import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PgliteStore, openStore } from '../../src/store/index.js';
import { migratedPgliteDataDir } from '../helpers/pglite-template.js';
import { storeContract } from './store.contract.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'noetl-pglite-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

storeContract('pglite', async () => {
  // a copy of a migrated cluster: the fresh-cluster path is the adapter tests' below
  const dataDir = join(await tempDir(), 'data');
  await migratedPgliteDataDir(dataDir);
  const store = await openStore({ dataDir });
  return { store, dispose: () => store.close() };
});

describe('pglite adapter', () => {
  it('fsyncs commits, keeps data across reopen, and locks its data directory', async () => {
    const dataDir = join(await tempDir(), 'data');
    const store = await openStore({ dataDir });
    try {
      const settings = await store.query(
        "SELECT current_setting('fsync') AS fsync, current_setting('wal_sync_method') AS method, current_setting('shared_buffers') AS sb",
      );
      expect(settings.rows[0]).toEqual({ fsync: 'on', method: 'fsync', sb: '16MB' });
      await store.vars.set('1', [{ name: 'kept', value: true }]);
      await expect(PgliteStore.open({ dataDir })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      await store.close();
    }
    // a lock left by a process that died is taken over
    await writeFile(`${dataDir}.lock`, '2147483646\n');
    const reopened = await openStore({ dataDir });
    try {
      expect((await reopened.vars.get('1', 'kept'))?.value).toBe(true);
      expect((await reopened.migrate()).applied).toEqual([]);
    } finally {
      await reopened.close();
    }
  }, 120_000);

  it('refuses a non-empty directory that holds no database', async () => {
    const dataDir = join(await tempDir(), 'data');
    await mkdir(dataDir);
    await writeFile(join(dataDir, 'notes.txt'), 'mine');
    await expect(openStore({ dataDir })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // and it released its lock
    await expect(openStore({ dataDir })).rejects.toThrow('holds no database');
  });
});
