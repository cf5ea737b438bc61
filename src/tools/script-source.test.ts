import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { templates } from '../template/index.js';
import { loadScript, readScriptSource, scriptRoot } from './script-source.js';
import type { ToolContext } from './types.js';

function ctx(extra: Partial<ToolContext> = {}, env: Record<string, string> = {}): ToolContext {
  return {
    executionId: 'e',
    step: 's',
    commandId: 'c',
    label: 's',
    attempt: 1,
    signal: new AbortController().signal,
    templates: templates(),
    services: { env },
    ...extra,
  };
}

describe('script sources', () => {
  it('reads the NoETL shapes and refuses gcs/s3 clearly', () => {
    expect(readScriptSource('python', { source: { type: 'inline', code: 'x' } })).toEqual({
      type: 'inline',
      code: 'x',
    });
    expect(readScriptSource('python', 'a/b.py')).toEqual({ type: 'file', path: 'a/b.py' });
    expect(readScriptSource('python', { uri: 'file:///x.py' })).toEqual({ type: 'file', path: '/x.py' });
    expect(
      readScriptSource('python', { source: { type: 'http', endpoint: 'http://h/s.py', timeout: 2 } }),
    ).toEqual({
      type: 'http',
      url: 'http://h/s.py',
      method: 'GET',
      timeoutMs: 2000,
    });
    expect(() => readScriptSource('python', { uri: 'gs://b/o.py', source: { type: 'gcs' } })).toThrow(
      /script source 'gcs' \(gs:\/\/b\/o.py\) is not supported/,
    );
    expect(() => readScriptSource('postgres', 's3://b/q.sql')).toThrow(/'s3'/);
  });

  it('resolves a relative file against the playbook folder, else NOETL_SCRIPT_ROOT, never the cwd', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'noetl-script-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'job.py'), 'result = 1\n');
    expect(await loadScript('python', { type: 'file', path: 'job.py' }, ctx({ baseDir: dir }))).toEqual({
      code: 'result = 1\n',
      filename: join(dir, 'job.py'),
    });
    expect(scriptRoot(ctx({}, { NOETL_SCRIPT_ROOT: dir }))).toBe(dir);
    expect(scriptRoot(ctx({}, { NOETL_HOME: '/srv/noetl' }))).toBe(
      process.env['NOETL_SCRIPT_ROOT'] ?? '/srv/noetl/scripts',
    );
    await expect(
      loadScript('python', { type: 'file', path: 'nope.py' }, ctx({ baseDir: dir })),
    ).rejects.toThrow(`python: cannot read script ${join(dir, 'nope.py')}`);
  });

  it('then looks under the playbook root (noetl.yaml or .git up), naming every path tried', async () => {
    const root = mkdtempSync(join(tmpdir(), 'noetl-script-root-'));
    try {
      const dir = join(root, 'playbooks', 'jobs');
      mkdirSync(join(root, 'scripts'), { recursive: true });
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(root, 'noetl.yaml'), 'name: x\n');
      writeFileSync(join(root, 'scripts', 'job.py'), 'result = 2\n');
      expect(
        await loadScript('python', { type: 'file', path: 'scripts/job.py' }, ctx({ baseDir: dir })),
      ).toEqual({ code: 'result = 2\n', filename: join(root, 'scripts', 'job.py') });
      await expect(
        loadScript('python', { type: 'file', path: 'scripts/nope.py' }, ctx({ baseDir: dir })),
      ).rejects.toThrow(
        `python: cannot read script ${join(dir, 'scripts/nope.py')} (also tried ${join(root, 'scripts/nope.py')})`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('fetches an http script at run time', async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/s.py' ? 200 : 404);
      res.end(req.url === '/s.py' ? 'result = 7\n' : 'no');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const got = await loadScript(
        'python',
        { type: 'http', url: `${url}/s.py`, method: 'GET', timeoutMs: 5000 },
        ctx(),
      );
      expect(got).toEqual({ code: 'result = 7\n', filename: `${url}/s.py` });
      await expect(
        loadScript('python', { type: 'http', url: `${url}/x.py`, method: 'GET', timeoutMs: 5000 }, ctx()),
      ).rejects.toThrow('gave HTTP 404');
    } finally {
      server.close();
    }
  });
});
