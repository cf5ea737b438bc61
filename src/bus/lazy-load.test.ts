// STYLE.md 5: importing the bus must not load the NATS client; only NatsBus.connect() does.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

describe('bus loading', () => {
  it('imports @nats-io modules only as types or through await import()', () => {
    const offenders: string[] = [];
    for (const file of sources(import.meta.dirname)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(
        /(?:^|\n)\s*(?:import|export)\s+(?!type\s)[^;]*?from\s+['"](@nats-io\/[^'"]+)['"]/g,
      )) {
        offenders.push(`${file}: ${m[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
