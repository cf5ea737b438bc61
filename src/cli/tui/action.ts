import { NoetlError } from '../../shared/index.js';
import type { GlobalFlags } from '../cli-config.js';
import { connectApi } from '../api/connect.js';
import { EXIT } from '../exit.js';
import type { CliContext } from '../main.js';

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColour(env: Readonly<Record<string, string | undefined>>, isTty: boolean): boolean {
  return isTty && (env['NO_COLOR'] ?? '') === '' && env['TERM'] !== 'dumb';
}

/** `noetl tui`: the terminal UI against the server of the current context. */
export async function tuiAction(ctx: CliContext, flags: GlobalFlags): Promise<number> {
  if (!process.stdin.isTTY) {
    throw new NoetlError('USAGE', 'noetl tui needs a terminal (stdin is not a TTY)');
  }
  const api = await connectApi(ctx, flags);
  // Fail fast with the usual UNAVAILABLE error when the server is not there.
  await api.client.health();
  // ink renders nothing until it exits when it believes it runs in CI (its is-in-ci reads CI and
  // CONTINUOUS_INTEGRATION as ink loads). A terminal UI on a TTY is interactive whatever the shell
  // exports, so those are hidden from it; the TUI starts no other process that could miss them.
  delete process.env['CI'];
  delete process.env['CONTINUOUS_INTEGRATION'];
  const { runTui } = await import('./app.js');
  try {
    await runTui({
      client: api.client,
      server: api.server.url,
      colour: useColour(ctx.env, process.stdout.isTTY === true),
    });
  } finally {
    api.client.close();
  }
  return EXIT.ok;
}
