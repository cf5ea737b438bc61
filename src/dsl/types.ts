/**
 * The validated playbook model (STYLE.md 8: parse, don't validate). Only values of these types
 * reach the engine; they are deeply readonly. Raw YAML never leaves src/dsl.
 */

import type { PlaybookLimits } from '../shared/index.js';

export interface SourcePosition {
  readonly line: number; // 1-based
  readonly column: number; // 1-based
}

export type Severity = 'error' | 'warning';

/** Stable diagnostic codes; documented in docs/errors.md. */
export const DIAGNOSTIC_CODES = [
  'YAML_SYNTAX',
  'NOT_A_MAP',
  'API_VERSION',
  'KIND',
  'MISSING_FIELD',
  'INVALID_TYPE',
  'NO_START_STEP',
  'DUPLICATE_STEP',
  'DUPLICATE_NAME',
  'UNDEFINED_STEP',
  'UNKNOWN_TOOL_KIND',
  'TOOL_UNAVAILABLE',
  'UNKNOWN_WORKBOOK',
  'LOOP_INVALID',
  'NEXT_INVALID',
  'POLICY_INVALID',
  'KEYCHAIN_INVALID',
  'TEMPLATE_SYNTAX',
  'LEGACY_CASE',
  'EXECUTOR_INVALID',
  'UNREACHABLE_STEP',
  'CYCLE_WITHOUT_EXIT',
  'PLAYBOOK_TOO_LARGE',
  'UNKNOWN_KEY',
  'UNKNOWN_FILTER',
] as const;
export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[number];

export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly message: string;
  /** JSON-path-like location, e.g. `workflow[2].next.arcs[0].step`. */
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly severity: Severity;
}

export type RouterMode = 'exclusive' | 'inclusive';

export interface Arc {
  readonly step: string;
  /** Template string or YAML boolean; absent means true. */
  readonly when?: string | boolean;
  /** `scope.key: template` values handed to the target's command only. */
  readonly set?: Readonly<Record<string, unknown>>;
  /** Legacy `args` of list-form arcs (treated like `set`). */
  readonly args?: Readonly<Record<string, unknown>>;
}

export interface NextSpec {
  readonly mode: RouterMode;
  readonly arcs: readonly Arc[];
}

export type PolicyAction = 'continue' | 'retry' | 'jump' | 'break' | 'fail';
export type Backoff = 'none' | 'fixed' | 'linear' | 'exponential';

export interface PolicyThen {
  readonly do: PolicyAction;
  /** retry: total attempts (default 3). */
  readonly attempts?: number;
  readonly backoff?: Backoff;
  /** retry: seconds (default 1.0). */
  readonly delay?: number;
  /** jump: target label, or previous|prev|_previous|@previous. */
  readonly to?: string;
  readonly set?: Readonly<Record<string, unknown>>;
}

export interface PolicyRule {
  /** Absent for an `else` rule (matches always). */
  readonly when?: string | boolean;
  readonly isElse: boolean;
  readonly then: PolicyThen;
}

export interface Policy {
  readonly rules: readonly PolicyRule[];
}

/**
 * One tool invocation. A single tool is a one-item pipeline (contract 1.9 "code gap": policy
 * rules apply to single tools too).
 */
export interface Task {
  /** Pipeline label (`name:` or label-as-key); for a single tool, the step name. */
  readonly label: string;
  readonly kind: string;
  /**
   * The tool's own keys (everything but `name`, `kind`, `set`, `spec.policy`), with keys found
   * under the tool's `spec:` hoisted beside the others (the tool's own keys win). Unrendered.
   */
  readonly config: Readonly<Record<string, unknown>>;
  readonly policy?: Policy;
  /** Pipeline item `set`: rendered against `output` after the item runs. */
  readonly set?: Readonly<Record<string, unknown>>;
}

export interface ToolSpec {
  /** `single` for a map-form tool, `pipeline` for a list. */
  readonly shape: 'single' | 'pipeline';
  readonly tasks: readonly Task[];
  /** The step's `output:` block: where its result is kept (carried with the command). */
  readonly output?: OutputSpec;
}

/** Result tiers of NoETL's `output.store.kind` (`object` is read as `disk`, as NoETL does). */
export const OUTPUT_STORE_KINDS = [
  'auto',
  'memory',
  'kv',
  'disk',
  's3',
  'gcs',
  'db',
  'duckdb',
  'eventlog',
] as const;
export type OutputStoreKind = (typeof OUTPUT_STORE_KINDS)[number];

/** One field kept beside the reference of an externalized result. */
export interface OutputSelect {
  /** Dotted path into the step's result (`status`, `data.items[0].id`, `$.page`). */
  readonly path: string;
  /** The key it is read by: `as:`, else the path's last name. */
  readonly as: string;
}

/**
 * A step's `output:` block (NoETL's result externalization): past `inlineMaxBytes` (or always,
 * with an explicit store kind) the result goes to the result store and the step's value becomes
 * the selected fields plus `_ref`, `_store`, `_size_bytes` and `_preview`.
 */
