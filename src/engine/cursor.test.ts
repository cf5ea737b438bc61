import { describe, expect, it } from 'vitest';
import { drive, playbookOf, type FakeOutcome } from '../../test/helpers/engine-driver.js';
import type { Command } from './command.js';
import { replay } from './decide.js';

const head = 'apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: t, path: t }\n';

function cursorPlaybook(opts: {
  slots?: number;
  maxRows?: number;
  rowConcurrency?: number;
  process?: string;
}) {
  const frame: string[] = [];
  if (opts.maxRows !== undefined) frame.push(`max_rows: ${opts.maxRows}`);
  if (opts.rowConcurrency !== undefined) frame.push(`row_concurrency: ${opts.rowConcurrency}`);
  if (opts.process !== undefined) frame.push(`process: ${opts.process}`);
  return `${head}workload: { db: pg_conf }
workflow:
  - step: start
    tool: { kind: noop }
    next: [ drain ]
  - step: drain
    loop:
      iterator: job
      cursor:
        kind: postgres
        auth: "{{ db }}"
        claim: "UPDATE jobs SET s = 'claimed' WHERE id IN (SELECT id FROM jobs LIMIT {{ __frame_max_rows }}) RETURNING id"
      spec:
        mode: cursor
        ${opts.slots !== undefined ? `max_in_flight: ${opts.slots}` : ''}
        ${frame.length > 0 ? `frame: { ${frame.join(', ')} }` : ''}
    tool: { kind: python, code: "result = {'id': job['id']}" }
    next:
      - step: end
        when: "{{ event.name == 'loop.done' }}"
  - step: end
    tool: { kind: noop }
`;
}

const isClaim = (c: Command): boolean => c.command_id.endsWith(':claim');

/** A fake job table: a claim takes up to `__frame_max_rows` rows; bodies echo their row. */
function table(n: number) {
  let next = 0;
  const handled: number[] = [];
  const claims: Command[] = [];
  const tool = (command: Command): FakeOutcome => {
    if (isClaim(command)) {
      claims.push(command);
      const limit = Number(command.render_context['__frame_max_rows']);
      const rows: { id: number }[] = [];
      while (rows.length < limit && next < n) rows.push({ id: next++ });
      return { ok: true, data: { columns: ['id'], rows, row_count: rows.length } };
    }
    if (command.step === 'drain') {
      const job = command.args['job'];
      const ids = Array.isArray(job)
        ? job.map((r) => (r as { id: number }).id)
        : [(job as { id: number }).id];
      handled.push(...ids);
      return { ok: true, data: { id: Array.isArray(job) ? ids : ids[0] } };
    }
    return { ok: true, data: null };
  };
  return { tool, handled, claims };
}

