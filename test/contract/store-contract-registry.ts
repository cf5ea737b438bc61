import { describe, expect, it } from 'vitest';
import { event, ids, startExecution, type StoreFixture } from './store-fixtures.js';

export function registryContract(get: () => StoreFixture): void {
  describe('catalog', () => {
    it('versions per path, lower-cases kinds, lists newest first', async () => {
      const { store } = get();
      const path = `tests/catalog/${ids.next()}`;
      const v1 = await store.catalog.register({
        path,
        kind: 'Playbook',
        content: 'a: 1',
        payload: { x: 1 },
        layout: { w: [] },
        meta: { team: 'a' },
      });
      const v2 = await store.catalog.register({ path, kind: 'Playbook', content: 'a: 2' });
      const other = await store.catalog.register({ path: `${path}/other`, kind: 'Agent', content: 'b' });
      expect([v1.version, v2.version, other.version]).toEqual([1, 2, 1]);
      expect(v1).toMatchObject({
        kind: 'playbook',
        content: 'a: 1',
        payload: { x: 1 },
        layout: { w: [] },
        meta: { team: 'a' },
        archived: false,
      });
      expect(v2.catalogId).not.toBe(v1.catalogId);
      const listed = await store.catalog.list({ kind: 'PLAYBOOK', path });
      expect(listed.map((e) => e.version)).toEqual([2, 1]);
      expect((await store.catalog.list({ kind: 'agent' })).map((e) => e.catalogId)).toContain(
        other.catalogId,
      );
      expect((await store.catalog.getByPath(path))?.version).toBe(2);
      expect((await store.catalog.getByPath(path, 'latest'))?.content).toBe('a: 2');
      expect((await store.catalog.getByPath(path, 1))?.catalogId).toBe(v1.catalogId);
      expect(await store.catalog.getByPath(path, 7)).toBeUndefined();
      expect((await store.catalog.get(v2.catalogId))?.path).toBe(path);
      expect(await store.catalog.get(ids.next())).toBeUndefined();
    });

    it('gives concurrent registrations of one path distinct versions', async () => {
      const { store, peer } = get();
      const path = `tests/race/${ids.next()}`;
      const made = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 && peer ? peer : store).catalog.register({ path, kind: 'playbook', content: `v${i}` }),
        ),
      );
      expect(made.map((e) => e.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });

    it('deletes unused versions, archives used ones, restores them', async () => {
      const { store } = get();
      const path = `tests/delete/${ids.next()}`;
      const v1 = await store.catalog.register({ path, kind: 'playbook', content: '1' });
      const v2 = await store.catalog.register({ path, kind: 'playbook', content: '2' });
      await startExecution(store, { catalogId: v1.catalogId, path });
      const deleted = await store.catalog.delete(path);
      expect(deleted).toEqual([
        { catalogId: v1.catalogId, version: 1, archived: true },
        { catalogId: v2.catalogId, version: 2, archived: false },
      ]);
      expect(await store.catalog.getByPath(path)).toBeUndefined();
      expect((await store.catalog.list({ path })).length).toBe(0);
      expect((await store.catalog.list({ path, includeArchived: true })).map((e) => e.version)).toEqual([1]);
      const restored = await store.catalog.restore(path, 1);
      expect(restored.map((e) => [e.version, e.archived])).toEqual([[1, false]]);
      // archived versions keep their number; the deleted newest one's number is given again
      expect((await store.catalog.register({ path, kind: 'playbook', content: '3' })).version).toBe(2);
    });
  });

  describe('credentials', () => {
    it('upserts by name, lists without data, gets by id or name, deletes', async () => {
      const { store } = get();
      const name = `pg_${ids.next()}`;
      const a = await store.credentials.upsert({
        name,
        type: 'postgres',
        dataEncrypted: 'v1:aaa',
        tags: ['db', 'prod'],
        description: 'Main DB',
        meta: { owner: 'ops' },
      });
      const b = await store.credentials.upsert({
        name,
        type: 'postgres',
        dataEncrypted: 'v1:bbb',
        description: 'Main DB (rotated)',
      });
      expect(b.id).toBe(a.id);
      expect(a.tags).toEqual(['db', 'prod']);
      expect(b.tags).toEqual([]);
      const listed = await store.credentials.list({ type: 'postgres', q: 'ROTATED' });
      expect(listed.map((c) => c.name)).toContain(name);
      for (const c of listed) expect(c).not.toHaveProperty('dataEncrypted');
      expect((await store.credentials.list({ type: 'nope' })).length).toBe(0);
      expect((await store.credentials.get(name))?.dataEncrypted).toBe('v1:bbb');
      expect((await store.credentials.get(a.id))?.name).toBe(name);
      expect(await store.credentials.get('99999999999999999999')).toBeUndefined();
      expect(await store.credentials.delete(name)).toBe(true);
      expect(await store.credentials.get(a.id)).toBeUndefined();
      expect(await store.credentials.delete(a.id)).toBe(false);
    });
  });

  describe('vars', () => {
    it('upserts, counts reads, validates var_type, deletes', async () => {
      const { store } = get();
      const executionId = ids.next();
      expect(
        await store.vars.set(executionId, [
          { name: 'a', value: { n: 1 } },
          { name: 'b', value: [1, 2], type: 'step_result', sourceStep: 's1' },
        ]),
      ).toBe(2);
      await store.vars.set(executionId, [{ name: 'a', value: 'replaced', type: 'computed' }]);
      await expect(
        store.vars.set(executionId, [{ name: 'c', value: 1, type: 'bogus' as 'computed' }]),
      ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      const list = await store.vars.list(executionId);
      expect(list.map((v) => [v.name, v.type, v.value, v.sourceStep])).toEqual([
        ['a', 'computed', 'replaced', null],
        ['b', 'step_result', [1, 2], 's1'],
      ]);
      expect((await store.vars.get(executionId, 'b'))?.accessCount).toBe(1);
      expect((await store.vars.get(executionId, 'b'))?.accessCount).toBe(2);
      expect(await store.vars.get(executionId, 'zzz')).toBeUndefined();
      expect(await store.vars.delete(executionId, 'a')).toBe(true);
      expect(await store.vars.delete(executionId, 'a')).toBe(false);
      expect(await store.vars.clear(executionId)).toBe(1);
      expect(await store.vars.list(executionId)).toEqual([]);
    });
  });

  describe('runtime', () => {
    it('registers, heartbeats, marks silent runtimes offline, deregisters', async () => {
      const { store } = get();
      const live = `pool-live-${ids.next()}`;
      const silent = `pool-silent-${ids.next()}`;
      const r = await store.runtime.register({
        name: live,
        kind: 'worker_pool',
        capacity: 4,
        labels: { zone: 'a' },
        runtime: { hostname: 'h1' },
      });
      expect(r).toMatchObject({
        name: live,
        kind: 'worker_pool',
        status: 'active',
        capacity: 4,
        runtime: { hostname: 'h1' },
      });
      await store.runtime.register({ name: silent, kind: 'worker_pool' });
      await expect(store.runtime.register({ name: 'x', kind: 'bogus' as 'broker' })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
      expect(await store.runtime.heartbeat(live, 'worker_pool')).toBe(true);
      expect(await store.runtime.heartbeat('no-such-pool')).toBe(false);
      const schema = store.stats().schema;
      await store.query(
        `UPDATE ${schema}.runtime SET heartbeat = now() - interval '5 minutes' WHERE name = $1`,
        [silent],
      );
      const offline = await store.runtime.markOffline(60_000);
      expect(offline).toContain(silent);
      expect(offline).not.toContain(live);
      expect((await store.runtime.list({ name: silent }))[0]?.status).toBe('offline');
      expect(await store.runtime.markOffline(60_000)).not.toContain(silent);
      await store.runtime.heartbeat(silent);
      expect((await store.runtime.list({ name: silent }))[0]?.status).toBe('active');
      expect(await store.runtime.deregister(live)).toBe(true);
      expect(
        (await store.runtime.list({ kind: 'worker_pool', status: 'inactive' })).map((x) => x.name),
      ).toContain(live);
    });
  });

  describe('keychain', () => {
    it('caches entries, counts reads, flags and purges expired ones', async () => {
      const { store } = get();
      const catalogId = ids.next();
      const future = new Date(Date.now() + 3_600_000).toISOString();
      const past = new Date(Date.now() - 1_000).toISOString();
      const base = {
        keychainName: 'tok',
        catalogId,
        credentialType: 'oauth',
        cacheType: 'token',
        scopeType: 'global',
        dataEncrypted: 'v1:x',
      } as const;
      const put = await store.keychain.put({
        ...base,
        cacheKey: `tok:${catalogId}:global`,
        expiresAt: future,
        autoRenew: true,
        renewConfig: { url: 'https://x' },
      });
      expect(put).toMatchObject({
        expired: false,
        accessCount: 0,
        autoRenew: true,
        renewConfig: { url: 'https://x' },
      });
      await store.keychain.put({
        ...base,
        keychainName: 'old',
        cacheKey: `old:${catalogId}:global`,
        expiresAt: past,
      });
      expect((await store.keychain.get(`tok:${catalogId}:global`))?.accessCount).toBe(1);
      expect((await store.keychain.get(`old:${catalogId}:global`))?.expired).toBe(true);
      expect((await store.keychain.listByCatalog(catalogId)).map((k) => k.keychainName)).toEqual([
        'old',
        'tok',
      ]);
      expect(await store.keychain.purgeExpired()).toBeGreaterThanOrEqual(1);
      expect((await store.keychain.listByCatalog(catalogId)).map((k) => k.keychainName)).toEqual(['tok']);
      expect(await store.keychain.delete(`tok:${catalogId}:global`)).toBe(true);
      expect(await store.keychain.get(`tok:${catalogId}:global`)).toBeUndefined();
    });
  });

  describe('executions', () => {
    it('filters, pages and finds by idempotency key and age', async () => {
      const { store } = get();
      const catalogId = ids.next();
      const path = `tests/exec/${catalogId}`;
      const started = [];
      for (let i = 0; i < 5; i++) started.push(await startExecution(store, { catalogId, path }));
      const done = started[0]!;
      await store.events.append({
        events: [event(done.executionId, 'playbook.completed', { nodeName: 'playbook' })],
      });
      const byCatalog = await store.executions.list({ catalogId });
      expect(byCatalog.map((x) => x.executionId)).toEqual(started.map((s) => s.executionId).reverse());
      expect((await store.executions.list({ path, status: 'COMPLETED' })).map((x) => x.executionId)).toEqual([
        done.executionId,
      ]);
      expect((await store.executions.list({ catalogId, status: 'RUNNING' })).length).toBe(4);
      const page = await store.executions.list({ catalogId, limit: 2, offset: 1 });
      expect(page.map((x) => x.executionId)).toEqual([started[3]!.executionId, started[2]!.executionId]);

      const keyed = ids.next();
      await store.events.append({
        execution: { executionId: keyed, path, idempotencyKey: `dedup-${keyed}` },
        events: [event(keyed, 'playbook_started')],
      });
      expect((await store.executions.findByIdempotencyKey(`dedup-${keyed}`, 60_000))?.executionId).toBe(
        keyed,
      );
      expect(await store.executions.findByIdempotencyKey(`dedup-none`, 60_000)).toBeUndefined();

      const schema = store.stats().schema;
      const old = started[1]!.executionId;
      await store.query(
        `UPDATE ${schema}.execution SET start_time = now() - interval '2 hours' WHERE execution_id = $1`,
        [old],
      );
      const stale = (await store.executions.listRunningOlderThan(60 * 60_000)).map((x) => x.executionId);
      expect(stale).toContain(old);
      expect(stale).not.toContain(started[2]!.executionId);
      expect(await store.executions.get(ids.next())).toBeUndefined();
    });
  });
}
