import { describe, expect, it } from 'vitest';
import type { ExecutionEvent } from '../engine/index.js';
import { scrubEvent } from './event-scrub.js';

const base: ExecutionEvent = {
  execution_id: '1',
  event_id: '2',
  event_type: 'command.issued',
  node_name: 's',
  status: 'PENDING',
  created_at: '2026-01-01T00:00:00.000Z',
};

describe('scrubEvent', () => {
  it('hides keychain literals and known values in context, keeping templates and tool configs', () => {
    const event: ExecutionEvent = {
      ...base,
      context: {
        tool_config: {
          tasks: [{ config: { password: '{{ keychain.db.password }}', note: 'uses pw-12345' } }],
        },
        keychain: [
          {
            name: 'api',
            kind: 'static',
            fields: { name: 'api', kind: 'static', map: { a: 'literal-1', b: '{{ workload.b }}', n: 42 } },
          },
        ],
      },
    };
    expect(scrubEvent(event, ['pw-12345']).context).toEqual({
      tool_config: { tasks: [{ config: { password: '{{ keychain.db.password }}', note: 'uses ***' } }] },
      keychain: [
        {
          name: 'api',
          kind: 'static',
          fields: { name: 'api', kind: 'static', map: { a: '***', b: '{{ workload.b }}', n: '***' } },
        },
      ],
    });
  });

  it('scrubs secret keys from result and meta, and known values from error', () => {
    const event: ExecutionEvent = {
      ...base,
      event_type: 'call.done',
      result: {
        status: 'success',
        context: { data: { token: 't', rows: [{ api_key: 'k', id: 1 }] }, stdout: 'got s3cret-x' },
      },
      meta: { command_id: 'c', authorization: 'Bearer x' },
      error: 'failed with s3cret-x',
    };
    expect(scrubEvent(event, ['s3cret-x'])).toMatchObject({
      result: {
        status: 'success',
        context: { data: { token: '***', rows: [{ api_key: '***', id: 1 }] }, stdout: 'got ***' },
      },
      meta: { command_id: 'c', authorization: '***' },
      error: 'failed with ***',
    });
    expect(scrubEvent(base)).toEqual(base);
  });
});
