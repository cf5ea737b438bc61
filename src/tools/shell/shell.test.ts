import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SecretRegistry } from '../../shared/index.js';
import { templates } from '../../template/index.js';
import type { ToolContext } from '../types.js';
import { executeShell } from './execute.js';

function ctx(signal = new AbortController().signal, secrets?: SecretRegistry): ToolContext {
  return {
    executionId: 'e1',
    step: 'sh',
    commandId: 'c1',
    label: 'sh',
    attempt: 1,
    signal,
    templates: templates(),
    services: secrets ? { secrets } : {},
  };
}

/** The command lines of every process of this machine that holds `needle` in its own. */
function cmdlinesWith(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const line = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (line.includes(needle)) out.push(`${pid}: ${line}`);
    } catch {
      // gone
    }
  }
  return out;
}

describe('shell tool', () => {
  it('runs each of `cmds` in its own shell and concatenates output', async () => {
    const out = await executeShell(ctx(), { cmds: ['echo one', 'X=2; echo "two $X" >&2', 'echo $X'] });
    // Each command has its own process: X is not carried over.
    expect(out.data).toEqual({ stdout: 'one\n\n', stderr: 'two 2\n', exit_code: 0 });
    expect(out.stdout).toBe('one\n\n');
  });

  it('accepts a single `command` string, env and cwd', async () => {
    const out = await executeShell(ctx(), {
      command: 'echo "$GREETING from $(pwd)"',
      env: { GREETING: 'hi' },
      cwd: '/tmp',
    });
    expect(out.data).toEqual({ stdout: 'hi from /tmp\n', stderr: '', exit_code: 0 });
  });

  it('stops at the first failing command with the output so far', async () => {
    const err = await executeShell(ctx(), { cmds: ['echo a', 'echo bad >&2; exit 3', 'echo never'] }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      code: 'TOOL_FAILED',
      message: 'shell: command exited with code 3: bad',
      details: { data: { stdout: 'a\n', stderr: 'bad\n', exit_code: 3 } },
    });
  });

  it('kills the whole process group on timeout', async () => {
    const started = Date.now();
    await expect(
      executeShell(ctx(), { command: 'sleep 20; echo done', timeout_seconds: 0.3 }),
    ).rejects.toMatchObject({
      code: 'TOOL_TIMEOUT',
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('uses another shell when asked, and rejects a missing command', async () => {
    const out = await executeShell(ctx(), { command: 'echo $0', shell: 'sh' });
    expect((out.data as { stdout: string }).stdout.trim()).toBe('sh');
    await expect(executeShell(ctx(), {})).rejects.toMatchObject({
      message: "shell: 'cmds' or 'command' is required",
    });
  });
});

describe('shell tool background jobs', () => {
  it('does not wait for a background job holding the output open', async () => {
    const started = Date.now();
    const out = await executeShell(ctx(), { command: 'sleep 3 & echo started' });
    expect((out.data as { stdout: string }).stdout).toBe('started\n');
    expect(Date.now() - started).toBeLessThan(2500);
  });
});

describe('shell tool and secrets', () => {
  it('keeps a rendered credential off the command line of its processes (ps, /proc/<pid>/cmdline)', async () => {
    const secret = `pw-${process.pid}-${Date.now()}-cmdline`;
    const secrets = new SecretRegistry();
    secrets.add(secret);
    // The command as a template rendered it: the credential's value is in its text.
    const run = executeShell(ctx(undefined, secrets), {
      command: `PASS='${secret}'; sleep 0.6; echo "len=\${#PASS}"; echo "$__NOETL_SHELL_SCRIPT" | wc -c`,
    });
    await new Promise((r) => setTimeout(r, 300));
    const seen = cmdlinesWith(secret);
    const out = await run;
    expect(seen).toEqual([]);
    // it ran as written, and its children did not inherit the text
    expect((out.data as { stdout: string }).stdout).toBe(`len=${secret.length}\n1\n`);
  });

  it('refuses a secret on the command line of a shell that cannot take it by environment', async () => {
    const secrets = new SecretRegistry();
    secrets.add('hunter2-secret');
    await expect(
      executeShell(ctx(undefined, secrets), { command: 'print("hunter2-secret")', shell: 'python3' }),
    ).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      message: expect.stringContaining('visible in ps') as string,
    });
    const out = await executeShell(ctx(undefined, secrets), { command: 'print("ok")', shell: 'python3' });
    expect((out.data as { stdout: string }).stdout).toBe('ok\n');
  });
});
