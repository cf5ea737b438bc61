import { describe, expect, it } from 'vitest';
import { natsBusOptionsFromEnv, resolveNatsOptions } from './nats-options.js';

describe('NATS options', () => {
  it('maps the contract env names', () => {
    expect(
      natsBusOptionsFromEnv({
        NATS_URL: 'nats://n:4222',
        NATS_USER: 'noetl',
        NATS_PASSWORD: 'noetl',
        NATS_STREAM: 'NOETL_COMMANDS',
        NATS_SUBJECT: 'noetl.commands',
        NATS_CONSUMER: 'noetl_worker_pool',
        NOETL_WORKER_NATS_FETCH_TIMEOUT_SECONDS: '30',
        NOETL_WORKER_NATS_FETCH_HEARTBEAT_SECONDS: '5',
        NOETL_WORKER_NATS_MAX_ACK_PENDING: '64',
        NOETL_WORKER_NATS_MAX_DELIVER: '1000',
        NOETL_WORKER_NATS_ACK_WAIT_SECONDS: '90',
        UNRELATED: 'x',
      }),
    ).toEqual({
      url: 'nats://n:4222',
      user: 'noetl',
      password: 'noetl',
      stream: 'NOETL_COMMANDS',
      subject: 'noetl.commands',
      consumer: 'noetl_worker_pool',
      fetchExpiresMs: 30_000,
      fetchHeartbeatMs: 5_000,
      maxAckPending: 64,
      maxDeliver: 1000,
      ackWaitMs: 90_000,
    });
    expect(natsBusOptionsFromEnv({})).toEqual({});
    expect(() => natsBusOptionsFromEnv({ NOETL_WORKER_NATS_MAX_DELIVER: '0' })).toThrow(/positive integer/);
  });

  it('fills the defaults', () => {
    const o = resolveNatsOptions({});
    expect(o).toMatchObject({
      servers: ['nats://127.0.0.1:4222'],
      stream: 'noetl_commands',
      subject: 'noetl.commands',
      consumer: 'worker-pool',
      ackWaitMs: 60_000,
      maxDeliver: 1000,
      maxAckPending: 64,
      maxAgeMs: 3_600_000,
      storage: 'file',
    });
    expect(o.user).toBeUndefined();
  });

  it('takes credentials out of the URL, options winning', () => {
    const o = resolveNatsOptions({ url: 'nats://noetl:p%40ss@nats.svc:4222, nats2:4222' });
    expect(o.servers).toEqual(['nats://nats.svc:4222', 'nats://nats2:4222']);
    expect(o).toMatchObject({ user: 'noetl', password: 'p@ss' });
    expect(resolveNatsOptions({ url: 'nats://tok@h:4222' }).token).toBe('tok');
    expect(resolveNatsOptions({ url: 'nats://a:b@h', user: 'c' })).toMatchObject({
      user: 'c',
      password: 'b',
    });
  });

  it('refuses names NATS would reject', () => {
    expect(() => resolveNatsOptions({ stream: 'a.b' })).toThrow(/stream/);
    expect(() => resolveNatsOptions({ consumer: 'a b' })).toThrow(/consumer/);
    expect(() => resolveNatsOptions({ subject: 'noetl.>' })).toThrow(/subject/);
    expect(() => resolveNatsOptions({ fetchExpiresMs: 10 })).toThrow(/1 s/);
  });
});
