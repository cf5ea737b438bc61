// Unknown keys and --strict through the built CLI: `noetl run` and `noetl validate` warn and go on,
// `--strict` (or NOETL_STRICT=1) stops them; `noetl register` prints a refused playbook's
// diagnostics at file:line:col and exits non-zero.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';
import { noetl } from '../helpers/cli.js';

let dir: string;
let typo: string;
let marker: string;

/** `next` misspelt `nxt` on line 8: `second` is never reached, and the file is never written. */
const TYPO = (markerFile: string) => `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: strict_typo, path: tests/cli/strict_typo }
workflow:
  - step: start
    tool:
      kind: shell
      cmds: ["echo ran > '${markerFile}'"]
    nxt: second
  - step: second
    tool: { kind: noop }
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'noetl-strict-'));
  marker = join(dir, 'ran.txt');
  typo = join(dir, 'typo.yaml');
  writeFileSync(typo, TYPO(marker));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const env = { NOETL_STRICT: undefined, NOETL_HOME: undefined };

describe('noetl run and validate with an unknown key', () => {
  it('run prints the warning on stderr with line:col, then the run completes', async () => {
    const r = await noetl(['run', typo], { cwd: dir, env: { ...env, NOETL_HOME: dir } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `${typo}:9:5: warning UNKNOWN_KEY: unknown key 'nxt' in step 'start'; it is ignored (did you mean 'next'?)`,
    );
    expect(r.stdout).toMatch(/^COMPLETED strict_typo/);
    expect(existsSync(marker)).toBe(true);
  });

  it('run --strict (or NOETL_STRICT=1) refuses the playbook: exit 2, nothing runs', async () => {
    rmSync(marker, { force: true });
    for (const [args, extra] of [
      [['run', '--strict', typo], {}],
      [['run', typo], { NOETL_STRICT: '1' }],
    ] as const) {
      const r = await noetl(args, { cwd: dir, env: { ...env, NOETL_HOME: dir, ...extra } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(
        /^error\[PLAYBOOK_INVALID\]: .*typo\.yaml:9:5: UNKNOWN_KEY unknown key 'nxt'/m,
      );
      expect(existsSync(marker)).toBe(false);
    }
  });

  it('validate reports the warning as valid; --strict makes it an error', async () => {
    const loose = await noetl(['validate', typo], { env });
    expect(loose.code).toBe(0);
    expect(loose.stdout).toContain(`${typo}:9:5: warning UNKNOWN_KEY`);
    const strict = await noetl(['validate', '--strict', '--json', typo], { env });
    expect(strict.code).toBe(1);
    const out = JSON.parse(strict.stdout) as {
      valid: boolean;
      diagnostics: { code: string; severity: string }[];
    };
    expect(out.valid).toBe(false);
    expect(out.diagnostics).toContainEqual(
      expect.objectContaining({ code: 'UNKNOWN_KEY', severity: 'error' }),
    );
  });
});

describe('noetl register against a server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });
  const cli = (args: string[]) => noetl([...args, '--server-url', server.url], { env });

  it('prints a refused playbook diagnostics at file:line:col and exits 2; nothing is stored', async () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(
      broken,
      `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: strict_broken, path: tests/cli/strict_broken }
workflow:
  - step: start
    tool: { kind: noop }
    next: [ end ]
  - step: end
    desc: no tool
`,
    );
    for (const args of [
      ['register', 'playbook', '-f', broken],
      ['catalog', 'register', broken],
    ]) {
      const r = await cli(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/broken\.yaml:8:5: error MISSING_FIELD: step 'end' has no `tool`/);
      expect(r.stderr).toMatch(/^error\[PLAYBOOK_INVALID\]: /m);
    }
    const entry = await server.post('/api/catalog/resource', { path: 'tests/cli/strict_broken' });
    expect(entry.status).toBe(404);
  });

  it('registers with a warning, --strict refuses it, the same content again is unchanged', async () => {
    const strict = await cli(['register', 'playbook', '--strict', '-f', typo]);
    expect(strict.code, strict.stderr).toBe(2);
    expect(strict.stderr).toMatch(/typo\.yaml:9:5: error UNKNOWN_KEY: unknown key 'nxt'/);
    const loose = await cli(['register', 'playbook', '-f', typo]);
    expect(loose.code, loose.stderr).toBe(0);
    expect(loose.stdout).toContain('registered tests/cli/strict_typo version 1');
    expect(loose.stdout).toMatch(/warning UNKNOWN_KEY:9:5: unknown key 'nxt'/);
    const again = await cli(['catalog', 'register', typo]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('unchanged tests/cli/strict_typo version 1');
  });
});
