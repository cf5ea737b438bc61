import { execFile } from 'node:child_process';

const resolved = new Map<string, Promise<string>>();

/**
 * The real interpreter behind a command name, asked once per process. Version managers put a
 * shell shim first on PATH (pyenv's costs ~250 ms per start here); running `sys.executable`
 * directly keeps a python step at the interpreter's own start-up cost.
 */
export function resolveInterpreter(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  let hit = resolved.get(command);
  if (!hit) {
    hit = new Promise<string>((done) => {
      execFile(
        command,
        ['-c', 'import sys; print(sys.executable)'],
        { env, timeout: 10_000 },
        (err, stdout) => {
          const path = stdout.trim();
          done(err || path === '' ? command : path);
        },
      );
    });
    resolved.set(command, hit);
  }
  return hit;
}
