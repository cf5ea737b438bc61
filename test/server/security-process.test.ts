// One real `noetl server start --host 0.0.0.0` through the built CLI (issue 10 item 1): with no
// token given, the server generates one into $NOETL_HOME/api-token (mode 0600) and requires it;
// the CLI on the same machine reads the file and works; the token never reaches the log.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noetl } from '../helpers/cli.js';
import { alive, json, killLeftovers, recordedPids, show, tempHome } from '../helpers/cli-home.js';
import { freePort } from '../helpers/nats-server.js';

let home: string;
let port: number;
let env: Record<string, string | undefined>;
const run = (args: string[], timeoutMs = 60_000) => noetl(args, { env, timeoutMs });

beforeAll(async () => {
  home = tempHome('noetl-security-');
  port = await freePort();
  env = {
    NOETL_HOME: home,
    NOETL_PORT: String(port),
    NOETL_HOST: undefined,
    NOETL_API_TOKEN: undefined,
    NOETL_INSECURE: undefined,
    NOETL_SERVER_URL: undefined,
    NOETL_DATABASE_URL: undefined,
    POSTGRES_HOST: undefined,
    NATS_URL: undefined,
    NOETL_EMBEDDED_WORKERS: '1',
    NOETL_LOG_LEVEL: 'info',
  };
});

afterAll(() => {
  const pids = recordedPids(home);
  killLeftovers(home);
  for (const pid of pids) expect(alive(pid)).toBe(false);
});

describe('a server started on 0.0.0.0 without a token', () => {
  it(
    'generates a 0600 token file, requires it, and the local CLI uses it',
    { timeout: 180_000 },
    async () => {
      const start = await run(['server', 'start', '--host', '0.0.0.0', '--json'], 170_000);
      expect(start.code, show(start)).toBe(0);
      expect(json(start)).toMatchObject({ status: 'running' });

      const file = join(home, 'api-token');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const token = readFileSync(file, 'utf8').trim();
      expect(token.length).toBeGreaterThanOrEqual(40);

      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/api/health`)).status).toBe(200);
      const anon = await fetch(`${url}/api/catalog/list`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(anon.status).toBe(401);
      const authed = await fetch(`${url}/api/catalog/list`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: '{}',
      });
      expect(authed.status).toBe(200);

      // the CLI reads $NOETL_HOME/api-token for a local server (no NOETL_API_TOKEN set)
      const list = await run(['catalog', 'list', '--json']);
      expect(list.code, show(list)).toBe(0);

      const stop = await run(['server', 'stop']);
      expect(stop.code, show(stop)).toBe(0);
      const log = readFileSync(join(home, 'logs', 'server.log'), 'utf8');
      expect(log).toContain('generated API token');
      expect(log).not.toContain(token);
    },
  );
});
