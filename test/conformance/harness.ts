/**
 * The project's own conformance suite: the playbooks in test/conformance/playbooks/, each
 * `<name>.yaml` beside a `<name>.expect.yaml` that gives its expected outcome. Written for this
 * project (no upstream file is needed), run locally by test/conformance/playbooks.test.ts and
 * through the embedded server by test/server/conformance-playbooks.test.ts.
 *
 * An expect file holds one run (its fields at the top level) or `runs:` (a list of them):
 *   payload         workload overrides; "${api_url}" and "${tmp}" are substituted
 *   status          COMPLETED | FAILED
 *   executed_steps  the steps entered (step.enter), in order: for linear flows
 *   includes_steps / excludes_steps
 *   step_results    matched as a subset (toMatchObject) per step
 *   final_result    matched as a subset
 *   error_contains  strings the execution error contains
 *   step_entered    { step: n }: how many step.enter events the step has
 * and, for the whole file: `local_only` (why the server does not run it yet), `needs` ([postgres, fake_api]), `register` (child playbooks the
 * server must have in its catalog; locally they are found by path), `about` (one line),
 * `warnings` (the file's validation warnings as `CODE@line:col`, in source order; none if absent).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse } from 'yaml';
import type { ExecutionEvent } from '../../src/engine/index.js';
import { loadPlaybookFile, runLocal } from '../../src/local/index.js';
import type { Handler } from '../helpers/fake-api.js';
import { paginationHandler } from '../helpers/fake-api.js';
import { pgTarget, type PgTarget } from '../helpers/pg-scratch.js';

export const PLAYBOOKS_DIR = new URL('./playbooks/', import.meta.url).pathname;

export interface RunExpect {
  readonly payload?: Record<string, unknown>;
  readonly status: 'COMPLETED' | 'FAILED';
  readonly executed_steps?: string[];
  readonly includes_steps?: string[];
  readonly excludes_steps?: string[];
  readonly step_results?: Record<string, unknown>;
  readonly final_result?: unknown;
  readonly error_contains?: string[];
  readonly step_entered?: Record<string, number>;
}

export interface ConformanceCase {
  readonly name: string;
  readonly file: string;
  readonly about: string;
  readonly needs: readonly string[];
  readonly register: readonly string[];
  readonly runs: readonly RunExpect[];
  /** Why the case runs only with `noetl run` (empty: it runs in every mode). */
  readonly localOnly: string;
  /** `CODE@line:col` of each validation warning the file must give (and no other). */
  readonly warnings: readonly string[];
}

/** What a run gives, the same shape whichever way it ran. */
export interface Outcome {
  readonly status: string;
  readonly error: string | null;
  readonly step_results: Record<string, unknown>;
  readonly final_result: unknown;
  /** node_name of each event, in order, with its type. */
  readonly events: readonly { event_type: string; node_name: string }[];
}

export function loadCases(): ConformanceCase[] {
  return readdirSync(PLAYBOOKS_DIR)
    .filter((f) => f.endsWith('.expect.yaml'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -'.expect.yaml'.length);
      const file = join(PLAYBOOKS_DIR, `${name}.yaml`);
      if (!existsSync(file)) throw new Error(`${f} has no playbook ${name}.yaml beside it`);
      const doc = parse(readFileSync(join(PLAYBOOKS_DIR, f), 'utf8')) as Record<string, unknown>;
      const runs = (doc['runs'] as RunExpect[] | undefined) ?? [doc as unknown as RunExpect];
      return {
        name,
        file,
        about: typeof doc['about'] === 'string' ? doc['about'] : '',
        needs: (doc['needs'] as string[] | undefined) ?? [],
        register: (doc['register'] as string[] | undefined) ?? [],
        runs,
        localOnly: typeof doc['local_only'] === 'string' ? doc['local_only'] : '',
        warnings: (doc['warnings'] as string[] | undefined) ?? [],
      };
    });
}

/** Replaces "${api_url}" and "${tmp}" in the string values of a payload. */
export function substitute(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') return value.replace(/\$\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)]));
  return value;
}

/** `${tmp}` is a new directory under `under` (the caller's work dir, which it removes). */
export function payloadFor(run: RunExpect, apiUrl: string, under: string): Record<string, unknown> {
  const tmp = mkdtempSync(join(under, 'run-'));
  return substitute(run.payload ?? {}, { api_url: apiUrl, tmp }) as Record<string, unknown>;
}

