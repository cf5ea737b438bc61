import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ConfigReader,
  readPlaybookLimits,
  readPythonPool,
  readStepOutputMaxBytes,
} from '../../config/index.js';
import { loadPlaybookFile, runLocal } from '../../local/index.js';
import {
  errorMessage,
  isNoetlError,
  NoetlError,
  redactSecretText,
  scrubSecrets,
  SecretRegistry,
} from '../../shared/index.js';
import { closeToolResources } from '../../tools/index.js';
import { EXIT } from '../exit.js';
import type { CliContext } from '../main.js';
import { StepProgress } from '../progress.js';
import { formatFailure, formatOutputLine, OutputLabels, StepOutputs } from '../step-output.js';
import { workloadFromFlags } from '../workload.js';

const DEFAULT_FILES = ['noetl.yaml', 'main.yaml'];

/** FILE and TARGET as NoETL's CLI reads them: a bare word that is not a file is a target. */
function pickFile(file: string | undefined, target: string | undefined): { file: string; target?: string } {
  const fallback = DEFAULT_FILES.find((f) => existsSync(f));
  if (file === undefined) {
    if (!fallback) {
      throw new NoetlError(
        'FILE_NOT_FOUND',
        'no playbook given and neither ./noetl.yaml nor ./main.yaml exists',
      );
    }
    return { file: fallback, ...(target !== undefined ? { target } : {}) };
  }
  const isFileLike = existsSync(file) || /\.ya?ml$/.test(file) || file.includes('/');
  if (!isFileLike && fallback && target === undefined) return { file: fallback, target: file };
  return { file, ...(target !== undefined ? { target } : {}) };
}

