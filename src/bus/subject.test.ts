import { describe, expect, it } from 'vitest';
import { filterSubject, poolOfSubject, resolvePool, subjectFor } from './subject.js';

describe('subject routing', () => {
  it('resolves the pool: explicit, then system/*, subscription/*, else shared', () => {
    expect(resolvePool({ execution_pool: 'gpu', path: 'system/x' })).toBe('gpu');
    expect(resolvePool({ execution_pool: '  ', path: 'system/cleanup' })).toBe('system');
    expect(resolvePool({ path: '/subscription/kafka_drain' })).toBe('subscription');
    expect(resolvePool({ path: 'examples/system/x' })).toBe('shared');
    expect(resolvePool({})).toBe('shared');
  });

  it('builds noetl.commands.<pool>.<execution_id>', () => {
    expect(subjectFor({ execution_id: '589123456789012345678' })).toBe(
      'noetl.commands.shared.589123456789012345678',
    );
    expect(subjectFor({ execution_id: '1', path: 'system/a' }, 't1.commands')).toBe('t1.commands.system.1');
  });

  it('refuses pools that would break the subject', () => {
    for (const pool of ['a.b', 'a*', '>', 'a b']) {
      expect(() => resolvePool({ execution_pool: pool })).toThrow(/invalid pool/);
    }
    expect(() => subjectFor({ execution_id: 'x' })).toThrow(/execution_id/);
  });

  it('filters one pool or all', () => {
    expect(filterSubject('noetl.commands')).toBe('noetl.commands.>');
    expect(filterSubject('noetl.commands', 'system')).toBe('noetl.commands.system.>');
    expect(poolOfSubject('noetl.commands.gpu.12', 'noetl.commands')).toBe('gpu');
    expect(poolOfSubject('noetl.commands', 'noetl.commands')).toBeUndefined();
  });
});
