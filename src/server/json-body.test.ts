import { describe, expect, it } from 'vitest';
import { jsonDepth, MAX_JSON_DEPTH, parseJsonBody, quoteUnsafeIntegers } from './json-body.js';

describe('parseJsonBody', () => {
  it('keeps integers beyond 2^53 exact by turning them into strings', () => {
    const text =
      '{"execution_id": 612345678901234567, "n": 42, "big": -9223372036854775807, "safe": 9007199254740991}';
    expect(parseJsonBody(text)).toEqual({
      execution_id: '612345678901234567',
      n: 42,
      big: '-9223372036854775807',
      safe: 9007199254740991,
    });
  });

  it('leaves strings, floats and exponents alone', () => {
    const text =
      '{"s": "id 612345678901234567 \\" 612345678901234568", "f": 1234567890123456.5, "e": 1e25, "a": [612345678901234569]}';
    expect(parseJsonBody(text)).toEqual({
      s: 'id 612345678901234567 " 612345678901234568',
      f: 1234567890123456.5,
      e: 1e25,
      a: ['612345678901234569'],
    });
    expect(quoteUnsafeIntegers('612345678901234567')).toBe('"612345678901234567"');
    expect(quoteUnsafeIntegers('{"a":"1"}')).toBe('{"a":"1"}');
  });

  it('answers empty bodies with undefined and bad JSON or __proto__ with BAD_REQUEST', () => {
    expect(parseJsonBody('')).toBeUndefined();
    expect(parseJsonBody('  \n')).toBeUndefined();
    expect(() => parseJsonBody('{"a": ')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }) as Error);
    expect(() => parseJsonBody('{"a": {"__proto__": {"x": 1}}}')).toThrow(/__proto__/);
    expect(parseJsonBody('{"note": "__proto__ in a string is fine"}')).toEqual({
      note: '__proto__ in a string is fine',
    });
  });
});

describe('parseJsonBody limits', () => {
  it('refuses NUL characters and nesting deeper than MAX_JSON_DEPTH with BAD_REQUEST', () => {
    expect(() => parseJsonBody('{"a": "x\\u0000y"}')).toThrow(/NUL/);
    expect(() => parseJsonBody('{"k\\u0000": 1}')).toThrow(/NUL/);
    expect(parseJsonBody('{"a": "x\\\\u0000y"}')).toEqual({ a: 'x\\u0000y' }); // an escaped backslash
    expect(parseJsonBody('{"a": "x\\u0000y"}', { acceptsNul: true })).toEqual({ a: 'x\u0000y' });
    const deep = (n: number) => `{"a": ${'['.repeat(n)}${']'.repeat(n)}}`;
    expect(parseJsonBody(deep(MAX_JSON_DEPTH - 1))).toBeDefined();
    expect(() => parseJsonBody(deep(5000))).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }) as Error,
    );
    expect(jsonDepth('{"s": "[[[[", "a": [{}]}')).toBe(3);
  });
});
