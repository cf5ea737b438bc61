import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isNoetlError } from '../../shared/index.js';
import { parseResultRef, RESULT_MAX_BYTES } from '../../shared/index.js';
import { templates } from '../../template/index.js';
import type { ToolContext } from '../types.js';
import { artifactTool, FolderResultStore } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'noetl-artifact-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function ctxWith(services: ToolContext['services'], step = 'keep'): ToolContext {
  return {
    executionId: '4242',
    step,
    commandId: 'c1',
    label: step,
    attempt: 1,
    signal: new AbortController().signal,
    templates: templates(),
    services,
  };
}

const ctx = ctxWith({ results: new FolderResultStore(root) });

async function failure(run: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await run;
  } catch (err) {
    if (isNoetlError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a failure');
}

describe('artifact tool', () => {
  it('puts a value and gets it back by uri, by result_ref object and by input.result_ref', async () => {
    const value = { title: 'daily', rows: [1, 2, 3] };
    const put = (
      await artifactTool.execute(ctx, { action: 'put', data: value, uri: 'artifact://reports/daily' })
    ).data as Record<string, unknown>;
    expect(put).toMatchObject({ status: 'success', size_bytes: 32, compressed: false });
    const uri = put['uri'] as string;
    expect(parseResultRef(uri)).toMatchObject({ executionId: '4242', name: 'reports/daily' });
    expect(put['result_ref']).toMatchObject({ kind: 'result_ref', ref: uri });
    expect((await artifactTool.execute(ctx, { action: 'get', uri })).data).toEqual(value);
    expect((await artifactTool.execute(ctx, { result_ref: put['result_ref'] })).data).toEqual(value);
    expect((await artifactTool.execute(ctx, { action: 'get', input: { result_ref: uri } })).data).toEqual(
      value,
    );
    // kept as a private file under the execution and name
    const dir = join(root, '4242', 'reports', 'daily');
    const [file] = readdirSync(dir);
    expect(statSync(join(dir, file!)).mode & 0o777).toBe(0o600);
  });

  it('names a value after the step when put has no uri', async () => {
    const put = (
      await artifactTool.execute(ctxWith(ctx.services, 'save_it'), { action: 'put', data: 'text' })
    ).data as Record<string, string>;
    expect(parseResultRef(put['uri']!)?.name).toBe('save_it');
    expect((await artifactTool.execute(ctx, { uri: put['uri'] })).data).toBe('text');
  });

  it('says what is wrong with a config, a reference or a missing value', async () => {
    expect(await failure(artifactTool.execute(ctx, { action: 'put' }))).toMatchObject({
      message: expect.stringContaining("put needs 'data'") as unknown,
    });
    expect(await failure(artifactTool.execute(ctx, { action: 'get' }))).toMatchObject({
      message: expect.stringContaining("'uri' or 'result_ref'") as unknown,
    });
    expect(await failure(artifactTool.execute(ctx, { action: 'rotate', uri: 'x' }))).toMatchObject({
      message: expect.stringContaining("action 'rotate'") as unknown,
    });
    expect(
      await failure(artifactTool.execute(ctx, { action: 'put', data: 1, uri: 's3://b/k' })),
    ).toMatchObject({
      message: expect.stringContaining('not s3:') as unknown,
    });
    expect(
      await failure(artifactTool.execute(ctx, { action: 'put', data: 1, uri: 'artifact://../up' })),
    ).toMatchObject({
      message: expect.stringContaining('is not valid') as unknown,
    });
    expect(await failure(artifactTool.execute(ctx, { uri: 'gs://bucket/key.json' }))).toMatchObject({
      code: 'TOOL_UNSUPPORTED',
    });
    expect(
      await failure(artifactTool.execute(ctx, { uri: 'noetl://execution/4242/result/none/1' })),
    ).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(
      await failure(artifactTool.execute(ctxWith({}), { uri: 'noetl://execution/1/result/a/1' })),
    ).toMatchObject({
      code: 'TOOL_UNSUPPORTED',
    });
  });

  it('refuses a value over the result store limit', async () => {
    const big = 'x'.repeat(RESULT_MAX_BYTES);
    expect(await failure(artifactTool.execute(ctx, { action: 'put', data: big }))).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
  });
});
