import { describe, expect, it } from 'vitest';
import { coerceRendered } from './typed.js';

describe('typed rendering (contract 1.11)', () => {
  it('makes null only of null, None and empty; the word none stays a string', () => {
    expect(['', '  ', 'null', 'None'].map(coerceRendered)).toEqual([null, null, null, null]);
    expect(coerceRendered('none')).toBe('none');
    expect(coerceRendered('NULL')).toBe('NULL');
  });
});
