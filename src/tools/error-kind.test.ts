import { describe, expect, it } from 'vitest';
import { ConfigError, TimeoutError, ToolError } from '../shared/index.js';
import { classifyError } from './error-kind.js';

const http = (status: number, headers: Record<string, string> = {}): ToolError =>
  new ToolError(`HTTP ${status} response`, {
    retryable: status === 429 || status >= 500,
    details: { data: { status_code: status, headers }, extra: { http: { status } } },
  });

describe('output.error classification', () => {
  it('classifies http statuses, with Retry-After in seconds', () => {
    expect(classifyError(http(503, { 'retry-after': '12' }), 'http')).toMatchObject({
      kind: 'server_error',
      code: 'HTTP_503',
      http_status: 503,
      retry_after: 12,
      retryable: true,
      source: 'http',
      error_code: 'TOOL_FAILED',
    });
    const kinds = [429, 401, 403, 404, 422].map((s) => classifyError(http(s), 'http').kind);
    expect(kinds).toEqual(['rate_limit', 'auth', 'auth', 'not_found', 'client_error']);
    expect(classifyError(http(429, { 'retry-after': 'Wed, 21 Oct 2015' }), 'http')).not.toHaveProperty(
      'retry_after',
    );
  });

  it('classifies connection failures and timeouts', () => {
    const refused = new ToolError('http: GET http://x failed: fetch failed: connect ECONNREFUSED', {
      details: { url: 'http://x' },
    });
    expect(classifyError(refused, 'http')).toMatchObject({ kind: 'connection', code: 'CONN_REFUSED' });
    expect(classifyError(new TimeoutError('timed out'), 'http')).toMatchObject({ kind: 'timeout' });
  });

  it('classifies SQLSTATEs and python exceptions', () => {
    const pg = (sqlstate: string): ToolError => new ToolError('postgres: x', { details: { sqlstate } });
    expect(
      ['40P01', '23505', '08006', '57014', '42601', 'XX000'].map(
        (s) => classifyError(pg(s), 'postgres').kind,
      ),
    ).toEqual(['db_deadlock', 'db_constraint', 'db_connection', 'db_timeout', 'validation', 'unknown']);
    expect(classifyError(pg('23505'), 'postgres')).toMatchObject({ pg_code: '23505', code: 'PG_23505' });
    const py = new ToolError('KeyError: x', { details: { exception: 'KeyError' } });
    expect(classifyError(py, 'python')).toMatchObject({
      kind: 'schema',
      code: 'PY_KeyError',
      exception_type: 'KeyError',
    });
    expect(classifyError(new ConfigError('bad'), 'python')).toMatchObject({ kind: 'validation' });
  });
});
