// Traces (docs/observability.md): ids derived from the execution, `traceparent` text, and the
// SDK loaded only by `openTracing` (STYLE.md 5: a process without an OTLP endpoint never loads it).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  executionSpanOf,
  formatTraceparent,
  parseTraceparent,
  SDK_PACKAGES,
  stepSpanOf,
  traceIdOf,
  traceparentIn,
} from './index.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

describe('trace context', () => {
  it('derives one trace per execution and one span per step run, the same in every process', () => {
    const t = traceIdOf('318273617398341632');
    expect(t).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIdOf('318273617398341632')).toBe(t);
    expect(traceIdOf('318273617398341633')).not.toBe(t);
    const root = executionSpanOf('318273617398341632');
    expect(root.traceId).toBe(t);
    expect(root.spanId).toMatch(/^[0-9a-f]{16}$/);
    const a = stepSpanOf('318273617398341632', 'fetch', 1);
    expect(a.traceId).toBe(t);
    expect(new Set([root.spanId, a.spanId, stepSpanOf('318273617398341632', 'fetch', 2).spanId]).size).toBe(
      3,
    );
    expect(stepSpanOf('318273617398341632', 'fetch', 1)).toEqual(a);
  });

  it('writes and reads W3C traceparent', () => {
    const ref = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
    expect(formatTraceparent(ref)).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(parseTraceparent(formatTraceparent(ref))).toEqual(ref);
    expect(traceparentIn({ traceparent: formatTraceparent(ref) })).toEqual(ref);
    for (const bad of [
      undefined,
      42,
      '',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    ])
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
    expect(traceparentIn('x')).toBeUndefined();
  });
});

describe('loading the SDK', () => {
  it('imports @opentelemetry modules only through await import() or as types', () => {
    const offenders: string[] = [];
    for (const file of sources(join(import.meta.dirname, '..'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(
        /(?:^|\n)\s*(?:import|export)\s+(?!type\s)[^;]*?from\s+['"](@opentelemetry\/[^'"]+)['"]/g,
      ))
        offenders.push(`${file}: ${m[1]}`);
      if (/await import\(\s*['"]@opentelemetry\//.test(text) || /import\(\s*['"]@opentelemetry\//.test(text))
        if (!file.endsWith(join('shared', 'tracing.ts'))) offenders.push(`${file}: loads the SDK`);
    }
    expect(offenders).toEqual([]);
  });
});

describe('the SDK packages', () => {
  it('are the optional dependencies package.json pins, named in the missing-SDK error', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
      optionalDependencies: Record<string, string>;
      dependencies: Record<string, string>;
    };
    const pinned = Object.entries(pkg.optionalDependencies)
      .filter(([name]) => name.startsWith('@opentelemetry/'))
      .map(([name, version]) => `${name}@${version}`);
    expect(pinned.sort()).toEqual([...SDK_PACKAGES].sort());
    expect(Object.keys(pkg.dependencies).filter((n) => n.startsWith('@opentelemetry/'))).toEqual([]);
  });
});
