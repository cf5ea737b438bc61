import { checkKeys, POLICY_KEYS, RULE_KEYS, THEN_KEYS } from './known-keys.js';
import { has, isMap, present, show, type Path, type RawMap } from './raw.js';
import type { Reporter } from './reporter.js';
import type { Backoff, Policy, PolicyAction, PolicyRule, PolicyThen } from './types.js';

const ACTIONS: ReadonlySet<string> = new Set<PolicyAction>(['continue', 'retry', 'jump', 'break', 'fail']);
const BACKOFFS: ReadonlySet<string> = new Set<Backoff>(['none', 'fixed', 'linear', 'exponential']);
/** `jump: {to: ...}` targets meaning "the task before this one" (contract 1.9). */
export const PREVIOUS_ALIASES: ReadonlySet<string> = new Set(['previous', 'prev', '_previous', '@previous']);

function isAction(value: string): value is PolicyAction {
  return ACTIONS.has(value);
}

function isBackoff(value: string): value is Backoff {
  return BACKOFFS.has(value);
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

/**
 * The `then` of a rule: `{do, attempts, backoff, delay, to, set}`. Legacy `eval` entries spell
 * `to` as `target` and `set` as `set_vars`; both are accepted.
 */
function normalizeThen(
  body: RawMap,
  path: Path,
  rep: Reporter,
  labels: ReadonlySet<string> | undefined,
): PolicyThen {
  checkKeys(body, THEN_KEYS, path, 'a rule action', rep);
  const rawDo = present(body, 'do');
  let action: PolicyAction = 'continue';
  if (typeof rawDo === 'string') {
    if (isAction(rawDo)) action = rawDo;
    else
      rep.warning(
        'POLICY_INVALID',
        [...path, 'do'],
        `unknown action ${show(rawDo)} is treated as 'continue' (actions: ${[...ACTIONS].join(', ')})`,
      );
  } else if (rawDo !== undefined) {
    rep.error('POLICY_INVALID', [...path, 'do'], '`do` must be one of ' + [...ACTIONS].join(', '));
  }
  const then: { -readonly [K in keyof PolicyThen]: PolicyThen[K] } = { do: action };

  if (has(body, 'attempts')) {
    const n = toNumber(body.attempts);
    if (n === undefined || !Number.isInteger(n) || n < 1)
      rep.error('POLICY_INVALID', [...path, 'attempts'], '`attempts` must be a whole number >= 1');
    else then.attempts = n;
  }
  if (has(body, 'backoff')) {
    const b = body.backoff;
    if (typeof b === 'string' && isBackoff(b)) then.backoff = b;
    else {
      rep.warning(
        'POLICY_INVALID',
        [...path, 'backoff'],
        `unknown backoff ${show(b)} is treated as 'fixed' (backoffs: ${[...BACKOFFS].join(', ')})`,
      );
      then.backoff = 'fixed';
    }
  }
  if (has(body, 'delay')) {
    const d = toNumber(body.delay);
    if (d === undefined || d < 0)
      rep.error('POLICY_INVALID', [...path, 'delay'], '`delay` must be seconds >= 0');
    else then.delay = d;
  }
  const toKey = has(body, 'to') ? 'to' : has(body, 'target') ? 'target' : undefined;
  if (toKey !== undefined) {
    const to = body[toKey];
    if (typeof to !== 'string' || to === '') {
      rep.error('POLICY_INVALID', [...path, toKey], '`to` must be a task label');
    } else {
      then.to = to;
      if (labels && !labels.has(to) && !PREVIOUS_ALIASES.has(to))
        rep.error(
          'POLICY_INVALID',
          [...path, toKey],
          `jump target ${show(to)} is not a task of this tool (labels: ${[...labels].join(', ')})`,
        );
    }
  }
  if (action === 'jump' && then.to === undefined && toKey === undefined)
    rep.error('POLICY_INVALID', path, '`do: jump` needs `to: <task label>`');

  const setKey = has(body, 'set') ? 'set' : has(body, 'set_vars') ? 'set_vars' : undefined;
  if (setKey !== undefined && body[setKey] !== null) {
    const set = body[setKey];
    if (!isMap(set)) rep.error('POLICY_INVALID', [...path, setKey], '`set` must be a map of `key: value`');
    else {
      rep.templates(set, [...path, setKey]);
      then.set = set;
    }
  }
  return then;
}

/** The body of an `else` rule: `{else: {then: {...}}}`, `{else: {do: ...}}` or `{else: null, then: {...}}`. */
function elseBody(rule: RawMap, path: Path, rep: Reporter): { body: RawMap; path: Path } | undefined {
  const value = rule.else;
  if (value === null || value === undefined) {
    const then = present(rule, 'then');
    if (then === undefined) return { body: {}, path };
    if (isMap(then)) return { body: then, path: [...path, 'then'] };
    rep.error('POLICY_INVALID', [...path, 'then'], '`then` must be a map like `{do: continue}`');
    return undefined;
  }
  if (!isMap(value)) {
    rep.error('POLICY_INVALID', [...path, 'else'], '`else` must be a map like `{then: {do: continue}}`');
    return undefined;
  }
  const inner = present(value, 'then');
  if (inner === undefined) return { body: value, path: [...path, 'else'] };
  checkKeys(value, ['then'], [...path, 'else'], '`else`', rep);
  if (isMap(inner)) return { body: inner, path: [...path, 'else', 'then'] };
  rep.error('POLICY_INVALID', [...path, 'else', 'then'], '`then` must be a map like `{do: continue}`');
  return undefined;
}

function normalizeRule(
  raw: unknown,
  path: Path,
  rep: Reporter,
  labels: ReadonlySet<string> | undefined,
): PolicyRule | undefined {
  if (!isMap(raw)) {
    rep.error(
      'POLICY_INVALID',
      path,
      'a policy rule must be a map `{when: ..., then: {do: ...}}` or `{else: ...}`',
    );
    return undefined;
  }
  const whenKey = has(raw, 'when') ? 'when' : has(raw, 'expr') ? 'expr' : undefined;
  // a short-form rule `{when, do, ...}` has its action keys checked with the action
  if (has(raw, 'else') || has(raw, 'then')) checkKeys(raw, RULE_KEYS, path, 'a policy rule', rep);
  if (has(raw, 'else')) {
    if (whenKey !== undefined) {
      rep.error('POLICY_INVALID', path, 'a rule has either `when` or `else`, not both');
      return undefined;
    }
    const found = elseBody(raw, path, rep);
    if (!found) return undefined;
    return { isElse: true, then: normalizeThen(found.body, found.path, rep, labels) };
  }
  if (whenKey === undefined) {
    rep.error('POLICY_INVALID', path, 'a policy rule needs `when` (or is an `else` rule)');
    return undefined;
  }
  const when = rep.condition(raw[whenKey], [...path, whenKey]);
  if (when === undefined) {
    if (raw[whenKey] === null) rep.error('POLICY_INVALID', [...path, whenKey], '`when` is empty');
    return undefined;
  }
  let body: RawMap;
  let bodyPath: Path = path;
  if (has(raw, 'then')) {
    const then = raw.then;
    if (then === null) body = {};
    else if (isMap(then)) {
      body = then;
      bodyPath = [...path, 'then'];
    } else {
      rep.error('POLICY_INVALID', [...path, 'then'], '`then` must be a map like `{do: retry, attempts: 3}`');
      return undefined;
    }
  } else {
    // short form `{when, do, ...}`
    body = Object.fromEntries(Object.entries(raw).filter(([k]) => k !== whenKey));
  }
  return { when, isElse: false, then: normalizeThen(body, bodyPath, rep, labels) };
}

/**
 * `spec.policy` of a task (contract 1.9). `labels` are the pipeline's task labels, for checking
 * `jump` targets. Returns undefined when there is no policy.
 */
export function normalizePolicy(
  raw: unknown,
  path: Path,
  rep: Reporter,
  labels?: ReadonlySet<string>,
): Policy | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isMap(raw)) {
    rep.error('POLICY_INVALID', path, '`policy` must be a map with `rules: [...]`');
    return undefined;
  }
  checkKeys(raw, POLICY_KEYS, path, '`policy`', rep);
  return normalizeRules(present(raw, 'rules'), [...path, 'rules'], rep, labels);
}

/** A list of rules: `policy.rules`, or a legacy tool-level `eval` list. */
export function normalizeRules(
  raw: unknown,
  path: Path,
  rep: Reporter,
  labels?: ReadonlySet<string>,
): Policy {
  if (raw === undefined || raw === null) return { rules: [] };
  if (!Array.isArray(raw)) {
    rep.error('POLICY_INVALID', path, '`rules` must be a list');
    return { rules: [] };
  }
  const rules: PolicyRule[] = [];
  raw.forEach((item, i) => {
    const rule = normalizeRule(item, [...path, i], rep, labels);
    if (rule) rules.push(rule);
  });
  return { rules };
}

/** The canonical raw form of a policy (inverse of normalizePolicy). */
export function rawPolicy(policy: Policy): RawMap {
  return {
    rules: policy.rules.map((rule) => {
      const then: RawMap = { ...rule.then };
      return rule.isElse ? { else: { then } } : { when: rule.when, then };
    }),
  };
}
