import type { Command } from 'commander';
import type { BuildOptions, K8sAction, K8sOptions } from '../process/deploy-actions.js';
import type { CliContext } from '../main.js';
import { globalFlags, JSON_HELP } from './common.js';

/** `noetl build` and `noetl k8s ...` (docs/deploy.md). */
export function registerDeployCommands(program: Command, ctx: CliContext): void {
  program
    .command('build')
    .description('build the container image (server, worker and CLI in one)')
    .option('--platform <platform>', 'linux/amd64 or linux/arm64 (docker buildx / podman --platform)')
    .option('--no-cache', 'build every layer afresh')
    .option('--tag <image>', 'image name and tag (default noetl:local)')
    .option('--engine <engine>', 'docker or podman (default: the first on PATH)')
    .option('--dry-run', 'print the build command instead of running it')
    .option('-j, --json', JSON_HELP)
    .addHelpText(
      'after',
      `
Builds the package's Dockerfile (multi-stage: build, then a slim runtime with python3, non-root)
and records the tag in $NOETL_HOME/build.json for \`noetl k8s deploy\`.
Exit: 0 built, 2 bad flag, 3 no docker or podman, 1 the build failed.

Examples:
  noetl build
  noetl build --platform linux/arm64 --tag registry.example.com/noetl:0.1.0 --no-cache`,
    )
    .action(async (opts: BuildOptions & { cache?: boolean }, cmd: Command) => {
      const { buildAction } = await import('../process/deploy-actions.js');
      const { cache, ...rest } = opts;
      ctx.exitCode = await buildAction(ctx, globalFlags(cmd), { ...rest, noCache: cache === false });
    });

  const k8s = program
    .command('k8s')
    .description('deploy to Kubernetes with kubectl (kind load first on a kind cluster)')
    .addHelpText(
      'after',
      `
Applies the kustomize overlay deploy/k8s/overlays/<dev|production> with the image of the last
\`noetl build\` (or --image): dev for kind contexts (adds PostgreSQL and NATS), production
otherwise (workers scaled by KEDA on the JetStream backlog). See docs/deploy.md.`,
    );
  const actions: readonly [K8sAction, string][] = [
    ['deploy', 'load the image (kind), apply the overlay, wait for the rollout'],
    ['redeploy', 'load the image again and restart the pods'],
    ['reset', 'delete everything the overlay made, then deploy'],
    ['status', 'pods, services and autoscalers of noetl'],
  ];
  for (const [action, description] of actions) {
    k8s
      .command(action)
      .description(description)
      .option('--context <name>', 'kubectl context (default: the current one)')
      .option('--overlay <name>', 'dev or production (default: dev on kind-* contexts)')
      .option('--image <image>', 'image to run (default: the last noetl build, else noetl:local)')
      .option('--platform <platform>', 'accepted as NoETL does; the platform is chosen by noetl build')
      .option('--timeout <seconds>', 'how long to wait for the rollout (default 180)')
      .option('--dry-run', 'print the commands instead of running them')
      .option('-j, --json', JSON_HELP)
      .addHelpText('after', '\nExit: 0 done, 2 bad flag, 3 kubectl or kind missing, 1 a command failed.')
      .action(async (opts: K8sOptions, cmd: Command) => {
        const { k8sAction } = await import('../process/deploy-actions.js');
        ctx.exitCode = await k8sAction(ctx, globalFlags(cmd), action, opts);
      });
  }
}
