/**
 * References to the result store (contract 1.12): `noetl://execution/<eid>/result/<name>/<id>`.
 * A name is one or more `/`-separated segments of letters, digits, `_`, `.` and `-` (never `.`
 * or `..` alone), so it is safe as a relative path too (the local folder store).
 */

export interface ResultRef {
  readonly executionId: string;
  readonly name: string;
  readonly resultId: string;
}

/** Largest value the result store keeps (contract 1.12: 64 MiB), as serialised JSON bytes. */
export const RESULT_MAX_BYTES = 64 * 1024 * 1024;

const SEGMENT = '[A-Za-z0-9_][A-Za-z0-9_.-]*';
const NAME_RE = new RegExp(`^${SEGMENT}(?:/${SEGMENT})*$`);
const REF_RE = /^noetl:\/\/execution\/(\d{1,20})\/result\/(.+)\/(\d{1,20})$/;

/** True for a name the store accepts. */
export function isResultName(name: string): boolean {
  return name.length <= 256 && NAME_RE.test(name);
}

export function formatResultRef(ref: ResultRef): string {
  return `noetl://execution/${ref.executionId}/result/${ref.name}/${ref.resultId}`;
}

/** The parts of a `noetl://` result reference; undefined when it is not one. */
export function parseResultRef(uri: string): ResultRef | undefined {
  const m = REF_RE.exec(uri.trim());
  if (!m || !isResultName(m[2]!)) return undefined;
  return { executionId: m[1]!, name: m[2]!, resultId: m[3]! };
}

/**
 * The JSON text a value is stored as: object keys sorted, so its bytes and sha256 do not depend
 * on the order a map's keys took on the way (PostgreSQL's jsonb orders them its own way).
 */
export function storedJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