describe('cursor loops', () => {
  it('claims until a claim returns no row, running the step once per claimed row', () => {
    const t = table(5);
    const { state, events } = drive(cursorPlaybook({}), t.tool);
    expect(state.status).toBe('COMPLETED');
    expect(t.handled).toEqual([0, 1, 2, 3, 4]);
    // one row per claim (max_rows 1), then the empty claim that drains the single slot
    expect(t.claims).toHaveLength(6);
    expect(state.steps.get('drain')!.data).toEqual([{ id: 0 }, { id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }]);
    expect(state.executed).toEqual(['start', 'drain', 'end']);
    const enter = events.find((e) => e.event_type === 'step.enter' && e.node_name === 'drain')!;
    expect(enter.context).toMatchObject({ __cursor_loop: true, max_in_flight: 1, iterator_var: 'job' });
    // the end is marked in the log, as NoETL's server does
    const exits = events.filter((e) => e.event_type === 'step.exit' && e.node_name === 'drain');
    expect(exits.map((e) => e.result?.context)).toEqual([{ __cursor_drained: true, rows: 5, frames: 5 }]);
  });

  it('runs the claim as a postgres command rendered by the worker, with __frame_max_rows', () => {
    const t = table(3);
    drive(cursorPlaybook({ maxRows: 2 }), t.tool);
    const claim = t.claims[0]!;
    expect(claim.tool_kind).toBe('postgres');
    expect(claim.tool.tasks[0]!.config).toMatchObject({
      auth: '{{ db }}',
      command: expect.stringContaining('LIMIT {{ __frame_max_rows }}') as unknown,
    });
    expect(claim.render_context).toMatchObject({ db: 'pg_conf', __frame_max_rows: 2 });
    expect(claim.iteration_index).toBeUndefined();
  });

  it('binds the iterator to the row (a map) and `_index` in claim order', () => {
    const t = table(3);
    const { commands } = drive(cursorPlaybook({ maxRows: 2 }), t.tool);
    const bodies = commands.filter((c) => c.step === 'drain' && !isClaim(c));
    expect(bodies.map((c) => c.args)).toEqual([
      { job: { id: 0 }, _index: 0 },
      { job: { id: 1 }, _index: 1 },
      { job: { id: 2 }, _index: 2 },
    ]);
  });

  it('keeps max_in_flight slots claiming at once and row_concurrency rows of a frame', () => {
    const t = table(12);
    let most = 0;
    let mostClaims = 0;
    // the queue holds what is issued and not yet run: what is in flight
    const { state } = drive(cursorPlaybook({ slots: 3, maxRows: 4, rowConcurrency: 2 }), t.tool, {
      pick: (queue) => {
        most = Math.max(most, queue.filter((c) => c.step === 'drain' && !isClaim(c)).length);
        mostClaims = Math.max(mostClaims, queue.filter(isClaim).length);
        return 0;
      },
    });
    expect(state.status).toBe('COMPLETED');
    expect([...t.handled].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(mostClaims).toBe(3);
    expect(most).toBe(6); // 3 slots x 2 rows of a frame
  });

  it('process: frame runs the step once per claimed frame with the rows as the iterator', () => {
    const t = table(5);
    const { state } = drive(cursorPlaybook({ maxRows: 2, process: 'frame' }), t.tool);
    expect(state.status).toBe('COMPLETED');
    expect(state.steps.get('drain')!.data).toEqual([{ id: [0, 1] }, { id: [2, 3] }, { id: [4] }]);
  });

  it('completes with [] when the first claim returns no row', () => {
    const t = table(0);
    const { state } = drive(cursorPlaybook({ slots: 2 }), t.tool);
    expect(state.status).toBe('COMPLETED');
    expect(state.steps.get('drain')!.data).toEqual([]);
    expect(t.claims).toHaveLength(2);
    expect(state.executed).toEqual(['start', 'drain', 'end']);
  });

  it('fails the step when a claim fails, after what is in flight ends, and claims no more', () => {
    const t = table(10);
    let claims = 0;
    const { state } = drive(cursorPlaybook({ slots: 2 }), (c) =>
      isClaim(c) && ++claims === 4 ? { ok: false, message: 'relation "jobs" does not exist' } : t.tool(c),
    );
    expect(state.status).toBe('FAILED');
    expect(state.steps.get('drain')!.error?.message).toContain('relation "jobs" does not exist');
    expect(t.claims.length).toBeLessThanOrEqual(4);
  });

  it('fails the step when the claim returns no row set (no RETURNING)', () => {
    const { state } = drive(cursorPlaybook({}), (c) =>
      isClaim(c) ? { ok: true, data: { affected_rows: 1 } } : { ok: true, data: null },
    );
    expect(state.status).toBe('FAILED');
    expect(state.steps.get('drain')!.error).toMatchObject({ code: 'LOOP_NOT_ITERABLE' });
    expect(state.steps.get('drain')!.error!.message).toContain('RETURNING');
  });

  it('stops a slot at cursor.options.max_iterations rows', () => {
    const yaml = cursorPlaybook({}).replace(
      'kind: postgres\n',
      'kind: postgres\n        options: { max_iterations: 3 }\n',
    );
    const t = table(10);
    const { state } = drive(yaml, t.tool);
    expect(state.status).toBe('COMPLETED');
    expect(t.handled).toEqual([0, 1, 2]);
  });

  it('replays to the same state: the claimed rows come from the log', () => {
    const t = table(7);
    const playbook = playbookOf(cursorPlaybook({ slots: 2, maxRows: 3 }));
    const { state, events } = drive(playbook, t.tool, { pick: (q) => q.length - 1 });
    expect(state.status).toBe('COMPLETED');
    const again = replay(playbook, events);
    expect(again.steps.get('drain')).toEqual(state.steps.get('drain'));
    expect(again.status).toBe('COMPLETED');
  });

  it('a loop step without a tool is LOOP_INVALID (it used to fail at run time with INTERNAL)', async () => {
    const { parsePlaybook } = await import('../dsl/index.js');
    const yaml = cursorPlaybook({}).replace(
      "    tool: { kind: python, code: \"result = {'id': job['id']}\" }\n",
      '',
    );
    expect(yaml).not.toContain('kind: python');
    const { playbook, diagnostics } = parsePlaybook(yaml);
    expect(playbook).toBeUndefined();
    expect(diagnostics.find((d) => d.code === 'LOOP_INVALID')?.message).toContain('no `tool`');
  });

  it('as NoETL: `in` beside a cursor, or a cursor without mode cursor, is LOOP_INVALID', async () => {
    const { parsePlaybook } = await import('../dsl/index.js');
    const both = cursorPlaybook({}).replace(
      '      iterator: job\n',
      '      iterator: job\n      in: [1, 2]\n',
    );
    expect(parsePlaybook(both).diagnostics.map((d) => d.message)).toContain(
      'a cursor loop takes its rows from `cursor.claim`, not `in`',
    );
    const parallel = cursorPlaybook({}).replace('mode: cursor', 'mode: parallel');
    expect(parsePlaybook(parallel).diagnostics.map((d) => d.message)).toContain(
      '`cursor` needs `spec.mode: cursor`',
    );
  });

  it('a cursor kind other than postgres is LOOP_INVALID', async () => {
    const { parsePlaybook } = await import('../dsl/index.js');
    const { diagnostics } = parsePlaybook(cursorPlaybook({}).replace('kind: postgres', 'kind: redis'));
    expect(diagnostics.map((d) => d.code)).toContain('LOOP_INVALID');
  });
});
