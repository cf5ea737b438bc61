import { Composer, LineCounter, Parser, YAMLParseError, type CST, type Document } from 'yaml';
import { checkKeys, TOP_KEYS } from './known-keys.js';
import { checkBytes, checkTree, checkValue, playbookLimits, type PlaybookLimits } from './limits.js';
import type { ArcRef } from './normalize-next.js';
import {
  normalizeExecutor,
  normalizeKeychain,
  normalizeMetadata,
  normalizeWorkbook,
} from './normalize-root.js';
import { normalizeStep, type StepContext } from './normalize-step.js';
import { isMap, present, show, type RawMap } from './raw.js';
import { readPlainYaml } from './plain-yaml.js';
import { DiagnosticCollector, type PathPositions } from './reporter.js';
import { SourceMap } from './source-map.js';
import {
  KNOWN_TOOL_KINDS,
  type Diagnostic,
  type ParseOptions,
  type ParseResult,
  type Playbook,
  type Step,
} from './types.js';
import { checkGraph } from './validate.js';

const API_VERSION = 'noetl.io/v2';
const KIND = 'Playbook';
/** YAML problems after which the document still has a trustworthy shape. */
const RECOVERABLE_YAML = new Set(['DUPLICATE_KEY']);

function checkHeader(root: RawMap, rep: DiagnosticCollector): void {
  const apiVersion = present(root, 'apiVersion');
  if (apiVersion === undefined) rep.error('MISSING_FIELD', [], `missing \`apiVersion: ${API_VERSION}\``);
  else if (apiVersion !== API_VERSION)
    rep.error('API_VERSION', ['apiVersion'], `apiVersion must be '${API_VERSION}', not ${show(apiVersion)}`);
  const kind = present(root, 'kind');
  if (kind === undefined) rep.error('MISSING_FIELD', [], `missing \`kind: ${KIND}\``);
  else if (kind !== KIND) rep.error('KIND', ['kind'], `kind must be '${KIND}', not ${show(kind)}`);
}

function readWorkflow(root: RawMap, ctx: StepContext, rep: DiagnosticCollector) {
  const steps = new Map<string, { step: Step; index: number }>();
  const workflow: Step[] = [];
  const raw = present(root, 'workflow');
  if (raw === undefined) {
    rep.error('MISSING_FIELD', [], 'missing `workflow:` (a list of steps)');
    return undefined;
  }
  if (!Array.isArray(raw)) {
    rep.error('INVALID_TYPE', ['workflow'], '`workflow` must be a list of steps');
    return undefined;
  }
  raw.forEach((item, index) => {
    const step = normalizeStep(item, index, ctx);
    if (!step) return;
    const first = steps.get(step.name);
    if (first) {
      const at = first.step.position;
      rep.error(
        'DUPLICATE_STEP',
        ['workflow', index, 'step'],
        `step '${step.name}' is already defined at line ${at.line}:${at.column}`,
      );
      return;
    }
    steps.set(step.name, { step, index });
    workflow.push(step);
  });
  return { steps, workflow };
}

/** The first document of the parsed tokens, as `parseDocument` builds it (more: an error). */
function composeDocument(tokens: readonly CST.Token[], length: number): Document.Parsed {
  const composer = new Composer({ prettyErrors: false, merge: true });
  let doc: Document.Parsed | undefined;
  for (const next of composer.compose(tokens, true, length)) {
    if (!doc) doc = next;
    else {
      doc.errors.push(
        new YAMLParseError(
          [next.range[0], next.range[1]],
          'MULTIPLE_DOCS',
          'the text holds several YAML documents (`---`); a playbook is one',
        ),
      );
      break;
    }
  }
  // compose(..., forceDoc = true) always yields a document, an empty one for empty text.
  return doc!;
}

/** The document's top-level map, where its paths are in the source, and the collector. */
type ReadDocument =
  | { readonly diagnostics: Diagnostic[] }
  | { readonly root: RawMap; readonly source: PathPositions; readonly rep: DiagnosticCollector };

