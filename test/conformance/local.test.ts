/**
 * Conformance: NoETL's own e2e playbooks (the upstream corpus, present in CI beside the
 * repository, absent from a user's clone) that need no services, run locally with the outcomes
 * the corpus README gives. Skipped, with a note, when the corpus is absent; the project's own
 * playbooks (playbooks.test.ts) cover the same features.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/dsl/index.js';
import type { ExecutionEvent } from '../../src/engine/index.js';
import { loadPlaybookFile, runLocal, type LocalRunResult } from '../../src/local/index.js';
import { paginationHandler, startFakeApi, type FakeApi } from '../helpers/fake-api.js';
import { skipUpstream, UPSTREAM_DIR } from '../helpers/upstream.js';

const CONFORMANCE_DIR = UPSTREAM_DIR;
const runDir = mkdtempSync(join(tmpdir(), 'noetl-conf-'));
afterAll(() => rmSync(runDir, { recursive: true, force: true }));

async function run(
  file: string,
  payload: Record<string, unknown> = {},
  env?: Record<string, string>,
): Promise<{ result: LocalRunResult; events: ExecutionEvent[] }> {
  const path = join(CONFORMANCE_DIR, file);
  const { playbook } = await loadPlaybookFile(path);
  const events: ExecutionEvent[] = [];
  const result = await runLocal({
    playbook,
    file: path,
    payload,
    runDir,
    onEvent: (e) => events.push(e),
    ...(env ? { services: { env: { ...process.env, ...env } } } : {}),
  });
  return { result, events };
}

describe.skipIf(skipUpstream('test/conformance/local.test.ts'))('upstream conformance: local runs', () => {
  it.each([
    'hello_world.yaml',
    'loop_test.yaml',
    'loop_instance_isolation.yaml',
    'vars_simple.yaml',
    'implicit_end_routing.yaml',
    'local/conditional_flow.yaml',
  ])('%s completes', async (file) => {
    const { result } = await run(file);
    expect(result.error).toBeNull();
    expect(result.status).toBe('COMPLETED');
  });

  it('hello_world passes the workload message to python', async () => {
    const { result } = await run('hello_world.yaml');
    expect(result.executed_steps).toEqual(['start', 'test_step', 'end']);
    expect(result.step_results['test_step']).toEqual({ status: 'ok', data: { message: 'Hello World' } });
  });

  it('loop_test keeps iteration results in index order', async () => {
    const { result } = await run('loop_test.yaml');
    expect(result.step_results['start']).toEqual(
      [1, 2, 3, 4, 5].map((n, i) => ({ number: n, doubled: n * 2, index: 0 * i })),
    );
    expect((result.step_results['user_loop'] as { name: string }[]).map((u) => u.name)).toEqual([
      'Alice',
      'Bob',
      'Charlie',
    ]);
  });

  it('vars_simple carries policy-rule set variables to the next step', async () => {
    const { result } = await run('vars_simple.yaml');
    expect(result.step_results['get_var']).toMatchObject({ get_vars: { value: 42, verification: true } });
  });

  it('end_with_action passes an arc set flag to end', async () => {
    const { result } = await run('end_with_action.yaml');
    expect(result.status).toBe('COMPLETED');
    expect(result.final_result).toMatchObject({
      cleanup: { message: 'Cleanup performed on temp_session_12345', data: { cleaned_up: true } },
    });
  });

  it('control_flow_workbook takes the hot branch, fans out and joins once', async () => {
    const { result, events } = await run('control_flow_workbook.yaml');
    expect(result.status).toBe('COMPLETED');
    expect(result.step_results['eval_flag']).toEqual({ is_hot: true, message: 'hot' });
    expect(result.executed_steps).toEqual(
      expect.arrayContaining(['hot_path', 'hot_task_a', 'hot_task_b', 'end']),
    );
    expect(result.executed_steps).not.toContain('cold_task');
    expect(events.filter((e) => e.event_type === 'step.enter' && e.node_name === 'end')).toHaveLength(1);
    const cold = await run('control_flow_workbook.yaml', { temperature_c: 10 });
    expect(cold.result.executed_steps).toEqual(['start', 'eval_flag', 'cold_path', 'cold_task', 'end']);
  });

  it('fanout_reduce enters the reducer once, after both branches', async () => {
    const { result, events } = await run('fanout_reduce.yaml');
    expect(result.status).toBe('COMPLETED');
    const enters = events.filter((e) => e.event_type === 'step.enter' && e.node_name === 'reduce_customer');
    expect(enters).toHaveLength(1);
    const at = events.indexOf(enters[0]!);
    for (const branch of ['normalize_customer', 'enrich_customer']) {
      const done = events.findIndex((e) => e.event_type === 'command.completed' && e.node_name === branch);
      expect(done).toBeGreaterThan(-1);
      expect(done).toBeLessThan(at);
    }
  });

  it('python_retry_exception completes after retries', async () => {
    // Seed python's random per attempt: attempts 1 and 2 draw < 70 (raise), attempt 3 draws 80.
    const dir = mkdtempSync(join(runDir, 'seed-'));
    const counter = join(dir, 'attempt');
    writeFileSync(
      join(dir, 'sitecustomize.py'),
      [
        'import os, random',
        "p = os.environ['NOETL_TEST_ATTEMPT_FILE']",
        'n = int(open(p).read()) if os.path.exists(p) else 0',
        "open(p, 'w').write(str(n + 1))",
        'random.seed([0, 1, 5][min(n, 2)])',
        '',
      ].join('\n'),
    );
    const { result, events } = await run(
      'python_retry_exception.yaml',
      {},
      {
        PYTHONPATH: dir,
        NOETL_TEST_ATTEMPT_FILE: counter,
      },
    );
    expect(result.status).toBe('COMPLETED');
    expect(result.step_results['start']).toMatchObject({ success: true, data: { value: 80 } });
    const done = events.find((e) => e.event_type === 'call.done' && e.node_name === 'start');
    const payload = done?.result?.context as { result: { context: { attempts: number } } };
    expect(payload.result.context.attempts).toBe(3);
    expect(readFileSync(counter, 'utf8')).toBe('4'); // three attempts for start, one for end
  });

  it('local/parent_playbook runs its children by relative path', async () => {
    const { result } = await run('local/parent_playbook.yaml');
    expect(result.status).toBe('COMPLETED');
    expect(result.executed_steps).toEqual(['start', 'call_build', 'call_deploy', 'end']);
    expect(result.step_results['call_build']).toMatchObject({ status: 'COMPLETED' });
  });

  it('local/conditional_flow routes on the workload', async () => {
    const prod = await run('local/conditional_flow.yaml');
    expect(prod.result.executed_steps).toEqual([
      'start',
      'prod_setup',
      'check_deploy',
      'deploy_app',
      'verify_deployment',
      'end',
    ]);
    const dev = await run('local/conditional_flow.yaml', { environment: 'dev', deploy: 'false' });
    expect(dev.result.executed_steps).toEqual(['start', 'dev_setup', 'check_deploy', 'skip_deploy', 'end']);
  });

  describe('against a local fake API', () => {
    let api: FakeApi;
    beforeAll(async () => {
      api = await startFakeApi(paginationHandler(35));
    });
    afterAll(async () => {
      await api.close();
    });

    it('pagination_cursor collects every page through a back-edge', async () => {
      const { result } = await run('pagination_cursor.yaml', { api_url: api.url });
      expect(result.status).toBe('COMPLETED');
      expect(result.step_results['validate_results']).toEqual({
        status: 'success',
        total_events: 35,
        first_id: 1,
        last_id: 35,
      });
      expect(result.executed_steps.filter((s) => s === 'fetch_page')).toHaveLength(4);
    });

    it('http_pagination_v2 completes', async () => {
      const { result } = await run('http_pagination_v2.yaml', { api_url: api.url });
      expect(result.status).toBe('COMPLETED');
      expect(api.requests.some((r) => r.path === '/data' && r.query['page'] === '1')).toBe(true);
    });
  });

  it.each(['v10_canonical_example.yaml', 'keychain.yaml'])('%s validates clean', (file) => {
    const { playbook, diagnostics } = parsePlaybook(readFileSync(join(CONFORMANCE_DIR, file), 'utf8'));
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(playbook).toBeDefined();
  });
});
