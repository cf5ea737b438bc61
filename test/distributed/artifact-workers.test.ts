/**
 * Issue 11 item 5: the artifact tool across worker processes. One loop puts values, the next gets
 * them back by the uri each put returned; the commands go to whichever of two workers claims
 * them, so values stored by one worker are read by the other through the control plane's result
 * store (PUT /api/result, GET /api/result/resolve).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type Cluster } from '../helpers/cluster.js';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { CI } from './fault-support.js';

const suite = natsServerAvailable() || CI ? describe : describe.skip;

const ITEMS = 24;

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: artifact_workers, path: tests/artifact/workers }
workload:
  items: [${Array.from({ length: ITEMS }, (_, i) => i).join(', ')}]
workflow:
  - step: start
    tool: { kind: noop }
    next: [ save ]
  - step: save
    loop:
      in: "{{ workload.items }}"
      iterator: item
      spec: { mode: parallel, max_in_flight: 8 }
    tool:
      kind: artifact
      action: put
      uri: "artifact://items/{{ item }}"
      data: { item: "{{ item }}", square: "{{ item * item }}" }
    next:
      - step: load
        when: "{{ event.name == 'loop.done' }}"
  - step: load
    loop:
      in: "{{ save }}"
      iterator: saved
      spec: { mode: parallel, max_in_flight: 8 }
    tool:
      kind: artifact
      action: get
      uri: "{{ saved.uri }}"
    next:
      - step: end
        when: "{{ event.name == 'loop.done' }}"
  - step: end
    tool: { kind: noop }
`;

/** A loop step's `output:` keeps each iteration's result; the next loop reads them by `_ref`. */
const KEPT = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: output_workers, path: tests/artifact/output_workers }
workload:
  items: [${Array.from({ length: ITEMS }, (_, i) => i).join(', ')}]
workflow:
  - step: start
    tool: { kind: noop }
    next: [ make ]
  - step: make
    loop:
      in: "{{ workload.items }}"
      iterator: item
      spec: { mode: parallel, max_in_flight: 8 }
    tool:
      kind: python
      input: { item: "{{ item }}" }
      code: |
        result = {"item": item, "rows": [{"n": item, "pad": "p" * 100}] * 20}
    output:
      store: { kind: kv }
      output_select: [item]
    next:
      - step: read
        when: "{{ event.name == 'loop.done' }}"
  - step: read
    loop:
      in: "{{ make }}"
      iterator: kept
      spec: { mode: parallel, max_in_flight: 8 }
    tool:
      kind: artifact
      action: get
      result_ref: "{{ kept._ref }}"
`;

suite('artifact values shared by two workers', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    // Counts each item's store and read once: not the offline reaper's at-least-once re-runs
    // after a 3 s stall on a loaded host.
    cluster = await startCluster({ servers: 1, workers: 2, env: { NOETL_RUNTIME_OFFLINE_SECONDS: '20' } });
    await cluster.register(PLAYBOOK);
    await cluster.register(KEPT);
  }, 120_000);

  it(`keeps ${ITEMS} loop results by the step's output block; the next loop reads them by _ref`, async () => {
    try {
      const id = await cluster.execute('tests/artifact/output_workers');
      const status = await waitFor(
        async () => {
          const s = await cluster.status(id);
          return s === 'RUNNING' ? undefined : s;
        },
        'the execution to finish',
        120_000,
        { intervalMs: 200 },
      );
      expect(status).toBe('COMPLETED');
      const result = await cluster.api<{ step_results: Record<string, Record<string, unknown>[]> }>(
        0,
        'GET',
        `/api/executions/${id}/result`,
      );
      const made = result.step_results['make']!;
      expect(made.map((m) => [m['item'], m['_store'], 'rows' in m])).toEqual(
        Array.from({ length: ITEMS }, (_, i) => [i, 'kv', false]),
      );
      expect(made.every((m) => /^noetl:\/\/execution\/\d+\/result\/make\/\d+$/.test(String(m['_ref'])))).toBe(
        true,
      );
      expect(result.step_results['read']).toEqual(
        Array.from({ length: ITEMS }, (_, i) => ({
          item: i,
          rows: Array.from({ length: 20 }, () => ({ n: i, pad: 'p'.repeat(100) })),
        })),
      );
    } catch (err) {
      console.error(`${cluster.logs()}\n${await cluster.diagnose()}`);
      throw err;
    }
  }, 180_000);

  afterAll(async () => {
    await cluster?.dispose();
  }, 60_000);

  it(`puts ${ITEMS} values and gets each back, across workers`, async () => {
    try {
      const id = await cluster.execute('tests/artifact/workers');
      const status = await waitFor(
        async () => {
          const s = await cluster.status(id);
          return s === 'RUNNING' ? undefined : s;
        },
        'the execution to finish',
        120_000,
        { intervalMs: 200 },
      );
      expect(status).toBe('COMPLETED');
      const result = await cluster.api<{ step_results: Record<string, unknown> }>(
        0,
        'GET',
        `/api/executions/${id}/result`,
      );
      expect(result.step_results['load']).toEqual(
        Array.from({ length: ITEMS }, (_, i) => ({ item: i, square: i * i })),
      );
      // which worker ran each iteration of each loop
      const events = await cluster.events(id);
      const workerOf = (step: string): Map<number, string> => {
        const out = new Map<number, string>();
        for (const e of events) {
          const cid = e.meta?.command_id ?? '';
          const m = new RegExp(`:${step}:\\d+:i(\\d+)$`).exec(cid);
          if (e.event_type === 'command.claimed' && m)
            out.set(Number(m[1]), e.meta?.worker_id ?? e.worker_id ?? '');
        }
        return out;
      };
      const put = workerOf('save');
      const get = workerOf('load');
      expect(put.size).toBe(ITEMS);
      expect(get.size).toBe(ITEMS);
      expect(new Set([...put.values(), ...get.values()]).size).toBe(2);
      const crossed = [...get].filter(([i, w]) => put.get(i) !== w).length;
      expect(crossed).toBeGreaterThan(0);
    } catch (err) {
      console.error(`${cluster.logs()}\n${await cluster.diagnose()}`);
      throw err;
    }
  }, 180_000);
});
