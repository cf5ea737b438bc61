import { describe, expect, it } from 'vitest';
import { playbookOf } from '../../test/helpers/engine-driver.js';
import { runLocal } from '../local/index.js';
import { templates } from '../template/index.js';
import type { ExecutionEvent } from './events.js';
import { replay } from './decide.js';
import { newExecutionState } from './state.js';
import { workloadErrorReadBy } from './workload.js';

const head = 'apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: lazy, path: lazy }\n';

async function run(
  yaml: string,
): Promise<{ result: Awaited<ReturnType<typeof runLocal>>; events: ExecutionEvent[] }> {
  const events: ExecutionEvent[] = [];
  const result = await runLocal({
    playbook: playbookOf(yaml),
    runDir: false,
    onEvent: (e) => events.push(e),
  });
  return { result, events };
}

describe('lazy workload (issue 11 item 8)', () => {
  it('a failing workload template no step reads never fails the run; now() is the start', async () => {
    const { result, events } = await run(`${head}workload:
  created: "{{ now() }}"
  broken: "{{ no_such_function() }}"
  name: world
workflow:
  - step: start
    tool:
      kind: python
      input: { name: "{{ workload.name }}", created: "{{ workload.created }}", at: "{{ now() }}" }
      code: |
        result = {"name": name, "created": created, "at": at}
`);
    expect(result.error).toBeNull();
    expect(result.status).toBe('COMPLETED');
    const started = events.find((e) => e.event_type === 'playbook_started')!;
    const data = result.step_results['start'] as Record<string, string>;
    expect(data.name).toBe('world');
    // now() is the execution's start, recorded in playbook_started: the same in the workload
    // and in every step, on any worker and in a replay
    expect(data.created).toBe(started.created_at);
    expect(data.at).toBe(started.created_at);
    expect(started.context?.['workload_errors']).toMatchObject({ broken: { code: 'TEMPLATE_RENDER' } });
    expect(started.context?.['workload']).not.toHaveProperty('broken');
    const replayed = replay(
      playbookOf(`${head}workflow: [ { step: start, tool: { kind: noop } } ]\n`),
      events,
    );
    expect(Object.keys(replayed.workloadErrors)).toEqual(['broken']);
  });

  it('a step that reads the failing value fails with its render error', async () => {
    const { result, events } = await run(`${head}workload:
  broken: "{{ no_such_function() }}"
workflow:
  - step: start
    tool: { kind: noop }
    next: { arcs: [ { step: use } ] }
  - step: use
    tool:
      kind: python
      input: { v: "{{ workload.broken }}" }
      code: "result = v"
`);
    expect(result.status).toBe('FAILED');
    expect(result.error_code).toBe('TEMPLATE_RENDER');
    expect(result.error).toContain('workload.broken');
    expect(result.executed_steps).toEqual(['start', 'use']);
    expect(events.filter((e) => e.event_type === 'command.issued').map((e) => e.node_name)).toEqual([
      'start',
    ]);
  });

  it('finds the reads of a failed key however a step writes them', () => {
    const state = newExecutionState(
      playbookOf(`${head}workflow: [ { step: start, tool: { kind: noop } } ]\n`),
      'start',
      '1',
    );
    state.workloadErrors = { created: { code: 'TEMPLATE_RENDER', message: 'boom' } };
    const stepReading = (config: string): boolean => {
      const pb = playbookOf(`${head}workflow:\n  - step: start\n    tool: { kind: noop, ${config} }\n`);
      return workloadErrorReadBy(state, pb.steps.get('start')!) !== undefined;
    };
    expect(stepReading(`x: "{{ workload.created }}"`)).toBe(true);
    expect(stepReading(`x: "{{ ctx['created'] }}"`)).toBe(true);
    expect(stepReading(`x: "{{ workload.get('created') }}"`)).toBe(true);
    expect(stepReading(`x: "{{ created }}"`)).toBe(true);
    expect(stepReading(`x: "{{ workload | tojson }}"`)).toBe(true);
    expect(stepReading(`x: "{{ workload.created_by }}"`)).toBe(false);
    const withInput = playbookOf(
      `${head}workflow:\n  - step: start\n    input: { c: "{{ workload.created }}" }\n    tool: { kind: noop }\n`,
    );
    expect(workloadErrorReadBy(state, withInput.steps.get('start')!)).toMatchObject({ key: 'created' });
    expect(stepReading(`x: "workload: {{ workload.other }}"`)).toBe(false);
    expect(stepReading(`x: "{{ 'created' }}"`)).toBe(false);
  });
});

describe('now()', () => {
  it('returns the time the scope gives, else the current time', () => {
    const r = templates();
    expect(r.render('{{ now() }}', { now: { $now: '2026-01-02T03:04:05.000Z' } })).toBe(
      '2026-01-02T03:04:05.000Z',
    );
    const t = Date.parse(r.render('{{ now() }}', {}));
    expect(Math.abs(t - Date.now())).toBeLessThan(60_000);
    expect(r.renderTyped('{{ now()[:4] }}', { now: { $now: '2026-01-02T03:04:05.000Z' } })).toBe(2026);
  });
});
