import { checkKeys, STEP_KEYS } from './known-keys.js';
import { mapAt } from './normalize-root.js';
import { normalizeLoop } from './normalize-loop.js';
import { convertCase, normalizeNext, type ArcRef, type NextContext } from './normalize-next.js';
import { normalizeOutput } from './normalize-output.js';
import { normalizeToolAt } from './normalize-tool.js';
import { has, isMap, present, type Path, type RawMap } from './raw.js';
import type { Reporter } from './reporter.js';
import type { NextSpec, SourcePosition, Step } from './types.js';

export interface StepContext {
  readonly rep: Reporter;
  readonly kinds: ReadonlySet<string>;
  readonly workbook: ReadonlyMap<string, RawMap>;
  readonly mode: 'local' | 'server';
  readonly refs: ArcRef[];
  position(path: Path): SourcePosition;
}

/** Step-level maps kept as written (unrendered); their templates are checked. */
const MAP_KEYS = ['set', 'input', 'args', 'vars', 'spec'] as const;

/** Normalises one `workflow` item. Returns undefined when it has no usable `step` name. */
export function normalizeStep(raw: unknown, index: number, ctx: StepContext): Step | undefined {
  const { rep } = ctx;
  const path: Path = ['workflow', index];
  if (!isMap(raw)) {
    rep.error('INVALID_TYPE', path, 'a workflow item must be a map `{step: name, tool: ...}`');
    return undefined;
  }
  const name = present(raw, 'step');
  if (name === undefined || name === '') {
    rep.error('MISSING_FIELD', path, 'a workflow item needs `step: <name>`');
    return undefined;
  }
  if (typeof name !== 'string') {
    rep.error('INVALID_TYPE', [...path, 'step'], '`step` must be a name (a string)');
    return undefined;
  }
  checkKeys(raw, STEP_KEYS, path, `step '${name}'`, rep, true);

  const rawDesc = present(raw, 'desc');
  const desc = typeof rawDesc === 'string' || typeof rawDesc === 'number' ? String(rawDesc) : undefined;
  if (rawDesc !== undefined && desc === undefined)
    rep.error('INVALID_TYPE', [...path, 'desc'], '`desc` must be text');

  const rawTool = present(raw, 'tool');
  const normalized =
    rawTool === undefined
      ? undefined
      : normalizeToolAt(rawTool, name, [...path, 'tool'], rep, { kinds: ctx.kinds, workbook: ctx.workbook });
  // `output:` travels with the tool, so the worker that runs it knows where the result goes
  // (paths below are built only for keys the step has: this runs once per step of a playbook)
  const rawOutput = present(raw, 'output');
  const output = rawOutput === undefined ? undefined : normalizeOutput(rawOutput, [...path, 'output'], rep);
  if (output && rawTool === undefined)
    rep.warning(
      'UNKNOWN_KEY',
      [...path, 'output'],
      `step '${name}' has an \`output\` but no \`tool\`; it is ignored`,
    );
  const tool = normalized && output ? { ...normalized, output } : normalized;
  if (rawTool === undefined) {
    if (has(raw, 'type'))
      rep.error(
        'INVALID_TYPE',
        [...path, 'type'],
        'legacy `type:` steps are not supported: write `tool: {kind: ..., ...}`',
      );
    else if (ctx.mode === 'server')
      rep.error(
        'MISSING_FIELD',
        [...path, 'step'],
        `step '${name}' has no \`tool\` (a pure router step can use \`tool: {kind: noop}\`)`,
      );
  }

  const rawWhen = present(raw, 'when');
  const when = rawWhen === undefined ? undefined : rep.condition(rawWhen, [...path, 'when']);
  const rawLoop = present(raw, 'loop');
  const loop = rawLoop === undefined ? undefined : normalizeLoop(rawLoop, [...path, 'loop'], rep);
  // a loop runs the step's tool per item (or claimed row); without one there is nothing to run
  if (loop && rawTool === undefined && !has(raw, 'type'))
    rep.error('LOOP_INVALID', [...path, 'loop'], `step '${name}' has a \`loop\` but no \`tool\` to run`);
  const maps: Partial<Record<(typeof MAP_KEYS)[number], RawMap>> = {};
  for (let i = 0; i < MAP_KEYS.length; i++) {
    const key = MAP_KEYS[i]!;
    const value = mapAt(raw, key, path, rep);
    if (value) {
      rep.templates(value, [...path, key]);
      maps[key] = value;
    }
  }

  const nctx: NextContext = { rep, from: name, refs: ctx.refs };
  let next: NextSpec | undefined = normalizeNext(present(raw, 'next'), present(raw, 'spec'), path, nctx);
  if (present(raw, 'case') !== undefined) {
    const severity = ctx.mode === 'server' ? 'error' : 'warning';
    next = convertCase(raw.case, path, next, nctx, severity) ?? next;
  }

  // built key by key, in the order of the type (no spreads of empty objects: this runs per step)
  const step: { -readonly [K in keyof Step]?: Step[K] } = { name };
  if (desc !== undefined) step.desc = desc;
  if (tool) step.tool = tool;
  if (next) step.next = next;
  if (when !== undefined) step.when = when;
  if (loop) step.loop = loop;
  Object.assign(step, maps);
  step.position = ctx.position([...path, 'step']);
  return step as Step;
}
