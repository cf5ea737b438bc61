import { isNoetlError, toNoetlError } from '../shared/index.js';
import { exitCodeFor, hintFor } from './exit.js';

/**
 * The one place errors reach the terminal (STYLE.md 13): `error[CODE]: message`, a hint, the
 * stack only with --debug. Returns the exit code.
 */
export function reportError(
  err: unknown,
  debug: boolean,
  stream: NodeJS.WritableStream = process.stderr,
): number {
  const e = toNoetlError(err);
  stream.write(`error[${e.code}]: ${e.message.split('\n')[0]}\n`);
  const hint = hintFor(e.code);
  if (hint) stream.write(`  hint: ${hint}\n`);
  if (debug) {
    const original = isNoetlError(err) && err.cause instanceof Error ? err.cause : err;
    if (original instanceof Error && original.stack) stream.write(`${original.stack}\n`);
  }
  return exitCodeFor(e.code);
}