/** Reads the YAML text with `yaml`: its problems and size limits reported. */
function readWithYaml(text: string, limits: PlaybookLimits, strict: boolean): ReadDocument {
  const lines = new LineCounter();
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  const tree = checkTree(tokens, limits, lines);
  if (tree.diagnostics.length > 0) return { diagnostics: tree.diagnostics };
  const doc = composeDocument(tokens, text.length);
  const source = new SourceMap(doc, lines);
  const rep = new DiagnosticCollector(source, strict);
  for (const err of doc.errors)
    rep.add('YAML_SYNTAX', 'error', [], err.message, source.offsetPosition(err.pos[0]));
  for (const warn of doc.warnings)
    rep.add('YAML_SYNTAX', 'warning', [], warn.message, source.offsetPosition(warn.pos[0]));
  if (doc.errors.some((e) => !RECOVERABLE_YAML.has(e.code))) return { diagnostics: rep.list() };

  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    rep.error('YAML_SYNTAX', [], err instanceof Error ? err.message : String(err));
    return { diagnostics: rep.list() };
  }
  if (tree.hasAlias) {
    const value = checkValue(root, limits);
    if (value.steps !== undefined)
      rep.error(
        'PLAYBOOK_TOO_LARGE',
        ['workflow'],
        `the playbook has ${value.steps} steps once aliases are expanded; the limit is ${limits.maxSteps} (NOETL_PLAYBOOK_MAX_STEPS)`,
      );
    if (value.tooDeep)
      rep.error(
        'PLAYBOOK_TOO_LARGE',
        [],
        `once aliases are expanded, maps and lists are nested more than ${limits.maxDepth} levels deep (NOETL_PLAYBOOK_MAX_DEPTH)`,
      );
    if (rep.hasErrors()) return { diagnostics: rep.list() };
  }
  if (!isMap(root)) {
    rep.error('NOT_A_MAP', [], 'a playbook must be a YAML map with apiVersion, kind, metadata and workflow');
    return { diagnostics: rep.list() };
  }
  return { root, source, rep };
}

/**
 * Reads the YAML text: with the plain reader when the text has its shape and is well within the
 * limits (the same value and positions, several times faster), else with `yaml`.
 */
function readDocument(text: string, limits: PlaybookLimits, strict: boolean): ReadDocument {
  const plain = readPlainYaml(text);
  if (plain && (plain.steps ?? 0) <= limits.maxSteps && plain.depth < limits.maxDepth)
    return {
      root: plain.value,
      source: plain.positions,
      rep: new DiagnosticCollector(plain.positions, strict),
    };
  return readWithYaml(text, limits, strict);
}

/**
 * Parses and validates a playbook. Every problem is reported at once, each with a stable code,
 * a path and the line:column of the source; `playbook` is present when there is no error.
 */
export function parsePlaybook(text: string, options: ParseOptions = {}): ParseResult {
  const limits = playbookLimits(options.limits);
  const bytes = checkBytes(text, limits);
  if (bytes) return { diagnostics: [bytes] };
  const read = readDocument(text, limits, options.strict === true);
  if ('diagnostics' in read) return { diagnostics: read.diagnostics };
  const { root, source, rep } = read;

  checkHeader(root, rep);
  checkKeys(root, TOP_KEYS, [], 'the playbook', rep);
  const metadata = normalizeMetadata(root, rep);
  const workloadRaw = present(root, 'workload');
  let workload: RawMap = {};
  if (isMap(workloadRaw)) workload = workloadRaw;
  else if (workloadRaw !== undefined && workloadRaw !== null)
    rep.error('INVALID_TYPE', ['workload'], '`workload` must be a map of default input values');
  rep.templates(workload, ['workload']);

  const kinds = options.toolKinds ?? KNOWN_TOOL_KINDS;
  const keychain = normalizeKeychain(root, rep);
  const workbook = normalizeWorkbook(root, rep, kinds);
  const executor = normalizeExecutor(root, rep);

  const refs: ArcRef[] = [];
  const ctx: StepContext = {
    rep,
    kinds,
    workbook: workbook.byName,
    mode: options.mode ?? 'local',
    refs,
    position: (path) => source.position(path),
  };
  const flow = readWorkflow(root, ctx, rep);
  if (flow) checkGraph({ steps: flow.steps, refs, executor }, rep);

  const diagnostics = rep.list();
  if (rep.hasErrors() || !metadata || !flow) return { diagnostics };
  const playbook: Playbook = {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata,
    workload,
    keychain,
    workbook: workbook.entries,
    workflow: flow.workflow,
    steps: new Map(flow.workflow.map((s) => [s.name, s])),
    ...(executor ? { executor } : {}),
    ...(options.file !== undefined ? { source: { file: options.file } } : {}),
  };
  return { playbook, diagnostics };
}
