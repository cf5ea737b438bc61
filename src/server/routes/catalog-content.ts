import { LineCounter, parseDocument } from 'yaml';
import { checkPlaybookLimits, parsePlaybook } from '../../dsl/index.js';
import { NoetlError, isPlainObject } from '../../shared/index.js';
import type { JsonValue, PlaybookLimits } from '../../shared/index.js';
import { subscriptionDiagnostics } from '../triggers/stream-subscription.js';

/**
 * Reading a resource sent to `POST /api/catalog/register`: plain or base64 YAML, which must be a
 * map with `metadata.name`. A playbook is validated as the server runs it: with an error it is
 * refused (422 PLAYBOOK_INVALID, every diagnostic in `details.diagnostics`); its warnings come
 * back with the registration. This replaces contract 4.1's "no DSL validation at register time"
 * (docs/api.md).
 */

export interface ParsedResource {
  readonly text: string;
  readonly document: Record<string, unknown>;
  readonly path: string;
  readonly kind: string;
  readonly workload: JsonValue | undefined;
  readonly workflow: JsonValue | undefined;
  readonly labels: JsonValue | undefined;
  /** The size limits it was checked against (its diagnostics use the same). */
  readonly limits?: Partial<PlaybookLimits>;
}

export interface RegisterWarning {
  readonly code: string;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly path: string;
  readonly line: number;
  readonly column: number;
}

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const KIND_RE = /^[a-z][a-z0-9_-]{0,63}$/;

/** The YAML text: `content` itself, or its base64 decoding when it is valid base64 of UTF-8. */
export function decodeContent(content: string): string {
  const compact = content.replace(/\s+/g, '');
  if (compact.length < 8 || compact.length % 4 !== 0 || !BASE64_RE.test(compact)) return content;
  const bytes = Buffer.from(compact, 'base64');
  const text = bytes.toString('utf8');
  const roundTrips = Buffer.from(text, 'utf8').equals(bytes);
  return roundTrips && !text.includes('\u0000') && /[:\n]/.test(text) ? text : content;
}

function invalid(message: string): NoetlError {
  return new NoetlError('PLAYBOOK_INVALID', message);
}

function asJson(value: unknown): JsonValue | undefined {
  return value === undefined ? undefined : (value as JsonValue);
}

/**
 * Refuses content over a size limit with 422 PLAYBOOK_TOO_LARGE before a document is built from
 * it: bytes before any parsing, steps and nesting depth on the YAML syntax tree.
 */
function checkLimits(text: string, limits: Partial<PlaybookLimits> | undefined): void {
  const over = checkPlaybookLimits(text, limits);
  const first = over[0];
  if (!first) return;
  throw new NoetlError(
    'PLAYBOOK_TOO_LARGE',
    `${first.message} (line ${first.line}, column ${first.column})`,
    {
      details: { diagnostics: over },
    },
  );
}

/**
 * Parses the resource; over a size limit is 422 PLAYBOOK_TOO_LARGE, YAML errors are 400
 * YAML_SYNTAX, a wrong shape 422 PLAYBOOK_INVALID.
 */
export function parseResource(
  content: string,
  resourceType: string | undefined,
  limits?: Partial<PlaybookLimits>,
): ParsedResource {
  const text = decodeContent(content);
  checkLimits(text, limits);
  // prettyErrors would put a code frame in the message; the position comes from a LineCounter.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, merge: true, lineCounter });
  const firstError = doc.errors[0];
  if (firstError) {
    const at = firstError.linePos?.[0] ?? lineCounter.linePos(firstError.pos[0]);
    const where = at ? ` (line ${at.line}, column ${at.col})` : '';
    throw new NoetlError('YAML_SYNTAX', `content is not valid YAML${where}: ${firstError.message}`, {
      details: at ? { line: at.line, column: at.col } : {},
    });
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw new NoetlError('YAML_SYNTAX', `content is not valid YAML: ${(error as Error).message}`);
  }
  if (!isPlainObject(root)) throw invalid('content must be a YAML map (apiVersion, kind, metadata, ...)');
  const metadata = root['metadata'];
  if (!isPlainObject(metadata)) throw invalid('content has no `metadata` map');
  const name = metadata['name'];
  if (typeof name !== 'string' || name.trim() === '') throw invalid('content has no `metadata.name`');
  const metaPath = metadata['path'];
  const path = (typeof metaPath === 'string' && metaPath.trim() !== '' ? metaPath : name).trim();
  if (path.length > 1024 || [...path].some((ch) => ch.charCodeAt(0) < 32))
    throw invalid('`metadata.path` is not a valid path');
  const rawKind = root['kind'];
  const kind = (typeof rawKind === 'string' && rawKind.trim() !== '' ? rawKind : (resourceType ?? 'playbook'))
    .trim()
    .toLowerCase();
  if (!KIND_RE.test(kind)) throw invalid(`kind '${kind}' is not a valid resource kind`);
  return {
    text,
    document: root,
    path,
    kind,
    workload: asJson(root['workload']),
    workflow: asJson(root['workflow']),
    labels: asJson(metadata['labels']),
    ...(limits === undefined ? {} : { limits }),
  };
}

/**
 * Diagnostics of a resource, as the server would validate it: a playbook's (with `strict`, its
 * warnings are errors), or what a subscription cannot do here (never an error).
 */
export function playbookWarnings(resource: ParsedResource, strict = false): RegisterWarning[] {
  if (resource.kind === 'subscription') {
    // registered as given; what the subscription cannot do here comes back as warnings
    return subscriptionDiagnostics(resource.text, resource.path).map((d) => ({
      ...d,
      path: 'spec',
      line: 1,
      column: 1,
    }));
  }
  if (resource.kind !== 'playbook') return [];
  const limits = resource.limits;
  return parsePlaybook(resource.text, {
    mode: 'server',
    strict,
    ...(limits === undefined ? {} : { limits }),
  }).diagnostics.map((d) => ({
    code: d.code,
    severity: d.severity,
    message: d.message,
    path: d.path,
    line: d.line,
    column: d.column,
  }));
}

/**
 * Refuses a playbook with an error diagnostic: 422 PLAYBOOK_INVALID naming the first error and
 * carrying every diagnostic (errors and warnings) in `details.diagnostics`, so that a broken
 * playbook never becomes the latest version of its path.
 */
export function refuseInvalidPlaybook(
  resource: ParsedResource,
  diagnostics: readonly RegisterWarning[],
): void {
  if (resource.kind !== 'playbook') return;
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const first = errors[0];
  if (!first) return;
  const more =
    errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
  throw new NoetlError(
    'PLAYBOOK_INVALID',
    `playbook '${resource.path}' is not valid: line ${first.line}, column ${first.column}: ${first.code} ${first.message}${more}`,
    { details: { diagnostics } },
  );
}
