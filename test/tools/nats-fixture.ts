// Shared setup of the nats tool tests: a private nats-server with JetStream on a random port per
// file, an admin JetStream manager, and helpers to run the tool. Without a nats-server binary the
// tests skip; under CI=true they fail instead (never skip).
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { templates } from '../../src/template/index.js';
import type { ToolContext, ToolServices } from '../../src/tools/index.js';
import { closeNatsConnections, natsTool } from '../../src/tools/nats/index.js';
import { natsServerAvailable, startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';

const CI = process.env['CI'] === 'true' || process.env['CI'] === '1';
const available = natsServerAvailable();

export function toolCtx(services: ToolServices = {}): ToolContext {
  return {
    executionId: 'e1',
    step: 'nats_step',
    commandId: 'c1',
    label: 'nats_step',
    attempt: 1,
    signal: new AbortController().signal,
    templates: templates(),
    services,
  };
}

let seq = 0;
/** A name no other test uses (buckets and streams: letters, digits, `_`, `-`). */
export const unique = (what: string): string => `${what}_${process.pid}_${Date.now().toString(36)}_${++seq}`;

export interface NatsFixture {
  readonly url: string;
  readonly jsm: JetStreamManager;
  /** Runs the tool against this file's server; resolves to its data. */
  run(config: Record<string, unknown>, services?: ToolServices): Promise<Record<string, unknown>>;
  /** Runs the tool expecting a failure; resolves to the error. */
  fails(config: Record<string, unknown>, services?: ToolServices): Promise<unknown>;
}

/** `describe` with a private nats-server around it (skipped without nats-server unless CI). */
export function describeNats(name: string, body: (f: NatsFixture) => void): void {
  if (!available && !CI) {
    describe.skip(`${name} (no nats-server binary; under CI=true this fails)`, () => {
      it('needs nats-server', () => undefined);
    });
    return;
  }
  describe(name, { timeout: 30_000 }, () => {
    let server: NatsServerHandle | undefined;
    let admin: NatsConnection | undefined;
    let jsm: JetStreamManager | undefined;
    const fixture: NatsFixture = {
      get url() {
        if (!server) throw new Error('nats-server not started');
        return server.url;
      },
      get jsm() {
        if (!jsm) throw new Error('nats-server not started');
        return jsm;
      },
      async run(config, services) {
        const out = await natsTool.execute(toolCtx(services), { url: fixture.url, ...config });
        return out.data as Record<string, unknown>;
      },
      fails(config, services) {
        return natsTool.execute(toolCtx(services), { url: fixture.url, ...config }).then(
          () => new Error('expected a failure'),
          (err: unknown) => err,
        );
      },
    };

    beforeAll(async () => {
      if (!available) throw new Error('nats-server is not installed (CI requires it)');
      server = await startNatsServer();
      admin = await connect({ servers: server.url });
      jsm = await jetstreamManager(admin);
    });

    afterAll(async () => {
      await closeNatsConnections();
      await admin?.close();
      await server?.dispose();
    });

    body(fixture);
  });
}
