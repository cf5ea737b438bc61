import { CST, LineCounter, Parser } from 'yaml';
import { DEFAULT_PLAYBOOK_LIMITS, type PlaybookLimits } from '../shared/index.js';
import type { Diagnostic, SourcePosition } from './types.js';

/**
 * The size limits of a playbook (bytes, steps, nesting depth), checked before the expensive
 * work: bytes before any parsing, steps and depth on the YAML syntax tree (CST) before it is
 * composed into a document, converted and validated. The walk is iterative, so a document nested
 * a million levels deep costs a loop, not the stack.
 */

export type { PlaybookLimits };

/** The limits in force: each one given, else its default. */
export function playbookLimits(limits: Partial<PlaybookLimits> | undefined): PlaybookLimits {
  return { ...DEFAULT_PLAYBOOK_LIMITS, ...limits };
}

function tooLarge(message: string, at: SourcePosition, path = ''): Diagnostic {
  return { code: 'PLAYBOOK_TOO_LARGE', severity: 'error', message, path, line: at.line, column: at.column };
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** UTF-8 length of `text`, stopping as soon as it passes `max` (then any value above `max`). */
function utf8Length(text: string, max: number): number {
  if (text.length > max) return text.length;
  if (text.length * 3 <= max) return text.length; // at most 3 bytes per UTF-16 unit
  let bytes = 0;
  for (let i = 0; i < text.length && bytes <= max; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4; // a surrogate pair: one 4-byte character
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** PLAYBOOK_TOO_LARGE when the text is over `maxBytes`; no parsing is done. */
export function checkBytes(text: string, limits: PlaybookLimits): Diagnostic | undefined {
  const bytes = utf8Length(text, limits.maxBytes);
  if (bytes <= limits.maxBytes) return undefined;
  const size = bytes === text.length ? `${fmt(bytes)} bytes` : `over ${fmt(limits.maxBytes)} bytes`;
  return tooLarge(
    `the playbook is ${size}; the limit is ${fmt(limits.maxBytes)} (NOETL_PLAYBOOK_MAX_BYTES)`,
    { line: 1, column: 1 },
  );
}

type Node = CST.Token;

/** Map and list items of a collection token, or undefined for anything else. */
function itemsOf(node: Node): readonly { key?: Node | null; value?: Node | null }[] | undefined {
  switch (node.type) {
    case 'block-map':
    case 'block-seq':
    case 'flow-collection':
      return node.items;
    default:
      return undefined;
  }
}

function keyText(node: Node | null | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === 'scalar' || node.type === 'single-quoted-scalar' || node.type === 'double-quoted-scalar')
    return CST.resolveAsScalar(node)?.value;
  return undefined;
}

/** Offset of the step that passes the limit, or undefined when `workflow` is within it. */
function stepsOverflow(workflow: Node, maxSteps: number): { count: number; offset: number } | undefined {
  if (workflow.type !== 'block-seq' && workflow.type !== 'flow-collection') return undefined;
  if (workflow.type === 'flow-collection' && workflow.start.source !== '[') return undefined;
  let count = 0;
  let offset: number | undefined;
  for (const item of workflow.items) {
    // A flow list's separators come as items without key or value; every `- ` is a step.
    const node = item.value ?? item.key ?? undefined;
    if (workflow.type === 'flow-collection' && node === undefined) continue;
    count++;
    if (count === maxSteps + 1) offset = node?.offset ?? item.start[0]?.offset ?? workflow.offset;
  }
  return offset === undefined ? undefined : { count, offset };
}

/** What the syntax tree shows: diagnostics for the limits passed, and whether it has aliases. */
export interface TreeCheck {
  readonly diagnostics: Diagnostic[];
  /** An alias (`*name`) can make the converted value larger than the tree: check it again. */
  readonly hasAlias: boolean;
}

/**
 * Checks the steps of the first document's `workflow` and the nesting depth of every document.
 * Positions are looked up in `lines` (the LineCounter the parser filled).
 */
export function checkTree(tokens: readonly Node[], limits: PlaybookLimits, lines: LineCounter): TreeCheck {
  const at = (offset: number): SourcePosition => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const diagnostics: Diagnostic[] = [];
  let hasAlias = false;
  let deepest: { depth: number; offset: number } | undefined;
  let firstDocument = true;
  for (const token of tokens) {
    if (token.type !== 'document' || !token.value) continue;
    const root = token.value;
    if (firstDocument) {
      firstDocument = false;
      const pairs = root.type === 'block-map' || root.type === 'flow-collection' ? itemsOf(root) : undefined;
      const workflow = pairs?.find((p) => keyText(p.key) === 'workflow')?.value;
      const over = workflow ? stepsOverflow(workflow, limits.maxSteps) : undefined;
      if (over) {
        diagnostics.push(
          tooLarge(
            `the playbook has ${fmt(over.count)} steps; the limit is ${fmt(limits.maxSteps)} (NOETL_PLAYBOOK_MAX_STEPS)`,
            at(over.offset),
            `workflow[${limits.maxSteps}]`,
          ),
        );
      }
    }
    // Depth-first with an explicit stack: a collection inside a collection is one level deeper.
    const stack: { node: Node; depth: number }[] = [{ node: root, depth: 0 }];
    while (stack.length > 0) {
      const { node, depth } = stack.pop()!;
      if (node.type === 'alias') hasAlias = true;
      const items = itemsOf(node);
      if (!items) continue;
      const level = depth + 1;
      if (level > limits.maxDepth) {
        if (!deepest || node.offset < deepest.offset) deepest = { depth: level, offset: node.offset };
        continue; // one report is enough; nothing below this point is looked at
      }
      for (const item of items) {
        if (item.value) stack.push({ node: item.value, depth: level });
        if (item.key) stack.push({ node: item.key, depth: level });
      }
    }
  }
  if (deepest) {
    diagnostics.push(
      tooLarge(
        `maps and lists are nested more than ${fmt(limits.maxDepth)} levels deep (NOETL_PLAYBOOK_MAX_DEPTH)`,
        at(deepest.offset),
      ),
    );
  }
  return { diagnostics, hasAlias };
}

/**
 * Depth and step count of the converted value, for documents with aliases (an alias repeats an
 * anchored value, which can nest deeper or list more steps than the text shows). Shared objects
 * are walked again only when reached at a greater depth.
 */
export function checkValue(root: unknown, limits: PlaybookLimits): { steps?: number; tooDeep: boolean } {
  const workflow =
    root !== null && typeof root === 'object' && !Array.isArray(root)
      ? (root as Record<string, unknown>)['workflow']
      : undefined;
  const steps = Array.isArray(workflow) && workflow.length > limits.maxSteps ? workflow.length : undefined;
  const seen = new Map<object, number>();
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    const level = depth + 1;
    if (level > limits.maxDepth) return { ...(steps === undefined ? {} : { steps }), tooDeep: true };
    if ((seen.get(value) ?? 0) >= level) continue;
    seen.set(value, level);
    for (const child of Array.isArray(value) ? value : Object.values(value))
      stack.push({ value: child, depth: level });
  }
  return { ...(steps === undefined ? {} : { steps }), tooDeep: false };
}

/**
 * Every limit the text passes, without building a document: bytes first, then steps and depth
 * on the syntax tree. Empty when the playbook is within its limits.
 */
export function checkPlaybookLimits(text: string, limits?: Partial<PlaybookLimits>): Diagnostic[] {
  const within = playbookLimits(limits);
  const bytes = checkBytes(text, within);
  if (bytes) return [bytes];
  const lines = new LineCounter();
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  return checkTree(tokens, within, lines).diagnostics;
}
