/**
 * Size limits of a playbook (docs/configuration.md: NOETL_PLAYBOOK_MAX_BYTES, _MAX_STEPS,
 * _MAX_DEPTH). They are checked before the expensive work of parsing: a 100,000-step playbook
 * otherwise holds the event loop for seconds and takes about a gigabyte.
 */
export interface PlaybookLimits {
  /** Largest YAML text, in UTF-8 bytes. */
  readonly maxBytes: number;
  /** Most steps under `workflow`. */
  readonly maxSteps: number;
  /** Deepest nesting of maps and lists (the document's root map is depth 1). */
  readonly maxDepth: number;
}

/** Defaults: far above the 10,000-step chains of bench/local.mjs (about 0.7 MB, depth 5). */
export const DEFAULT_PLAYBOOK_LIMITS: PlaybookLimits = {
  maxBytes: 16 * 1024 * 1024,
  maxSteps: 50_000,
  maxDepth: 64,
};
