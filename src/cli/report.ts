import { isNoetlError, toNoetlError } from '../shared/index.js';
import { exitCodeFor, hintFor } from './exit.js';

/**
 * The one place errors reach the terminal (STYLE.md 13): `error[CODE]: message`, a hint (the
 * error's own `details.hint`, else the code's), the stack only with --debug. Returns the exit code.
 */
export function reportError(
  err: unknown,
  debug: boolean,
  stream: NodeJS.WritableStream = process.stderr,
): number {
  const e = toNoetlError(err);
  stream.write(`error[${e.code}]: ${e.message.split('\n')[0]}\n`);
  // An error may carry its own hint (`details.hint`), more precise than the code's.
  const own = e.details?.['hint'];
  const hint = typeof own === 'string' ? own : hintFor(e.code);
  if (hint) stream.write(`  hint: ${hint}\n`);
  if (debug) {
    const original = isNoetlError(err) && err.cause instanceof Error ? err.cause : err;
    if (original instanceof Error && original.stack) stream.write(`${original.stack}\n`);
  }
  return exitCodeFor(e.code);
}
