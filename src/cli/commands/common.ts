import { Option, type Command } from 'commander';
import type { GlobalFlags } from '../cli-config.js';

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const SERVER_FLAGS = ['serverUrl', 'host', 'port', 'context'] as const;

/**
 * The server flags of a command: its own, else those given before the command name
 * (`noetl --server-url U status ID` and `noetl status ID --server-url U` both work).
 */
export function globalFlags(cmd: Command): GlobalFlags {
  const out: Record<string, string> = {};
  for (const key of SERVER_FLAGS) {
    for (let c: Command | null = cmd; c; c = c.parent) {
      const v: unknown = c.opts()[key];
      if (typeof v === 'string') {
        out[key] = v;
        break;
      }
    }
  }
  return out;
}

/** `--server-url`, `--host`, `--port`, `--context` on a command (API commands, start/status). */
export function withServerOptions(cmd: Command, role: 'client' | 'bind' = 'client'): Command {
  const host =
    role === 'bind'
      ? 'address the server binds to (env NOETL_HOST, default 127.0.0.1; others need a token)'
      : 'server host: talk to http://HOST:PORT (env NOETL_HOST)';
  const port =
    role === 'bind'
      ? 'port the server listens on (env NOETL_PORT, default 8082)'
      : 'server port (env NOETL_PORT, default 8082)';
  if (role === 'client') {
    cmd
      .option('--server-url <url>', 'server URL, wins over --host/--port (env NOETL_SERVER_URL)')
      .option('--context <name>', 'use this named context instead of the current one');
  }
  return cmd.option('--host <host>', host).option('-p, --port <port>', port);
}

/** The options every command takes wherever it is written (see buildProgram). */
export function addCommonOptions(cmd: Command): void {
  const visit = (c: Command): void => {
    if (c.commands.length === 0) {
      if (!c.options.some((o) => o.long === '--debug')) {
        c.addOption(new Option('--debug', 'print stack traces on errors'));
      }
    }
    for (const sub of c.commands) visit(sub);
  };
  for (const sub of cmd.commands) visit(sub);
}

export const JSON_HELP = 'print JSON for scripts';
