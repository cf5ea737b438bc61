import { readFile } from 'node:fs/promises';
import { ConfigReader, readPlaybookLimits } from '../../config/index.js';
import { parsePlaybook } from '../../dsl/index.js';
import { NoetlError } from '../../shared/index.js';
import { EXIT } from '../exit.js';

/**
 * `noetl validate FILE [--json] [--server] [--strict]`: every diagnostic with its code and
 * line:col; with `--strict` (or NOETL_STRICT=1) every warning is an error.
 */
export async function validateAction(
  file: string,
  opts: { json?: boolean; server?: boolean; strict?: boolean },
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<number> {
  const read = new ConfigReader({ env });
  const limits = readPlaybookLimits(read);
  const strict = opts.strict === true || read.bool('NOETL_STRICT', false);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new NoetlError('FILE_NOT_FOUND', `playbook file not found: ${file}`);
  }
  if (/^kind:\s*['"]?Subscription['"]?\s*(#.*)?$/m.test(text)) return validateSubscription(file, text, opts);
  const { playbook, diagnostics } = parsePlaybook(text, {
    file,
    mode: opts.server ? 'server' : 'local',
    limits,
    strict,
  });
  const valid = playbook !== undefined;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ valid, diagnostics }, null, 2)}\n`);
  } else {
    for (const d of diagnostics) {
      process.stdout.write(`${file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}\n`);
    }
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = diagnostics.length - errors;
    process.stdout.write(
      valid
        ? `${file}: valid${warnings ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}\n`
        : `${file}: ${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`,
    );
  }
  return valid ? EXIT.ok : EXIT.failed;
}

/** A NoETL `kind: Subscription` file: its source's fields (docs/triggers.md). */
async function validateSubscription(file: string, text: string, opts: { json?: boolean }): Promise<number> {
  // loaded only here: the server part is heavy and validate of a playbook does not need it
  const { subscriptionDiagnostics } = await import('../../server/index.js');
  const diagnostics = subscriptionDiagnostics(text, file).map((d) => ({
    ...d,
    path: '',
    line: 1,
    column: 1,
  }));
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ valid: errors === 0, diagnostics }, null, 2)}\n`);
  } else {
    for (const d of diagnostics) {
      process.stdout.write(`${file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}\n`);
    }
    const w = warnings ? `${warnings} warning${warnings === 1 ? '' : 's'}` : '';
    process.stdout.write(
      errors === 0
        ? `${file}: valid${w ? ` (${w})` : ''}\n`
        : `${file}: ${errors} error${errors === 1 ? '' : 's'}${w ? `, ${w}` : ''}\n`,
    );
  }
  return errors === 0 ? EXIT.ok : EXIT.failed;
}