/** Asserts an outcome against its expectation, naming the case in every failure. */
export function checkOutcome(label: string, outcome: Outcome, run: RunExpect): void {
  const entered = outcome.events.filter((e) => e.event_type === 'step.enter').map((e) => e.node_name);
  expect({ label, status: outcome.status, error: run.status === 'COMPLETED' ? outcome.error : null }).toEqual(
    {
      label,
      status: run.status,
      error: null,
    },
  );
  if (run.executed_steps) expect(entered, label).toEqual(run.executed_steps);
  for (const s of run.includes_steps ?? []) expect(entered, label).toContain(s);
  for (const s of run.excludes_steps ?? []) expect(entered, label).not.toContain(s);
  for (const [step, want] of Object.entries(run.step_results ?? {}))
    expect(outcome.step_results[step], `${label}: step ${step}`).toMatchObject(want as object);
  if (run.final_result !== undefined)
    expect(outcome.final_result, label).toMatchObject(run.final_result as object);
  for (const text of run.error_contains ?? []) expect(outcome.error ?? '', label).toContain(text);
  for (const [step, n] of Object.entries(run.step_entered ?? {}))
    expect({ label, step, entered: entered.filter((s) => s === step).length }).toEqual({
      label,
      step,
      entered: n,
    });
}

/**
 * The local API the http cases talk to: two paginated endpoints, a flaky page, a list, and
 * `/status/<code>` that fails once per `key` with that code (and `Retry-After: 7`).
 */
export function conformanceApi(): Handler {
  const pages = paginationHandler(35);
  let page2Hits = 0;
  const hits = new Map<string, number>();
  return (req, url, body) => {
    // /status/<code>?key=k answers <code> on the first request for k, then 200.
    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (status) {
      const key = `${url.pathname}:${url.searchParams.get('key') ?? ''}`;
      const n = (hits.get(key) ?? 0) + 1;
      hits.set(key, n);
      if (n > 1) return { json: { ok: true, hit: n } };
      return {
        status: Number(status[1]),
        json: { error: 'first time fails' },
        headers: { 'retry-after': '7' },
      };
    }
    if (url.pathname === '/data' && url.searchParams.get('page') === '2' && ++page2Hits % 2 === 1)
      return { status: 503, json: { error: 'try again' } };
    if (url.pathname === '/posts')
      return {
        json: [
          { userId: 1, id: 1, title: "it's a title", body: 'one' },
          { userId: 1, id: 2, title: 'second', body: 'two' },
          { userId: 2, id: 3, title: 'third', body: 'three' },
          { userId: 2, id: 4, title: 'fourth', body: 'four' },
        ],
      };
    return pages(req, url, body);
  };
}

/** The postgres credential the cases use by alias (`pg_conf`), as stored data. */
export function pgCredentialData(database: string): Record<string, unknown> {
  const t: PgTarget = pgTarget(database);
  return { db_host: t.host, db_port: t.port, db_user: t.user, db_password: t.password, db_name: t.database };
}

/** A local credentials file holding `pg_conf`. */
export function writeCredentialsFile(dir: string, database: string): string {
  const file = join(dir, 'credentials.yaml');
  writeFileSync(
    file,
    `- name: pg_conf\n  type: postgres\n  data: ${JSON.stringify(pgCredentialData(database))}\n`,
  );
  return file;
}

/** Runs a case with `noetl run`'s runner; events of child executions are left out. */
export async function runLocalCase(
  file: string,
  payload: Record<string, unknown>,
  options: { runDir: string | false; credentialsFile?: string },
): Promise<Outcome> {
  const { playbook } = await loadPlaybookFile(file);
  const events: ExecutionEvent[] = [];
  const resultsDir =
    options.runDir !== false
      ? join(options.runDir, '..', 'results')
      : mkdtempSync(join(tmpdir(), 'noetl-conf-results-'));
  const result = await runLocal({
    playbook,
    file,
    payload,
    runDir: options.runDir,
    // the artifact tool's folder beside the run logs, never the user's $NOETL_HOME
    resultsDir,
    ...(options.credentialsFile !== undefined ? { credentialsFile: options.credentialsFile } : {}),
    onEvent: (e) => events.push(e),
  });
  if (options.runDir === false) rmSync(resultsDir, { recursive: true, force: true });
  return {
    status: result.status,
    error: result.error,
    step_results: result.step_results,
    final_result: result.final_result,
    events: events
      .filter((e) => e.execution_id === result.execution_id)
      .map((e) => ({ event_type: e.event_type, node_name: e.node_name })),
  };
}
