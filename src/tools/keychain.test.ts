import { describe, expect, it } from 'vitest';
import type { KeychainEntry, Task } from '../dsl/index.js';
import { SecretRegistry } from '../shared/index.js';
import { templates } from '../template/index.js';
import { resolveKeychain } from './keychain.js';
import { runTasks } from './pipeline.js';
import { defaultRegistry } from './registry.js';
import type { ToolServices } from './types.js';

const entry = (fields: Record<string, unknown>): KeychainEntry => ({
  name: String(fields.name),
  kind: typeof fields.kind === 'string' ? fields.kind : '',
  fields,
});

const services = (secrets = new SecretRegistry()): ToolServices => ({
  secrets,
  resolveCredential: (alias) =>
    alias === 'pg_local'
      ? Promise.resolve({ name: alias, type: 'postgres', data: { host: 'h', password: 'db-pass-1' } })
      : Promise.reject(
          Object.assign(new Error(`credential '${alias}' not found`), { code: 'CREDENTIAL_NOT_FOUND' }),
        ),
});

const deps = (s: ToolServices = services()) => ({
  templates: templates(),
  services: s,
  signal: new AbortController().signal,
});

describe('keychain resolution', () => {
  it('resolves static, bearer and credential entries, reading the scope and each other', async () => {
    const secrets = new SecretRegistry();
    const resolved = await resolveKeychain(
      [
        entry({ name: 'token', kind: 'bearer', token: 'Bearer-{{ keychain.creds.client_id }}' }),
        entry({
          name: 'creds',
          kind: 'static',
          map: { client_id: '{{ workload.id }}', client_secret: 'lit-secret' },
        }),
        entry({ name: 'db', kind: 'credential', credential: 'pg_local' }),
      ],
      { workload: { id: 'cid-42' } },
      deps(services(secrets)),
    );
    expect(resolved).toEqual({
      token: { token: 'Bearer-cid-42' },
      creds: { client_id: 'cid-42', client_secret: 'lit-secret' },
      db: { host: 'h', password: 'db-pass-1' },
    });
    expect(secrets.redact('Bearer-cid-42 lit-secret db-pass-1 h')).toBe('*** *** *** h');
  });

  it('reports secret providers and oauth2 as not supported, naming the entry', async () => {
    await expect(
      resolveKeychain(
        [entry({ name: 'openai', kind: 'secrets', provider: 'gcp', map: { k: 'p' } })],
        {},
        deps(),
      ),
    ).rejects.toMatchObject({
      code: 'CREDENTIAL_UNSUPPORTED',
      message: "keychain 'openai': secret provider 'gcp' is not configured",
    });
    await expect(
      resolveKeychain([entry({ name: 'tok', kind: 'oauth2', endpoint: 'x' })], {}, deps()),
    ).rejects.toThrow(/keychain 'tok': kind 'oauth2' is not supported.*http step/);
    await expect(resolveKeychain([entry({ name: 'x', kind: 'vaulty' })], {}, deps())).rejects.toThrow(
      "keychain 'x': unsupported kind 'vaulty' (supported: static, bearer, credential, postgres_credential)",
    );
  });

  it('binds keychain.<name>.<field> in the tasks of a step; a failing entry fails the step', async () => {
    const task: Task = {
      label: 'echo',
      kind: 'noop',
      config: { result: { header: 'Bearer {{ keychain.api.token }}', pw: '{{ keychain.db.password }}' } },
    };
    const run = (keychain: KeychainEntry[]) =>
      runTasks(
        {
          spec: { shape: 'single', tasks: [task] },
          scope: { workload: { t: 'tok-9999' } },
          executionId: 'e',
          step: 's',
          commandId: 'c',
          keychain,
        },
        { registry: defaultRegistry(), ...deps() },
      );
    const ok = await run([
      entry({ name: 'api', kind: 'bearer', token: '{{ workload.t }}' }),
      entry({ name: 'db', kind: 'postgres_credential', credential: 'pg_local' }),
    ]);
    expect(ok).toMatchObject({ status: 'success', data: { header: 'Bearer tok-9999', pw: 'db-pass-1' } });
    const missing = await run([
      entry({ name: 'api', kind: 'bearer', token: 'x' }),
      entry({ name: 'db', kind: 'credential', credential: 'nope' }),
    ]);
    expect(missing).toMatchObject({
      status: 'error',
      attempts: 0,
      error: { message: "credential 'nope' not found" },
    });
  });
});
