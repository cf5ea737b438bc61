/**
 * `noetl validate` of NoETL `kind: Subscription` files (docs/triggers.md): kafka and pubsub are
 * accepted with a warning that this build does not consume them; a nats or webhook subscription
 * is checked field by field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noetl } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'noetl-validate-sub-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, spec: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    `apiVersion: noetl.io/v1\nkind: Subscription\nmetadata: { name: s, path: subscriptions/s }\nspec:\n${spec}`,
  );
  return path;
}

describe('noetl validate of a Subscription', () => {
  it('accepts kafka and pubsub with a warning that they are not available in this build', async () => {
    for (const source of ['kafka', 'pubsub']) {
      const f = file(
        `${source}.yaml`,
        `  source: ${source}\n  mode: pull\n  topic: orders\n  dispatch: { playbook: tests/x }\n`,
      );
      const r = await noetl(['validate', f]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        `warning SOURCE_UNAVAILABLE: spec.source '${source}' is accepted but not available in this build`,
      );
      expect(r.stdout).toContain(`${f}: valid (1 warning)`);
      const json = await noetl(['validate', f, '--json']);
      const body = JSON.parse(json.stdout) as { valid: boolean; diagnostics: { severity: string }[] };
      expect(body.valid).toBe(true);
      expect(body.diagnostics.map((d) => d.severity)).toEqual(['warning']);
    }
  });

  it('checks a nats subscription: good is valid, a missing stream is an error naming the field', async () => {
    const good = file(
      'nats.yaml',
      '  source: nats\n  mode: pull\n  activation: continuous\n  stream: ORDERS\n  consumer: drain\n' +
        '  runtime: { batch: 50, timeout_ms: 2000 }\n  dispatch: { playbook: tests/x, payload_from: message.json }\n',
    );
    const ok = await noetl(['validate', good]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toContain(`${good}: valid\n`);
    const bad = file(
      'nats-bad.yaml',
      '  source: nats\n  mode: pull\n  consumer: drain\n  dispatch: { playbook: tests/x }\n',
    );
    const r = await noetl(['validate', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error SUBSCRIPTION:');
    expect(r.stdout).toContain('spec.stream');
    const batch = file(
      'nats-batch.yaml',
      '  source: nats\n  stream: S\n  consumer: c\n  runtime: { batch: 0 }\n  dispatch: { playbook: tests/x }\n',
    );
    expect((await noetl(['validate', batch])).stdout).toContain('spec.runtime.batch');
  });

  it('checks a webhook subscription and refuses an unknown source', async () => {
    const hook = file(
      'hook.yaml',
      '  source: webhook\n  mode: push\n  ingress:\n    gateway_path: /ingress/orders\n    verify: { type: bearer }\n' +
        '  dispatch: { playbook: tests/x }\n',
    );
    const r = await noetl(['validate', hook]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('verify.secret');
    const other = file('mqtt.yaml', '  source: mqtt\n  dispatch: { playbook: tests/x }\n');
    const o = await noetl(['validate', other]);
    expect(o.code).toBe(1);
    expect(o.stdout).toContain("spec.source must be webhook, nats, kafka or pubsub, not 'mqtt'");
  });
});
