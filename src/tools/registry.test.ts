import { describe, expect, it } from 'vitest';
import { templates } from '../template/index.js';
import { defaultRegistry, ToolRegistry } from './registry.js';
import type { ToolContext, ToolDefinition } from './types.js';

const ctx: ToolContext = {
  executionId: 'e',
  step: 's',
  commandId: 'c',
  label: 's',
  attempt: 1,
  signal: new AbortController().signal,
  templates: templates(),
  services: {},
};

describe('ToolRegistry', () => {
  it('has the built-in tools, sorted', () => {
    const kinds = defaultRegistry().kinds();
    expect(kinds).toEqual(
      expect.arrayContaining([
        'duckdb',
        'http',
        'noop',
        'playbook',
        'postgres',
        'python',
        'shell',
        'transfer',
      ]),
    );
    expect(kinds).toEqual([...kinds].sort());
  });

  it('a lazy tool whose module cannot load (an optional dependency missing) is a clear step error, tried again next time', async () => {
    let loads = 0;
    const registry = new ToolRegistry().registerLazy('duckdb', 'DuckDB', () => {
      loads++;
      return loads === 1
        ? Promise.reject(new Error("Cannot find package '@duckdb/node-api'"))
        : Promise.resolve({
            kind: 'duckdb',
            description: 'DuckDB',
            execute: () => Promise.resolve({ data: 1 }),
          });
    });
    const tool = registry.get('duckdb');
    await expect(tool.execute(ctx, {})).rejects.toMatchObject({
      code: 'TOOL_UNSUPPORTED',
      message: "tool 'duckdb' could not be loaded: Cannot find package '@duckdb/node-api'",
    });
    await expect(tool.execute(ctx, {})).resolves.toEqual({ data: 1 });
    expect(loads).toBe(2);
  });

  it('declares the credential mapping of lazy tools before loading them', () => {
    expect(defaultRegistry().get('postgres').authTarget).toBe('postgres');
    expect(defaultRegistry().get('http').authTarget).toBe('http');
    expect(defaultRegistry().get('transfer').authTarget).toBeUndefined();
  });

  it('names the supported kinds for an unknown kind', () => {
    expect(() => defaultRegistry().get('snowflake')).toThrowError(
      expect.objectContaining({
        code: 'TOOL_UNSUPPORTED',
        message: `tool kind 'snowflake' is not supported here (supported: ${defaultRegistry().kinds().join(', ')})`,
      }),
    );
  });

  it('loads a lazy tool once, on first use', async () => {
    let loads = 0;
    const tool: ToolDefinition = {
      kind: 'heavy',
      description: 'x',
      execute: (_ctx, config) => Promise.resolve({ data: config }),
    };
    const registry = new ToolRegistry().registerLazy('heavy', 'a heavy tool', () => {
      loads += 1;
      return Promise.resolve(tool);
    });
    expect(loads).toBe(0);
    expect(registry.has('heavy')).toBe(true);
    expect((await registry.get('heavy').execute(ctx, { a: 1 })).data).toEqual({ a: 1 });
    await registry.get('heavy').execute(ctx, {});
    expect(loads).toBe(1);
  });

  it('reports a lazy tool that cannot load', async () => {
    const registry = new ToolRegistry().registerLazy('duckdb', 'x', () =>
      Promise.reject(new Error('no binary')),
    );
    await expect(registry.get('duckdb').execute(ctx, {})).rejects.toMatchObject({ code: 'TOOL_UNSUPPORTED' });
  });
});