/** `stream` whose text writes are redacted with the run's secrets (progress lines show errors). */
function redactingStream(stream: NodeJS.WriteStream, secrets: SecretRegistry): NodeJS.WriteStream {
  return new Proxy(stream, {
    get(target, prop): unknown {
      if (prop === 'write') {
        return (chunk: unknown, ...rest: unknown[]): boolean =>
          (target.write as (c: unknown, ...r: unknown[]) => boolean).call(
            target,
            typeof chunk === 'string' ? redactSecretText(chunk, secrets) : chunk,
            ...rest,
          );
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export async function runAction(
  fileArg: string | undefined,
  targetArg: string | undefined,
  opts: Record<string, unknown>,
  ctx: CliContext,
): Promise<number> {
  const startedMs = Date.now();
  try {
    return await runPlaybook(fileArg, targetArg, opts, ctx);
  } catch (err) {
    // A failure before the first step (payload, file, playbook, target) still gives `--json`
    // its outcome object; the error is then reported (stderr, exit code) as every error is.
    if (opts['json'] === true) {
      const at = new Date(startedMs).toISOString();
      const outcome = {
        execution_id: null,
        status: 'FAILED',
        playbook_name: null,
        playbook_path: fileArg ?? null,
        started_at: at,
        completed_at: new Date().toISOString(),
        duration_seconds: 0,
        executed_steps: [],
        step_results: {},
        final_result: null,
        error: errorMessage(err),
        error_code: isNoetlError(err) ? err.code : 'INTERNAL',
      };
      process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
    }
    throw err;
  }
}

async function runPlaybook(
  fileArg: string | undefined,
  targetArg: string | undefined,
  opts: Record<string, unknown>,
  ctx: CliContext,
): Promise<number> {
  const picked = pickFile(fileArg, targetArg ?? (opts['target'] as string | undefined));
  const payload = await workloadFromFlags({
    set: (opts['set'] as string[] | undefined) ?? [],
    ...(typeof opts['payload'] === 'string' ? { payload: opts['payload'] } : {}),
    ...(typeof opts['workload'] === 'string' ? { payload: opts['workload'] } : {}),
    ...(typeof opts['input'] === 'string' ? { input: opts['input'] } : {}),
  });
  const file = resolve(picked.file);
  const playbookLimits = readPlaybookLimits(new ConfigReader({ env: ctx.env }));
  const strict = opts['strict'] === true || new ConfigReader({ env: ctx.env }).bool('NOETL_STRICT', false);
  const { playbook, diagnostics } = await loadPlaybookFile(file, { limits: playbookLimits, strict });
  // warnings (an unknown key, an unreachable step...) come before anything runs; they never stop it
  for (const d of diagnostics)
    process.stderr.write(`${picked.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}\n`);
  if (picked.target !== undefined && !playbook.steps.has(picked.target)) {
    throw new NoetlError('USAGE', `target step '${picked.target}' is not defined in ${picked.file}`);
  }
  const json = opts['json'] === true;
  const verbose = opts['verbose'] === true;
  const credentials = typeof opts['credentials'] === 'string' ? opts['credentials'] : undefined;
  // The run's secret values: everything printed below is redacted with them.
  const secrets = new SecretRegistry();
  const outputs = new StepOutputs();
  const labels = new OutputLabels();
  const progress =
    process.stderr.isTTY && !verbose ? new StepProgress(redactingStream(process.stderr, secrets)) : undefined;
  const controller = new AbortController();
  const onSigint = (): void => controller.abort(new NoetlError('CANCELLED', 'interrupted'));
  process.once('SIGINT', onSigint);
  let result;
  try {
    result = await runLocal({
      playbook,
      file,
      payload,
      playbookLimits,
      ...(picked.target !== undefined ? { target: picked.target } : {}),
      signal: controller.signal,
      // Warm python interpreters, closed when the run ends (so the process exits at once).
      pythonPool: readPythonPool(new ConfigReader({ env: ctx.env })),
      services: {
        secrets,
        outputMaxBytes: readStepOutputMaxBytes(new ConfigReader({ env: ctx.env })),
        ...(verbose
          ? {
              onOutput: (line, where) =>
                process.stderr.write(
                  redactSecretText(
                    formatOutputLine(labels.label(where.step, where.commandId), line),
                    secrets,
                  ),
                ),
            }
          : {}),
      },
      ...(credentials !== undefined ? { credentialsFile: credentials } : {}),
      onEvent: (event, state) => {
        progress?.onEvent(event, state);
        outputs.onEvent(event);
        labels.onEvent(event);
        if (verbose) {
          const err = event.error ? `  ${event.error}` : '';
          process.stderr.write(
            redactSecretText(
              `${event.created_at} ${event.event_type} ${event.node_name} ${event.status}${err}\n`,
              secrets,
            ),
          );
        }
      },
    });
  } finally {
    process.removeListener('SIGINT', onSigint);
    progress?.end();
    await closeToolResources();
  }
  let fileText: string | undefined;
  try {
    fileText = readFileSync(file, 'utf8');
  } catch {
    fileText = undefined;
  }
  const failures = outputs.failedSteps().flatMap((step) => outputs.failure(step, fileText) ?? []);
  result = scrubSecrets(result, secrets);
  if (json) {
    const outcome = {
      ...result,
      output: outputs.toJson(),
      ...(failures.length > 0 ? { failures } : {}),
    };
    process.stdout.write(`${JSON.stringify(scrubSecrets(outcome, secrets), null, 2)}\n`);
  } else {
    const steps = result.executed_steps.length;
    const line = `${result.status} ${result.playbook_name} in ${result.duration_seconds.toFixed(2)}s (${steps} step${steps === 1 ? '' : 's'}), execution ${result.execution_id}`;
    if (result.status === 'COMPLETED') {
      process.stdout.write(`${line}\n`);
      if (result.final_result !== null && result.final_result !== undefined) {
        process.stdout.write(`result: ${JSON.stringify(result.final_result)}\n`);
      }
    } else {
      process.stderr.write(
        `${line}\nerror[${result.error_code ?? 'STEP_FAILED'}]: ${result.error ?? 'unknown'}\n`,
      );
      for (const f of failures) {
        const shown = (result.error ?? '').includes(f.message);
        process.stderr.write(redactSecretText(formatFailure(f, picked.file, !shown), secrets));
      }
    }
    if (ctx.debug() && result.log_file) process.stderr.write(`event log: ${result.log_file}\n`);
  }
  if (result.status === 'COMPLETED') return EXIT.ok;
  return result.status === 'CANCELLED' ? EXIT.interrupted : EXIT.failed;
}
