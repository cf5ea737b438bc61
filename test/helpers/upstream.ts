import { existsSync } from 'node:fs';

/**
 * NoETL's own e2e playbooks, kept beside the repository in CI (`../shared/conformance/noetl-e2e`)
 * and absent from a user's clone. Suites over them run when the folder exists and are skipped,
 * with a note printed once per file, when it does not; the project's own conformance playbooks
 * (test/conformance/playbooks/) cover the same features either way.
 */
export const UPSTREAM_DIR = new URL('../../../shared/conformance/noetl-e2e/', import.meta.url).pathname;
export const HAVE_UPSTREAM = existsSync(UPSTREAM_DIR);

let noted = false;

/** Prints, once, that the upstream suite of `file` is skipped; returns whether to skip. */
export function skipUpstream(file: string): boolean {
  if (!HAVE_UPSTREAM && !noted) {
    noted = true;
    console.warn(
      `[skipped] ${file}: the upstream NoETL corpus is not present at ${UPSTREAM_DIR}; ` +
        'only the project-owned conformance playbooks run (test/conformance/playbooks/).',
    );
  }
  return !HAVE_UPSTREAM;
}
