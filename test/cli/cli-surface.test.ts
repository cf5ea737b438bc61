// The CLI's surface without a server: help with env vars, shell completion, named contexts and
// the server-address precedence, usage errors.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStack, noetl } from '../helpers/cli.js';
import { json, killLeftovers, show, tempHome } from '../helpers/cli-home.js';

let home: string;
let env: Record<string, string | undefined>;
const run = (args: string[], extra: Record<string, string | undefined> = {}) =>
  noetl(args, { env: { ...env, ...extra } });

beforeAll(() => {
  home = tempHome();
  env = {
    NOETL_HOME: home,
    NOETL_SERVER_URL: undefined,
    NOETL_HOST: undefined,
    NOETL_PORT: undefined,
    NATS_URL: undefined,
  };
});

afterAll(() => killLeftovers(home));

describe('help', () => {
  it('lists every command and the env vars of each', async () => {
    const top = await run(['--help']);
    for (const c of [
      'server',
      'worker',
      'register',
      'catalog',
      'execute',
      'status',
      'events',
      'context',
      'completion',
    ]) {
      expect(top.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    }
    const start = await run(['server', 'start', '--help']);
    for (const v of [
      'NOETL_PORT',
      'NOETL_DATABASE_URL',
      'POSTGRES_HOST',
      'NATS_URL',
      'NOETL_ENCRYPTION_KEY',
    ]) {
      expect(start.stdout).toMatch(v);
    }
    const worker = await run(['worker', 'start', '--help']);
    for (const v of ['WORKER_METRICS_BIND', 'WORKER_POOL_NAME', 'NOETL_SERVER_URL', 'NATS_URL']) {
      expect(worker.stdout).toMatch(v);
    }
    const status = await run(['status', '--help']);
    expect(status.stdout).toMatch(/Environment:\n {2}NOETL_SERVER_URL/);
    expect(status.stdout).toMatch(/--server-url <url>/);
  });

  it('gives a usage error as one line, exit 2', async () => {
    const r = await run(['execute', 'playbook']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/^error\[USAGE\]: missing required argument 'path'/);
    const set = await run(['execute', 'playbook', 'x', '--set', 'novalue']);
    expect(set.code).toBe(2);
    expect(set.stderr).toMatch("error[USAGE]: --set expects key=value, got 'novalue'");
    expect(hasStack(set.stderr)).toBe(false);
  });
});

describe('completion', () => {
  it('generates bash and zsh scripts from the command tree', async () => {
    const bash = await run(['completion', 'bash']);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toMatch('complete -o default -o bashdefault -F _noetl_completions noetl');
    expect(bash.stdout).toMatch(/"\/server\/start"\) subs=""; opts="[^"]*--init-db/);
    expect(bash.stdout).toMatch(/"\/register"\) subs="playbook credential/);
    expect(spawnSync('bash', ['-n'], { input: bash.stdout }).status).toBe(0);
    // completes `noetl server st` as a shell would
    const probe = `${bash.stdout}\nCOMP_WORDS=(noetl server st); COMP_CWORD=2; _noetl_completions; echo "\${COMPREPLY[*]}"`;
    expect(spawnSync('bash', ['-c', probe], { encoding: 'utf8' }).stdout.trim()).toBe('start stop status');

    const zsh = await run(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef noetl/);
    expect(zsh.stdout).toMatch(/'start:start the server in the background/);
    if (existsSync('/bin/zsh') || existsSync('/usr/bin/zsh')) {
      expect(spawnSync('zsh', ['-n'], { input: zsh.stdout }).status).toBe(0);
    }
    const bad = await run(['completion', 'fish']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch("error[USAGE]: completion supports bash and zsh, not 'fish'");
  });
});

describe('contexts', () => {
  it('adds, uses, lists, shows and deletes contexts in $NOETL_HOME/config.yaml', async () => {
    const none = await run(['context', 'current', '--json']);
    expect(json(none)).toEqual({
      current_context: null,
      server_url: 'http://localhost:8082',
      from: 'default',
    });

    expect((await run(['context', 'add', 'dev', '--server-url', 'http://dev.example:8082'])).code).toBe(0);
    const prod = await run([
      'context',
      'add',
      'prod',
      '--server-url',
      'https://prod.example/',
      '--runtime',
      'distributed',
    ]);
    expect(prod.stdout).toMatch("added context 'prod' (https://prod.example)");
    const file = readFileSync(join(home, 'config.yaml'), 'utf8');
    expect(file).toMatch(/^current_context: dev$/m);
    expect(file).toMatch(/prod:\n\s+server_url: https:\/\/prod.example\n\s+runtime: distributed/);

    const list = await run(['context', 'list']);
    expect(list.stdout).toMatch(/^\* +dev +http:\/\/dev.example:8082 +auto$/m);
    expect((await run(['context', 'use', 'prod'])).code).toBe(0);
    const current = json(await run(['context', 'current', '--json']));
    expect(current).toEqual({
      current_context: 'prod',
      server_url: 'https://prod.example',
      from: "context 'prod'",
    });

    const unknown = await run(['context', 'use', 'nope']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch("error[NOT_FOUND]: no context named 'nope' (known: dev, prod)");

    const del = await run(['context', 'delete', 'prod']);
    expect(del.stdout).toMatch("deleted context 'prod' (it was current; none is now)");
    expect(json(await run(['context', 'list', '--json']))).toEqual({
      current_context: null,
      contexts: [{ name: 'dev', current: false, server_url: 'http://dev.example:8082', runtime: 'auto' }],
    });
  });

  it('finds the server: flags, then env, then the current context, then the default', async () => {
    writeFileSync(
      join(home, 'config.yaml'),
      'current_context: ctx\ncontexts:\n  ctx: { server_url: "http://ctx.example:1" }\n  other: { server_url: "http://other.example:2" }\n',
    );
    const from = async (args: string[], extra: Record<string, string> = {}) =>
      json<{ server_url: string; from: string }>(await run(['context', 'current', '--json', ...args], extra));
    expect(await from([])).toMatchObject({ server_url: 'http://ctx.example:1', from: "context 'ctx'" });
    expect(await from(['--context', 'other'])).toMatchObject({ server_url: 'http://other.example:2' });
    expect(await from([], { NOETL_PORT: '9000' })).toMatchObject({ server_url: 'http://127.0.0.1:9000' });
    expect(await from([], { NOETL_SERVER_URL: 'http://env.example:3', NOETL_PORT: '9000' })).toMatchObject({
      server_url: 'http://env.example:3',
      from: 'NOETL_SERVER_URL',
    });
    expect(await from(['--port', '9001'], { NOETL_SERVER_URL: 'http://env.example:3' })).toMatchObject({
      server_url: 'http://127.0.0.1:9001',
      from: '--host/--port',
    });
    expect(await from(['--server-url', 'http://flag.example:4', '--port', '9001'])).toMatchObject({
      server_url: 'http://flag.example:4',
    });
    // before the command name too
    const before = await run(['--server-url', 'http://flag.example:5', 'context', 'current', '--json']);
    expect(json(before)).toMatchObject({ server_url: 'http://flag.example:5' });
    const bad = await run(['context', 'current', '--server-url', 'ftp://x']);
    expect(bad.code, show(bad)).toBe(2);
  });
});

describe('cancel', () => {
  it('asks the server to cascade unless --no-cascade', async () => {
    const bodies: unknown[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push({ url: req.url, body: JSON.parse(body) as unknown });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ execution_id: '7', status: 'cancelled', message: 'cancelled' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const args of [[], ['--no-cascade'], ['--cascade', '-r', 'stop it']]) {
        const r = await run(['cancel', '7', '--server-url', url, ...args]);
        expect(r.code, show(r)).toBe(0);
      }
    } finally {
      server.close();
    }
    expect(bodies).toEqual([
      { url: '/api/executions/7/cancel', body: { cascade: true } },
      { url: '/api/executions/7/cancel', body: { cascade: false } },
      { url: '/api/executions/7/cancel', body: { reason: 'stop it', cascade: true } },
    ]);
  });
});

describe('worker start without NATS', () => {
  it('refuses before starting anything: exit 2', async () => {
    const r = await run(['worker', 'start', '--name', 'x']);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toMatch(/^error\[CONFIG_INVALID\]: a worker process needs NATS_URL/);
    expect(existsSync(join(home, 'noetl_worker_x.pid'))).toBe(false);
  });
});
