import { NoetlError } from '../../shared/index.js';
import { loadCliConfig, type GlobalFlags } from '../cli-config.js';
import {
  contextsPath,
  readContexts,
  requireContext,
  resolveServer,
  RUNTIMES,
  writeContexts,
  type ContextsFile,
} from '../context.js';
import { EXIT } from '../exit.js';
import type { CliContext } from '../main.js';
import { print, printJson, table } from '../output.js';

const NAME_RE = /^[A-Za-z0-9_.-]{1,100}$/;

/** `noetl context add NAME --server-url URL [--runtime R] [--set-current]`. */
export async function contextAdd(
  ctx: CliContext,
  flags: GlobalFlags,
  name: string,
  opts: { runtime?: string; setCurrent?: boolean },
): Promise<number> {
  if (!NAME_RE.test(name))
    throw new NoetlError('USAGE', `context name '${name}' may hold only A-Z a-z 0-9 _ . -`);
  if (flags.serverUrl === undefined) throw new NoetlError('USAGE', 'context add needs --server-url URL');
  const runtime = opts.runtime ?? 'auto';
  if (!RUNTIMES.some((r) => r === runtime)) {
    throw new NoetlError('USAGE', `--runtime must be one of ${RUNTIMES.join(', ')}, got '${runtime}'`);
  }
  const config = loadCliConfig(ctx.env, { serverUrl: flags.serverUrl });
  const url = config.explicitServer?.url ?? flags.serverUrl;
  const file = await readContexts(config.home);
  const existed = file.contexts[name] !== undefined;
  const current = opts.setCurrent || file.current_context === undefined ? name : file.current_context;
  await writeContexts(config.home, {
    ...file,
    current_context: current,
    contexts: { ...file.contexts, [name]: { ...(file.contexts[name] ?? {}), server_url: url, runtime } },
  });
  print(
    `${existed ? 'updated' : 'added'} context '${name}' (${url})${current === name ? ', now current' : ''}`,
  );
  return EXIT.ok;
}

/** `noetl context use NAME`. */
export async function contextUse(ctx: CliContext, flags: GlobalFlags, name: string): Promise<number> {
  const config = loadCliConfig(ctx.env, flags);
  const file = await readContexts(config.home);
  const entry = requireContext(file, name);
  await writeContexts(config.home, { ...file, current_context: name });
  print(`current context: ${name} (${entry.server_url ?? 'no server_url'})`);
  return EXIT.ok;
}

/** `noetl context list`. */
export async function contextList(
  ctx: CliContext,
  flags: GlobalFlags,
  opts: { json?: boolean },
): Promise<number> {
  const config = loadCliConfig(ctx.env, flags);
  const file = await readContexts(config.home);
  const names = Object.keys(file.contexts).sort();
  if (opts.json) {
    printJson({
      current_context: file.current_context ?? null,
      contexts: names.map((n) => ({ name: n, current: n === file.current_context, ...file.contexts[n] })),
    });
  } else if (names.length === 0) {
    print(
      `no contexts in ${contextsPath(config.home)} (add one with \`noetl context add NAME --server-url URL\`)`,
    );
  } else {
    print(
      table(
        ['', 'name', 'server_url', 'runtime'],
        names.map((n) => [
          n === file.current_context ? '*' : '',
          n,
          file.contexts[n]?.server_url,
          file.contexts[n]?.runtime,
        ]),
      ),
    );
  }
  return EXIT.ok;
}

/** `noetl context current`: the current context and the server the API commands would use now. */
export async function contextCurrent(
  ctx: CliContext,
  flags: GlobalFlags,
  opts: { json?: boolean },
): Promise<number> {
  const config = loadCliConfig(ctx.env, flags);
  const file = await readContexts(config.home);
  const server = await resolveServer(config);
  if (opts.json) {
    printJson({ current_context: file.current_context ?? null, server_url: server.url, from: server.from });
  } else if (file.current_context === undefined) {
    print(`no current context; commands use ${server.url} (from ${server.from})`);
  } else {
    print(`${file.current_context}\n  commands use ${server.url} (from ${server.from})`);
  }
  return EXIT.ok;
}

/** `noetl context delete NAME`: also clears current_context when it named it. */
export async function contextDelete(ctx: CliContext, flags: GlobalFlags, name: string): Promise<number> {
  const config = loadCliConfig(ctx.env, flags);
  const file = await readContexts(config.home);
  requireContext(file, name);
  const contexts = { ...file.contexts };
  delete contexts[name];
  const { current_context, ...rest } = file;
  const next: ContextsFile = {
    ...rest,
    contexts,
    ...(current_context !== undefined && current_context !== name ? { current_context } : {}),
  };
  await writeContexts(config.home, next);
  print(`deleted context '${name}'${current_context === name ? ' (it was current; none is now)' : ''}`);
  return EXIT.ok;
}
