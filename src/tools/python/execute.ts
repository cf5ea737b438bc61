import { resolve } from 'node:path';
import { isPlainObject, ToolError } from '../../shared/index.js';
import { mergeEnv, runProcess, type ProcessResult } from '../process.js';
import { loadScript } from '../script-source.js';
import type { ToolContext, ToolOutput } from '../types.js';
import { readPythonConfig, type PythonConfig } from './config.js';
import { resolveInterpreter } from './interpreter.js';
import type { MarkerDoc } from './pool.js';
import { PYTHON_WRAPPER, RESULT_MARKER } from './wrapper.js';

/** Splits the wrapper's marker line off the captured stdout. */
export function splitMarker(stdout: string): { stdout: string; doc?: MarkerDoc } {
  const at = stdout.lastIndexOf(`\n${RESULT_MARKER}`);
  if (at < 0) return { stdout };
  const start = at + 1 + RESULT_MARKER.length;
  const end = stdout.indexOf('\n', start);
  const json = stdout.slice(start, end < 0 ? undefined : end);
  let doc: unknown;
  try {
    doc = JSON.parse(json) as unknown;
  } catch {
    return { stdout };
  }
  if (!isPlainObject(doc) || typeof doc.ok !== 'boolean') return { stdout };
  const rest = end < 0 ? '' : stdout.slice(end + 1);
  return { stdout: stdout.slice(0, at) + rest, doc: doc as unknown as MarkerDoc };
}

async function loadCode(ctx: ToolContext, config: PythonConfig): Promise<{ code: string; filename: string }> {
  if (config.code !== undefined) return { code: config.code, filename: `<${ctx.step}>` };
  return loadScript('python', config.script ?? { type: 'inline', code: '' }, ctx);
}

export async function executePython(
  ctx: ToolContext,
  rawConfig: Readonly<Record<string, unknown>>,
): Promise<ToolOutput> {
  const config = readPythonConfig(rawConfig);
  const { code, filename } = await loadCode(ctx, config);
  const hostEnv = ctx.services.env ?? process.env;
  const python = await resolveInterpreter(
    config.python ?? ctx.services.python ?? hostEnv.PYTHON_PATH ?? 'python3',
    hostEnv,
  );
  const payload = {
    code,
    filename,
    libs: config.libs,
    warnings: config.warnings,
    context: { args: config.input, variables: {}, execution_id: ctx.executionId, step: ctx.step },
  };
  const env = mergeEnv({ ...hostEnv, PYTHONIOENCODING: 'utf-8', PYTHONUNBUFFERED: '1' }, config.env);
  // A warm interpreter when the host keeps a pool and one is free, else a process of its own.
  const pooled = await ctx.services.pythonPool?.run({
    python,
    env,
    cwd: resolve(config.cwd ?? '.'),
    payload,
    signal: ctx.signal,
    ...(ctx.output ? { output: ctx.output } : {}),
    ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
  });
  let run: ProcessResult;
  let stdout: string;
  let doc: MarkerDoc | undefined;
  if (pooled) {
    ({ stdout, doc } = pooled);
    run = pooled;
  } else {
    // The step's kept output: what the code printed, without the wrapper's result line.
    ctx.output?.hideLines((line) => line.startsWith(RESULT_MARKER));
    run = await runProcess({
      kind: 'python',
      command: python,
      args: ['-c', PYTHON_WRAPPER],
      input: JSON.stringify(payload),
      env,
      signal: ctx.signal,
      ...(ctx.output ? { output: ctx.output } : {}),
      ...(config.cwd !== undefined ? { cwd: config.cwd } : {}),
      ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
    });
    ({ stdout, doc } = splitMarker(run.stdout));
  }
  const stderr = run.stderr;
  const streams = { stdout, stderr, exit_code: run.exitCode };
  if (!doc) {
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    const how = run.exitSignal ? `was killed by ${run.exitSignal}` : `exited with code ${run.exitCode}`;
    throw new ToolError(`python: process ${how} without a result${tail ? `: ${tail}` : ''}`, {
      details: { data: { stdout, stderr }, exit_code: run.exitCode },
    });
  }
  if (!doc.ok) {
    throw new ToolError(doc.message ?? 'python: error', {
      details: {
        exception: doc.type ?? 'Exception',
        traceback: doc.traceback ?? '',
        data: { stdout, stderr },
      },
    });
  }
  const data = doc.has === true ? (doc.value ?? null) : { stdout, stderr };
  return { data, ...streams };
}