export interface OutputSpec {
  readonly store: OutputStoreKind;
  readonly select: readonly OutputSelect[];
  readonly inlineMaxBytes?: number;
  readonly previewMaxBytes?: number;
}

export type LoopMode = 'sequential' | 'parallel' | 'cursor';

export interface LoopSpec {
  /** Template or literal collection. */
  readonly in: unknown;
  readonly iterator: string;
  readonly mode: LoopMode;
  /** Number or template; parallel only. */
  readonly maxInFlight?: number | string;
  readonly cursor?: Readonly<Record<string, unknown>>;
  /** `spec.frame` of a cursor loop (`max_rows`, `row_concurrency`...), unrendered. */
  readonly frame?: Readonly<Record<string, unknown>>;
}

export interface Step {
  readonly name: string;
  readonly desc?: string;
  /** Absent for a pure router step (allowed in local mode). */
  readonly tool?: ToolSpec;
  /** Absent when the step has no `next` (terminal). */
  readonly next?: NextSpec;
  readonly when?: string | boolean;
  readonly loop?: LoopSpec;
  readonly set?: Readonly<Record<string, unknown>>;
  readonly input?: Readonly<Record<string, unknown>>;
  readonly args?: Readonly<Record<string, unknown>>;
  /** Legacy local-runtime `vars:` (extract values from the result into `vars.<name>`). */
  readonly vars?: Readonly<Record<string, unknown>>;
  readonly spec?: Readonly<Record<string, unknown>>;
  readonly position: SourcePosition;
}

export interface KeychainEntry {
  readonly name: string;
  readonly kind: string;
  /** Every key of the entry as written (unrendered), e.g. `token`, `map`, `credential`, `provider`. */
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface WorkbookEntry {
  readonly name: string;
  /** The raw tool map (unrendered). */
  readonly tool: Readonly<Record<string, unknown>>;
}

export interface ExecutorSpec {
  readonly profile: 'local' | 'distributed' | 'auto';
  readonly version?: string;
  readonly requiresTools: readonly string[];
  readonly entryStep?: string;
  readonly finalStep?: string;
  readonly noNextIsError: boolean;
}

export interface PlaybookMetadata {
  readonly name: string;
  /** `metadata.path`, falling back to `metadata.name`. */
  readonly path: string;
  readonly description?: string;
  readonly version?: string;
  readonly labels?: Readonly<Record<string, unknown>>;
  /** Every metadata key as written. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface Playbook {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: PlaybookMetadata;
  readonly workload: Readonly<Record<string, unknown>>;
  readonly keychain: readonly KeychainEntry[];
  readonly workbook: readonly WorkbookEntry[];
  readonly workflow: readonly Step[];
  /** Steps by name. */
  readonly steps: ReadonlyMap<string, Step>;
  readonly executor?: ExecutorSpec;
  /** Where it came from, for relative paths (playbook tool, python `script.uri`). */
  readonly source?: { readonly file?: string };
}

export interface ParseOptions {
  /** File name for messages and relative paths. */
  readonly file?: string;
  /** Tool kinds accepted; defaults to KNOWN_TOOL_KINDS. */
  readonly toolKinds?: ReadonlySet<string>;
  /**
   * `local` accepts steps without `tool` and legacy `case:` as warnings;
   * `server` reports them as errors as the Rust server does. Default `local`.
   */
  readonly mode?: 'local' | 'server';
  /**
   * Size limits checked before the document is built (PLAYBOOK_TOO_LARGE); each one not given
   * is its default (DEFAULT_PLAYBOOK_LIMITS).
   */
  readonly limits?: Partial<PlaybookLimits>;
  /** Every warning is reported as an error (`--strict`, `NOETL_STRICT=1`). */
  readonly strict?: boolean;
}

export interface ParseResult {
  /** Present when there is no error-severity diagnostic. */
  readonly playbook?: Playbook;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Accepted kinds this build cannot run, with why: `validate`, `register` and `noetl run` warn
 * (TOOL_UNAVAILABLE) before anything runs; a step using one fails with TOOL_UNSUPPORTED.
 */
export const UNAVAILABLE_TOOL_KINDS: ReadonlyMap<string, string> = new Map([
  [
    'ducklake',
    'it needs the DuckDB `ducklake` extension, which DuckDB downloads from the internet and this build does not bundle',
  ],
]);

/** Tool kinds of the contract (server enum + worker registry), accepted by default. */
export const KNOWN_TOOL_KINDS: ReadonlySet<string> = new Set([
  'http',
  'postgres',
  'duckdb',
  'ducklake',
  'python',
  'workbook',
  'playbook',
  'playbooks',
  'secrets',
  'iterator',
  'container',
  'script',
  'snowflake',
  'transfer',
  'snowflake_transfer',
  'gcs',
  'gateway',
  'nats',
  'shell',
  'artifact',
  'noop',
  'task_sequence',
  'rhai',
  'subscription',
  'wasm',
  'mcp',
  'provider',
  'result_fetch',
  'agent',
  'auth',
  'sink',
]);
