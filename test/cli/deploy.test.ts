/**
 * Deployment (docs/deploy.md): the kustomize overlays render with kubectl and hold what an
 * operator relies on; the compose file and the manifests use only variables src/config defines;
 * the image's entrypoint dispatches; `noetl build` and `noetl k8s` run the commands they print
 * (their --dry-run is checked here: no container engine or cluster runs on these machines).
 */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- rendered manifests are untyped YAML, read field by field */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { ENV_VARS } from '../../src/config/index.js';
import { noetl } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CI = process.env['CI'] === 'true' || process.env['CI'] === '1';
const HAS_KUBECTL = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
if (!HAS_KUBECTL) {
  if (CI) throw new Error('kubectl is required under CI=true (it renders the kustomize overlays)');
  console.warn('deploy.test: kubectl not found, the kustomize rendering tests are skipped');
}
const KNOWN = new Set<string>(ENV_VARS.map((v) => v.name));
const home = mkdtempSync(join(tmpdir(), 'noetl-deploy-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

type Doc = { kind: string; metadata: { name: string }; spec?: any; data?: Record<string, string> };

function render(overlay: string): Doc[] {
  const out = execFileSync('kubectl', ['kustomize', join(ROOT, 'deploy/k8s/overlays', overlay)], {
    encoding: 'utf8',
  });
  return parseAllDocuments(out).map((d) => d.toJS() as Doc);
}

function one(docs: Doc[], kind: string, name: string): Doc {
  const d = docs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!d) throw new Error(`${kind}/${name} not rendered`);
  return d;
}

/** Variable names a noetl container reads: its env, and the ConfigMaps/Secrets it loads. */
function noetlVariables(docs: Doc[]): string[] {
  const names: string[] = [];
  for (const d of docs) {
    if (d.kind === 'ConfigMap' && d.metadata.name === 'noetl-config')
      names.push(...Object.keys(d.data ?? {}));
    if (d.kind === 'Secret' && d.metadata.name === 'noetl-secrets') names.push(...Object.keys(d.data ?? {}));
    const containers = d.spec?.template?.spec?.containers as
      { image: string; env?: { name: string }[] }[] | undefined;
    for (const c of containers ?? []) {
      if (!String(c.image).includes('noetl')) continue;
      names.push(...(c.env ?? []).map((e) => e.name));
    }
  }
  return names;
}

describe.skipIf(!HAS_KUBECTL)('kustomize overlays', () => {
  it('production: two server replicas with health probes, workers scaled by KEDA on the JetStream lag', () => {
    const docs = render('production');
    const server = one(docs, 'StatefulSet', 'noetl-server');
    expect(server.spec.replicas).toBeGreaterThanOrEqual(2);
    const c = server.spec.template.spec.containers[0];
    expect(c.readinessProbe.httpGet.path).toBe('/api/health');
    expect(c.livenessProbe.httpGet.path).toBe('/health');
    expect(c.resources.requests.memory).toBeTruthy();
    expect(server.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    const worker = one(docs, 'Deployment', 'noetl-worker');
    expect(worker.spec.template.spec.containers[0].resources.requests.cpu).toBeTruthy();
    const scaled = one(docs, 'ScaledObject', 'noetl-worker');
    const trigger = scaled.spec.triggers[0];
    expect(trigger.type).toBe('nats-jetstream');
    const defaults = Object.fromEntries(ENV_VARS.map((v) => [v.name, v.default]));
    expect(trigger.metadata.stream).toBe(defaults['NATS_STREAM']);
    expect(trigger.metadata.consumer).toBe(defaults['NATS_CONSUMER']);
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(0);
    const policy = one(docs, 'NetworkPolicy', 'nats-monitoring-keda-only');
    const monitoring = policy.spec.ingress.find((r: any) => r.ports.some((p: any) => p.port === 8222));
    expect(monitoring.from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe('keda');
    expect(docs.filter((d) => d.kind === 'PodDisruptionBudget')).toHaveLength(2);
    for (const d of docs.filter((x) => x.kind !== 'Namespace'))
      expect((d.metadata as any).namespace).toBe('noetl');
  });

  it('dev: a self-contained cluster (PostgreSQL, NATS, Secret) with a CPU autoscaler instead of KEDA', () => {
    const docs = render('dev');
    for (const [kind, name] of [
      ['Namespace', 'noetl'],
      ['StatefulSet', 'postgres'],
      ['Deployment', 'nats'],
      ['Secret', 'noetl-secrets'],
      ['HorizontalPodAutoscaler', 'noetl-worker'],
    ] as const)
      one(docs, kind, name);
    expect(docs.some((d) => d.kind === 'ScaledObject')).toBe(false);
    expect(one(docs, 'StatefulSet', 'noetl-server').spec.template.spec.containers[0].imagePullPolicy).toBe(
      'Never',
    );
  });

  it('every variable the manifests give noetl is one src/config defines', () => {
    for (const overlay of ['dev', 'production']) {
      const unknown = noetlVariables(render(overlay)).filter((n) => !KNOWN.has(n));
      expect(unknown, overlay).toEqual([]);
    }
  });

  it('noetl k8s --dry-run: the generated kustomization runs the chosen image', async () => {
    const r = await noetl(
      ['k8s', 'deploy', '--dry-run', '--json', '--context', 'kind-dev', '--image', 'reg.example/noetl:1.2'],
      {
        env: { NOETL_HOME: home },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { kustomization: string; commands: string[]; overlay: string };
    try {
      expect(plan.overlay).toBe('dev');
      expect(plan.commands[0]).toBe('kind load docker-image reg.example/noetl:1.2 --name dev');
      expect(plan.commands[1]).toBe(`kubectl --context kind-dev apply -k ${plan.kustomization}`);
      expect(plan.commands.slice(2).join('\n')).toContain('rollout status statefulset/noetl-server');
      const out = execFileSync(
        'kubectl',
        ['kustomize', '--load-restrictor', 'LoadRestrictionsNone', plan.kustomization],
        {
          encoding: 'utf8',
        },
      );
      const images = parseAllDocuments(out)
        .map((d) => d.toJS() as Doc)
        .flatMap((d) => (d.spec?.template?.spec?.containers ?? []) as { image: string }[])
        .map((c) => c.image);
      expect(images).toContain('reg.example/noetl:1.2');
    } finally {
      rmSync(plan.kustomization, { recursive: true, force: true });
    }
  });
});

describe('noetl build and k8s commands', () => {
  it('build --dry-run prints the buildx command with platform, tag and --no-cache', async () => {
    const r = await noetl(
      [
        'build',
        '--dry-run',
        '--engine',
        'docker',
        '--platform',
        'linux/arm64',
        '--tag',
        'noetl:test',
        '--no-cache',
      ],
      { env: { NOETL_HOME: home } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('docker buildx build --load --platform linux/arm64 -t noetl:test -f ');
    expect(r.stdout).toContain('--no-cache');
    expect(r.stdout.trim().endsWith(ROOT.replace(/\/$/, '/'))).toBe(true);
  });

  it('bad flags and a non-kind context without --overlay exit 2 with a one-line error', async () => {
    const bad = await noetl(['build', '--dry-run', '--engine', 'docker', '--platform', 'windows/386'], {
      env: { NOETL_HOME: home },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--platform must be one of');
    const prod = await noetl(['k8s', 'deploy', '--dry-run', '--context', 'gke-prod'], {
      env: { NOETL_HOME: home },
    });
    expect(prod.code).toBe(2);
    expect(prod.stderr).toContain('--overlay');
  });
});

describe('the image and compose files', () => {
  it('compose: PostgreSQL, NATS, a server, two workers, health-gated, variables src/config defines', () => {
    const compose = parse(readFileSync(join(ROOT, 'deploy/compose.yaml'), 'utf8'), { merge: true }) as {
      services: Record<
        string,
        {
          environment?: Record<string, string>;
          depends_on?: Record<string, { condition: string }>;
          deploy?: { replicas: number };
        }
      >;
    };
    expect(Object.keys(compose.services).sort()).toEqual(['nats', 'postgres', 'server', 'worker']);
    expect(compose.services['worker']!.deploy!.replicas).toBe(2);
    expect(compose.services['server']!.depends_on!['postgres']!.condition).toBe('service_healthy');
    expect(compose.services['worker']!.depends_on!['server']!.condition).toBe('service_healthy');
    for (const name of ['server', 'worker']) {
      const unknown = Object.keys(compose.services[name]!.environment ?? {}).filter((n) => !KNOWN.has(n));
      expect(unknown, name).toEqual([]);
    }
  });

  it('Dockerfile: multi-stage, non-root, python3, health check, every COPY source exists', () => {
    const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(text.match(/^FROM /gm)).toHaveLength(2);
    expect(text).toMatch(/^USER 10001/m);
    expect(text).toMatch(/python3/);
    expect(text).toMatch(/^HEALTHCHECK /m);
    for (const m of text.matchAll(/^COPY (?!--from)(.+) (\S+)$/gm)) {
      for (const src of m[1]!.split(' '))
        if (src !== '.') expect(existsSync(join(ROOT, src)), src).toBe(true);
    }
  });

  it('the entrypoint runs the CLI by default and checks the server health route', async () => {
    const entry = join(ROOT, 'deploy/docker-entrypoint.sh');
    const version = execFileSync('sh', [entry, '--version'], {
      env: { ...process.env, NOETL_APP_DIR: ROOT },
      encoding: 'utf8',
    });
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version).toContain(pkg.version);
    let healthy = true;
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/health' && healthy ? 200 : 503;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const check = () =>
      new Promise<number | null>((resolve) => {
        const child = spawn('sh', [entry, 'healthcheck'], {
          env: { ...process.env, NOETL_APP_DIR: ROOT, NOETL_PORT: String(port), WORKER_METRICS_BIND: '' },
        });
        child.on('close', resolve);
      });
    try {
      expect(await check()).toBe(0);
      healthy = false;
      expect(await check()).toBe(1);
    } finally {
      server.close();
    }
  });
});
