import { basename } from 'node:path';
import { ToolError } from '../../shared/index.js';
import { mergeEnv, runProcess } from '../process.js';
import type { ToolContext, ToolOutput } from '../types.js';
import { readShellConfig } from './config.js';

/** Shells that run `eval "$VAR"` like `-c VAR`'s text (POSIX `sh -c` semantics). */
const POSIX_SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash']);

/** Environment variable that carries a command's text to its shell. */
export const SCRIPT_VAR = '__NOETL_SHELL_SCRIPT';

/**
 * The command line of one command. The text (with rendered credentials and keychain values in
 * it) never goes on the command line, which every user of the machine can read in `ps` and
 * /proc/<pid>/cmdline: a POSIX shell gets it in an environment variable (readable by the same
 * user only) and evaluates it, dropping the variable first so the command's children do not
 * inherit it. Another shell (`shell: python3`) gets `-c <text>`, refused when a secret is in it.
 */
function commandLine(
  ctx: ToolContext,
  shell: string,
  command: string,
): { args: string[]; env?: Record<string, string> } {
  if (POSIX_SHELLS.has(basename(shell))) {
    return { args: ['-c', `eval "unset ${SCRIPT_VAR}\n$${SCRIPT_VAR}"`], env: { [SCRIPT_VAR]: command } };
  }
  const secrets = ctx.services.secrets;
  if (secrets && secrets.size > 0 && secrets.redact(command) !== command) {
    throw new ToolError(
      `shell: a credential or keychain value would be on the command line of '${shell}' (visible in ps): ` +
        'use a POSIX shell (bash, sh) or pass the value through env',
    );
  }
  return { args: ['-c', command] };
}

export async function executeShell(
  ctx: ToolContext,
  rawConfig: Readonly<Record<string, unknown>>,
): Promise<ToolOutput> {
  const config = readShellConfig(rawConfig);
  const env = mergeEnv(ctx.services.env ?? process.env, config.env);
  const deadline = config.timeoutMs === undefined ? undefined : Date.now() + config.timeoutMs;
  let stdout = '';
  let stderr = '';
  let exitCode = 0;
  for (const command of config.commands) {
    // One timeout for the whole command list.
    const timeoutMs = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
    const line = commandLine(ctx, config.shell, command);
    const run = await runProcess({
      kind: 'shell',
      command: config.shell,
      args: line.args,
      env: line.env ? { ...env, ...line.env } : env,
      signal: ctx.signal,
      ...(ctx.output ? { output: ctx.output } : {}),
      ...(config.cwd !== undefined ? { cwd: config.cwd } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
    stdout += run.stdout;
    stderr += run.stderr;
    exitCode = run.exitCode;
    if (exitCode !== 0) {
      const data = { stdout, stderr, exit_code: exitCode };
      const tail = run.stderr.trim().split('\n').slice(-3).join('\n');
      throw new ToolError(`shell: command exited with code ${exitCode}${tail ? `: ${tail}` : ''}`, {
        details: { data, command },
      });
    }
  }
  return { data: { stdout, stderr, exit_code: exitCode }, stdout, stderr, exit_code: exitCode };
}
