import { describe, expect, it } from 'vitest';
import { templates } from '../../template/index.js';
import type { ToolContext } from '../types.js';
import { noopTool } from './index.js';

const ctx: ToolContext = {
  executionId: 'e1',
  step: 's',
  commandId: 'c1',
  label: 's',
  attempt: 1,
  signal: new AbortController().signal,
  templates: templates(),
  services: {},
};

describe('noop tool', () => {
  it('returns `result`, else `message`, else {}', async () => {
    expect((await noopTool.execute(ctx, { result: { a: 1 }, message: 'm' })).data).toEqual({ a: 1 });
    expect((await noopTool.execute(ctx, { message: 'm' })).data).toBe('m');
    expect((await noopTool.execute(ctx, {})).data).toEqual({});
  });
});
