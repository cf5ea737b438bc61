import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { BackendFactory, TestBackend, TestServer } from '../helpers/server-app.js';
import { startTestServer } from '../helpers/server-app.js';
import { catalogTests } from './catalog.suite.js';
import { credentialTests } from './credentials.suite.js';
import { databaseTests } from './database.suite.js';
import { keychainAndVarTests } from './keychain-vars.suite.js';
import { runtimeTests } from './runtime.suite.js';
import { sweepTests } from './sweep.suite.js';
import { systemTests } from './system.suite.js';

/** What the route suites share: one backend (store) per file and a default app on it. */
export interface ApiFixture {
  readonly backend: TestBackend;
  readonly server: TestServer;
}

export type GetFixture = () => ApiFixture;

/** Parses a JSON answer after checking its status (the body is shown when it differs). */
export function json<T = Record<string, unknown>>(res: LightMyRequestResponse, status = 200): T {
  expect({ status: res.statusCode, body: res.body }).toMatchObject({ status });
  return JSON.parse(res.body) as T;
}

/** Checks the error contract: status, code, and `{error, status, code}` JSON. */
export function expectError(
  res: LightMyRequestResponse,
  status: number,
  code?: string,
): Record<string, unknown> {
  const body = json(res, status);
  expect(typeof body['error']).toBe('string');
  expect(body['status']).toBe(status);
  if (code !== undefined) expect(body['code']).toBe(code);
  return body;
}

/** Every route suite against one backend. */
export function serverApiSuite(name: string, factory: BackendFactory): void {
  describe(`server API on ${name}`, () => {
    let fixture: ApiFixture | undefined;
    beforeAll(async () => {
      const backend = await factory();
      try {
        fixture = { backend, server: await startTestServer(backend) };
      } catch (error) {
        await backend.dispose();
        throw error;
      }
    }, 120_000);
    afterAll(async () => {
      await fixture?.server.close();
      await fixture?.backend.dispose();
    });
    const get: GetFixture = () => {
      if (!fixture) throw new Error('fixture not ready');
      return fixture;
    };
    systemTests(get);
    databaseTests(get);
    catalogTests(get);
    credentialTests(get);
    keychainAndVarTests(get);
    runtimeTests(get);
    sweepTests(get);
  });
}
