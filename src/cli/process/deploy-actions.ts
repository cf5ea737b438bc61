import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NoetlError } from '../../shared/index.js';
import { loadCliConfig, type GlobalFlags } from '../cli-config.js';
import { EXIT } from '../exit.js';
import type { CliContext } from '../main.js';
import { note, print, printJson } from '../output.js';

/**
 * `noetl build` and `noetl k8s deploy|redeploy|reset|status` (docs/deploy.md): the container
 * image from the package's Dockerfile, and the kustomize overlays under deploy/k8s applied with
 * kubectl (`kind load` first when the context is a kind cluster). Each runs the same commands a
 * person would type; `--dry-run` prints them instead.
 */

/** The package root: dist/cli/process -> three levels up (src/cli/process in tests). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NAMESPACE = 'noetl';
const DEFAULT_TAG = 'noetl:local';
const PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;
const OVERLAYS = ['dev', 'production'] as const;

interface Step {
  readonly cmd: string;
  readonly args: readonly string[];
}

interface BuildRecord {
  readonly image: string;
  readonly platform?: string;
  readonly engine: string;
  readonly built_at: string;
}

function which(name: string, env: Readonly<Record<string, string | undefined>>): boolean {
  return (env['PATH'] ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, name)));
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=@,+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

export function stepText(step: Step): string {
  return [step.cmd, ...step.args].map(shellWord).join(' ');
}

/** Runs a step with its output on this terminal's stderr; throws with a code when it fails. */
function run(step: Step, capture = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(step.cmd, [...step.args], { stdio: ['ignore', capture ? 'pipe' : 2, 2] });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', (err) =>
      reject(new NoetlError('UNAVAILABLE', `cannot run ${step.cmd}: ${err.message}`, { cause: err })),
    );
    child.once('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(new NoetlError('TOOL_FAILED', `\`${stepText(step)}\` exited with ${code ?? 'a signal'}`)),
    );
  });
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new NoetlError('USAGE', `${flag} must be one of ${allowed.join(', ')}, got '${value}'`);
}

function recordPath(home: string): string {
  return join(home, 'build.json');
}

async function lastBuild(home: string): Promise<BuildRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordPath(home), 'utf8')) as BuildRecord;
  } catch {
    return undefined;
  }
}

