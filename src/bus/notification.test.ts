import { describe, expect, it } from 'vitest';
import { decodeNotification, encodeNotification } from './notification.js';
import type { CommandNotification } from './ports.js';

const n: CommandNotification = {
  execution_id: '9223372036854775807',
  event_id: '589123456789012345678',
  command_id: '9223372036854775807:load:589123456789012345678:i2',
  step: 'load',
  server_url: 'http://localhost:8082',
  execution_pool: 'shared',
};

describe('notification wire format', () => {
  it('writes ids as bare JSON numbers, every digit kept', () => {
    const text = encodeNotification(n);
    expect(text).toContain('"execution_id":9223372036854775807,');
    expect(text).toContain('"event_id":589123456789012345678,');
    expect(JSON.parse(text)).toMatchObject({ command_id: n.command_id, step: 'load' });
    expect(text).not.toContain('trace');
  });

  it('round-trips, trace included', () => {
    const withTrace = { ...n, trace: { traceparent: 'x', depth: 2 } };
    expect(decodeNotification(encodeNotification(withTrace))).toEqual(withTrace);
    expect(decodeNotification(encodeNotification(n))).toEqual(n);
  });

  it('reads raw number text, not the rounded double', () => {
    const text =
      '{ "trace": {"execution_id": 1, "s": "\\"event_id\\": 2"}, "execution_id" : 589123456789012345678 ,' +
      '"event_id":-42,"command_id":"c","step":"s","server_url":"u","execution_pool":""}';
    const d = decodeNotification(text);
    expect(d.execution_id).toBe('589123456789012345678');
    expect(d.event_id).toBe('-42');
    expect(d.trace).toEqual({ execution_id: 1, s: '"event_id": 2' });
  });

  it('accepts quoted ids and missing server_url / execution_pool', () => {
    const d = decodeNotification(
      '{"execution_id":"12345678901234567890","event_id":"7","command_id":"c","step":"s"}',
    );
    expect(d).toEqual({
      execution_id: '12345678901234567890',
      event_id: '7',
      command_id: 'c',
      step: 's',
      server_url: '',
      execution_pool: '',
    });
  });

  it.each([
    ['not json', 'not JSON'],
    ['[1]', 'not a JSON object'],
    ['{"execution_id":1.5,"event_id":1,"command_id":"c","step":"s"}', 'execution_id'],
    ['{"execution_id":1e21,"event_id":1,"command_id":"c","step":"s"}', 'execution_id'],
    ['{"execution_id":"01","event_id":1,"command_id":"c","step":"s"}', 'execution_id'],
    ['{"execution_id":1,"command_id":"c","step":"s"}', 'event_id'],
    ['{"execution_id":1,"event_id":1,"step":"s"}', 'command_id'],
    ['{"execution_id":1,"event_id":1,"command_id":"c","step":""}', 'step'],
  ])('rejects %s', (text, what) => {
    expect(() => decodeNotification(text)).toThrow(what);
  });

  it('refuses to encode a non-integer id', () => {
    expect(() => encodeNotification({ ...n, execution_id: '1e3' })).toThrow(/execution_id/);
    expect(() => encodeNotification({ ...n, event_id: '' })).toThrow(/event_id/);
    expect(() => encodeNotification({ ...n, execution_id: '12}, "x": {' })).toThrow(/execution_id/);
  });
});
