import { ToolError } from '../../shared/index.js';
import { mergeEnv, runProcess } from '../process.js';
import type { ToolContext, ToolOutput } from '../types.js';
import { readShellConfig } from './config.js';

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
    const run = await runProcess({
      kind: 'shell',
      command: config.shell,
      args: ['-c', command],
      env,
      signal: ctx.signal,
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
