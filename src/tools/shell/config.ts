import {
  configError,
  optSeconds,
  optString,
  optStringMap,
  pick,
  typeName,
  type ConfigMap,
} from '../config-helpers.js';

export interface ShellConfig {
  /** Commands run one after the other, each in its own `<shell> -c`. */
  readonly commands: readonly string[];
  readonly shell: string;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

const KIND = 'shell';

function asCommand(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw configError(KIND, `'${where}' must be a string, got ${typeName(value)}`);
}

export function readShellConfig(config: ConfigMap): ShellConfig {
  const cmds = pick(config, 'cmds', 'commands');
  let commands: string[];
  if (cmds !== undefined) {
    commands = Array.isArray(cmds)
      ? cmds.map((c, i) => asCommand(c, `cmds[${i}]`))
      : [asCommand(cmds, 'cmds')];
  } else {
    const command = pick(config, 'command', 'cmd', 'script');
    if (command === undefined) throw configError(KIND, "'cmds' or 'command' is required");
    commands = [asCommand(command, 'command')];
  }
  commands = commands.filter((c) => c.trim() !== '');
  if (commands.length === 0) throw configError(KIND, 'no command to run');
  const cwd = optString(KIND, config, 'cwd');
  const env = optStringMap(KIND, config, 'env');
  const timeoutMs = optSeconds(KIND, config, 'timeout_seconds', 'timeout');
  return {
    commands,
    shell: optString(KIND, config, 'shell') ?? 'bash',
    ...(cwd !== undefined ? { cwd } : {}),
    ...(env !== undefined ? { env } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}
