import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from './index.js';

describe('docs/configuration.md', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

  it('lists every variable of ENV_VARS with its default (regenerate: node scripts/gen-config-doc.mjs)', () => {
    for (const v of ENV_VARS) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${v.name}\` |`));
      expect(row, v.name).toBeDefined();
      if (v.default !== undefined) expect(row, v.name).toContain(`\`${v.default.replace(/\|/g, '\\|')}\``);
    }
  });
});