export interface BuildOptions {
  readonly platform?: string;
  readonly noCache?: boolean;
  readonly tag?: string;
  readonly engine?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/** The build command for the engine found (docker, else podman; buildx when a platform is set). */
export function buildSteps(engine: string, opts: BuildOptions, version: string): Step[] {
  const tag = opts.tag ?? DEFAULT_TAG;
  const common = [
    '-t',
    tag,
    '-f',
    join(PACKAGE_ROOT, 'Dockerfile'),
    '--build-arg',
    `VERSION=${version}`,
    ...(opts.noCache ? ['--no-cache'] : []),
  ];
  if (opts.platform !== undefined) {
    const args =
      engine === 'docker'
        ? ['buildx', 'build', '--load', '--platform', opts.platform]
        : ['build', '--platform', opts.platform];
    return [{ cmd: engine, args: [...args, ...common, PACKAGE_ROOT] }];
  }
  return [{ cmd: engine, args: ['build', ...common, PACKAGE_ROOT] }];
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** `noetl build`. */
export async function buildAction(ctx: CliContext, flags: GlobalFlags, opts: BuildOptions): Promise<number> {
  const platform = oneOf('--platform', opts.platform, PLATFORMS);
  const engine =
    oneOf('--engine', opts.engine, ['docker', 'podman']) ??
    (which('docker', ctx.env) ? 'docker' : which('podman', ctx.env) ? 'podman' : undefined);
  if (engine === undefined) {
    throw new NoetlError(
      'UNAVAILABLE',
      'neither docker nor podman is on PATH: install one to build the image',
    );
  }
  const steps = buildSteps(engine, { ...opts, ...(platform ? { platform } : {}) }, await packageVersion());
  const tag = opts.tag ?? DEFAULT_TAG;
  if (opts.dryRun) {
    if (opts.json) printJson({ image: tag, engine, commands: steps.map(stepText) });
    else for (const s of steps) print(stepText(s));
    return EXIT.ok;
  }
  for (const s of steps) {
    note(`$ ${stepText(s)}`);
    await run(s);
  }
  const { home } = loadCliConfig(ctx.env, flags);
  const record: BuildRecord = {
    image: tag,
    engine,
    built_at: new Date().toISOString(),
    ...(platform ? { platform } : {}),
  };
  await mkdir(home, { recursive: true, mode: 0o700 });
  await writeFile(recordPath(home), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  if (opts.json) printJson(record);
  else print(`built ${tag} (recorded for noetl k8s deploy)`);
  return EXIT.ok;
}

export interface K8sOptions {
  readonly context?: string;
  readonly overlay?: string;
  readonly image?: string;
  readonly platform?: string;
  readonly timeout?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

export type K8sAction = 'deploy' | 'redeploy' | 'reset' | 'status';

/** What a k8s action runs, given the context and the image (pure, for --dry-run and tests). */
export function k8sSteps(
  action: K8sAction,
  context: string,
  overlayDir: string,
  image: string,
  timeoutSeconds: number,
): Step[] {
  const kubectl = (...args: string[]): Step => ({ cmd: 'kubectl', args: ['--context', context, ...args] });
  const load: Step[] = context.startsWith('kind-')
    ? [{ cmd: 'kind', args: ['load', 'docker-image', image, '--name', context.slice('kind-'.length)] }]
    : [];
  const rollout = [
    kubectl('-n', NAMESPACE, 'rollout', 'status', 'statefulset/noetl-server', `--timeout=${timeoutSeconds}s`),
    kubectl('-n', NAMESPACE, 'rollout', 'status', 'deployment/noetl-worker', `--timeout=${timeoutSeconds}s`),
  ];
  switch (action) {
    case 'deploy':
      return [...load, kubectl('apply', '-k', overlayDir), ...rollout];
    case 'redeploy':
      return [
        ...load,
        kubectl('apply', '-k', overlayDir),
        kubectl('-n', NAMESPACE, 'rollout', 'restart', 'statefulset/noetl-server', 'deployment/noetl-worker'),
        ...rollout,
      ];
    case 'reset':
      return [
        kubectl('delete', '-k', overlayDir, '--ignore-not-found', '--wait=true'),
        ...load,
        kubectl('apply', '-k', overlayDir),
        ...rollout,
      ];
    case 'status':
      return [
        kubectl(
          '-n',
          NAMESPACE,
          'get',
          'pods,services,scaledobjects,hpa',
          '-l',
          'app.kubernetes.io/part-of=noetl',
        ),
      ];
  }
}

/**
 * A kustomization that takes the chosen overlay and sets the image: the overlay stays as shipped
 * and the image the last `noetl build` made (or --image) is what runs.
 */
export async function imageKustomization(overlay: string, image: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'noetl-k8s-'));
  const at = image.lastIndexOf(':');
  const slash = image.lastIndexOf('/');
  const [name, tag] = at > slash ? [image.slice(0, at), image.slice(at + 1)] : [image, 'latest'];
  const overlayDir = join(PACKAGE_ROOT, 'deploy', 'k8s', 'overlays', overlay);
  await writeFile(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${JSON.stringify(relative(dir, overlayDir))}`, // kustomize takes no absolute roots
      'images:',
      '  - name: noetl',
      `    newName: ${JSON.stringify(name)}`,
      `    newTag: ${JSON.stringify(tag)}`,
      '',
    ].join('\n'),
  );
  return dir;
}

async function currentContext(ctx: CliContext): Promise<string> {
  if (!which('kubectl', ctx.env)) throw new NoetlError('UNAVAILABLE', 'kubectl is not on PATH');
  const out = await run({ cmd: 'kubectl', args: ['config', 'current-context'] }, true);
  const name = out.trim();
  if (name === '') throw new NoetlError('USAGE', 'kubectl has no current context: pass --context');
  return name;
}

/** `noetl k8s deploy|redeploy|reset|status`. */
export async function k8sAction(
  ctx: CliContext,
  flags: GlobalFlags,
  action: K8sAction,
  opts: K8sOptions,
): Promise<number> {
  const context = opts.context ?? (await currentContext(ctx));
  const overlay =
    oneOf('--overlay', opts.overlay, OVERLAYS) ?? (context.startsWith('kind-') ? 'dev' : undefined);
  if (overlay === undefined && action !== 'status') {
    throw new NoetlError(
      'USAGE',
      `context '${context}' is not a kind cluster: pass --overlay dev or --overlay production`,
    );
  }
  oneOf('--platform', opts.platform, PLATFORMS);
  const timeout = opts.timeout === undefined ? 180 : Number(opts.timeout);
  if (!Number.isInteger(timeout) || timeout < 1) {
    throw new NoetlError('USAGE', `--timeout must be a number of seconds, got '${opts.timeout}'`);
  }
  const { home } = loadCliConfig(ctx.env, flags);
  const image = opts.image ?? (await lastBuild(home))?.image ?? DEFAULT_TAG;
  const dir = await imageKustomization(overlay ?? 'dev', image);
  let keep = false;
  try {
    const steps = k8sSteps(action, context, dir, image, timeout);
    if (opts.dryRun) {
      // The printed commands name the generated kustomization: it stays for them to be run.
      keep = true;
      if (opts.json)
        printJson({ context, overlay, image, kustomization: dir, commands: steps.map(stepText) });
      else {
        note(`# ${join(dir, 'kustomization.yaml')}: overlay ${overlay ?? 'dev'} with image ${image}`);
        for (const s of steps) print(stepText(s));
      }
      return EXIT.ok;
    }
    for (const s of steps) {
      note(`$ ${stepText(s)}`);
      await run(s);
    }
    if (opts.json) printJson({ context, overlay, image, action, ok: true });
    else if (action !== 'status') print(`${action}: noetl is up in ${context} (namespace ${NAMESPACE})`);
    return EXIT.ok;
  } finally {
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
}
