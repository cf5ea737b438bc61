import { describe, expect, it } from 'vitest';
import { drive, playbookOf, typesOf, type FakeOutcome } from '../../test/helpers/engine-driver.js';
import type { Command } from './command.js';
import { replay } from './decide.js';

const head = 'apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: t, path: t }\n';
const ok = (data?: unknown): FakeOutcome => ({ ok: true, data });

describe('chains and event order', () => {
  it('writes the contract event sequence for a simple chain', () => {
    const { state, events } = drive(
      `${head}workflow:
  - step: start
    tool: { kind: noop }
    next: { spec: { mode: exclusive }, arcs: [ { step: end } ] }
  - step: end
    tool: { kind: noop }
`,
      () => ok({ x: 1 }),
    );
    expect(state.status).toBe('COMPLETED');
    expect(typesOf(events)).toEqual([
      'playbook_started',
      'step.enter',
      'command.issued',
      'command.started',
      'call.done',
      'command.completed',
      'step.enter',
      'command.issued',
      'command.started',
      'call.done',
      'command.completed',
      'playbook.completed',
    ]);
    expect(state.executed).toEqual(['start', 'end']);
    const issued = events.find((e) => e.event_type === 'command.issued')!;
    expect(issued.meta?.['command_id']).toBe(`1:start:${issued.event_id}`);
  });

  it('ends a branch at a step without next (implicit end)', () => {
    const { state } = drive(
      `${head}workflow:
  - step: start
    tool: { kind: noop }
    next: [ step1 ]
  - step: step1
    tool: { kind: noop }
  - step: end
    tool: { kind: noop }
`,
      () => ok(),
    );
    expect(state.status).toBe('COMPLETED');
    expect(state.executed).toEqual(['start', 'step1']);
  });

  it('runs router steps without a tool', () => {
    const { state } = drive(
      `${head}workflow:
  - step: start
    next: { arcs: [ { step: a } ] }
  - step: a
    tool: { kind: noop }
`,
      () => ok(),
    );
    expect(state.status).toBe('COMPLETED');
    expect(state.executed).toEqual(['start', 'a']);
  });
});

describe('routing', () => {
  const router = `${head}workload: { t: 30 }
workflow:
  - step: start
    tool: { kind: python, code: "x" }
    next:
      spec: { mode: exclusive }
      arcs:
        - { step: hot, when: "{{ start.t > 25 }}" }
        - { step: cold, when: "{{ start.t <= 25 }}" }
        - { step: other }
  - step: hot
    tool: { kind: noop }
  - step: cold
    tool: { kind: noop }
  - step: other
    tool: { kind: noop }
`;

  it('fires the first true arc in exclusive mode and skips the others', () => {
    const { state, events } = drive(router, (c) => (c.step === 'start' ? ok({ t: 30 }) : ok()));
    expect(state.executed).toEqual(['start', 'hot']);
    expect(events.filter((e) => e.event_type === 'step.skipped').map((e) => e.node_name)).toEqual([
      'cold',
      'other',
    ]);
  });

  it('fires every true arc in inclusive mode', () => {
    const { state } = drive(router.replace('mode: exclusive', 'mode: inclusive'), (c) =>
      c.step === 'start' ? ok({ t: 30 }) : ok(),
    );
    expect([...state.executed].sort()).toEqual(['hot', 'other', 'start']);
  });

  it('enters a fan-in barrier once, after every live upstream', () => {
    const yaml = `${head}workflow:
  - step: start
    tool: { kind: noop }
    next: { spec: { mode: inclusive }, arcs: [ { step: a }, { step: b } ] }
  - step: a
    tool: { kind: noop }
    next: [ join ]
  - step: b
    tool: { kind: noop }
    next: [ join ]
  - step: join
    tool: { kind: noop }
`;
    for (const pick of [() => 0, (q: Command[]) => q.length - 1]) {
      const { state, events } = drive(yaml, () => ok(), { pick });
      expect(state.status).toBe('COMPLETED');
      expect(events.filter((e) => e.event_type === 'step.enter' && e.node_name === 'join')).toHaveLength(1);
      const joinEnter = events.findIndex((e) => e.event_type === 'step.enter' && e.node_name === 'join');
      const completed = events
        .map((e, i) => ({ e, i }))
        .filter(
          ({ e }) => e.event_type === 'command.completed' && (e.node_name === 'a' || e.node_name === 'b'),
        );
      expect(completed).toHaveLength(2);
      for (const { i } of completed) expect(i).toBeLessThan(joinEnter);
    }
  });

  it('does not let a skipped branch hold a barrier', () => {
    const { state } = drive(
      `${head}workflow:
  - step: start
    tool: { kind: noop }
    next: { spec: { mode: exclusive }, arcs: [ { step: a, when: "{{ false }}" }, { step: b } ] }
  - step: a
    tool: { kind: noop }
    next: [ join ]
  - step: b
    tool: { kind: noop }
    next: [ join ]
  - step: join
    tool: { kind: noop }
`,
      () => ok(),
    );
    expect(state.status).toBe('COMPLETED');
    expect(state.executed).toEqual(['start', 'b', 'join']);
  });

  it('skips a step whose when is false and follows its arcs', () => {
    const { state, events } = drive(
      `${head}workload: { enabled: false }
workflow:
  - step: start
    tool: { kind: noop }
    next: [ maybe ]
  - step: maybe
    when: "{{ enabled }}"
    tool: { kind: noop }
    next: [ end ]
  - step: end
    tool: { kind: noop }
`,
      () => ok(),
    );
    expect(state.executed).toEqual(['start', 'end']);
    expect(events.find((e) => e.event_type === 'step.skipped')?.node_name).toBe('maybe');
  });

  it('re-enters a step along a back-edge with set variables advancing', () => {
    const { state } = drive(
      `${head}workflow:
  - step: start
    tool: { kind: noop }
    set: { ctx.page: 1 }
    next: [ fetch ]
  - step: fetch
    tool: { kind: http, url: "http://x/?page={{ ctx.page }}" }
    set: { ctx.page: "{{ ctx.page + 1 }}", ctx.more: "{{ output.more }}" }
    next:
      spec: { mode: exclusive }
      arcs:
        - { step: fetch, when: "{{ ctx.more }}" }
        - { step: end }
  - step: end
    tool: { kind: noop }
`,
      (c) =>
        c.step === 'fetch' ? ok({ more: (c.render_context['ctx'] as { page: number }).page < 3 }) : ok(),
    );
    expect(state.status).toBe('COMPLETED');
    expect(state.executed).toEqual(['start', 'fetch', 'fetch', 'fetch', 'end']);
    expect(state.vars['page']).toBe(4);
  });
});

describe('set', () => {
  it('persists step set as ctx.updated and hands arc set to the target only', () => {
    const { state, events, commands } = drive(
      `${head}workflow:
  - step: start
    tool: { kind: noop }
    set: { ctx.a: "{{ output.v }}" }
    next: { arcs: [ { step: b, set: { ctx.flag: yes } } ] }
  - step: b
    tool: { kind: noop, result: "{{ ctx.flag }}-{{ ctx.a }}" }
    next: [ c ]
  - step: c
    tool: { kind: noop, result: "{{ ctx.flag }}" }
`,
      (c) => (c.step === 'start' ? ok({ v: 7 }) : ok()),
    );
    expect(state.status).toBe('COMPLETED');
    const updated = events.find((e) => e.event_type === 'ctx.updated');
    expect(updated?.context?.['values']).toEqual({ a: 7 });
    const b = commands.find((c) => c.step === 'b')!;
    expect(b.render_context['ctx']).toMatchObject({ a: 7, flag: 'yes' });
    const c = commands.find((x) => x.step === 'c')!;
    expect((c.render_context['ctx'] as Record<string, unknown>)['flag']).toBeUndefined();
  });

  it('applies context updates of policy rules to later steps', () => {
    const { state } = drive(
      `${head}workflow:
  - step: start
    tool: { kind: noop }
    next: [ b ]
  - step: b
    tool: { kind: noop, x: "{{ counter }}" }
`,
      (c) => (c.step === 'start' ? { ok: true, data: {}, updates: { 'ctx.counter': 42 } } : ok()),
    );
    expect(state.vars['counter']).toBe(42);
  });
});

describe('loops', () => {
  const loopYaml = (spec: string) => `${head}workload: { items: [1, 2, 3, 4, 5] }
workflow:
  - step: start
    loop: { in: "{{ items }}", iterator: n, spec: ${spec} }
    tool: { kind: python, code: "x" }
    next: { arcs: [ { step: end, when: "{{ event.name == 'loop.done' }}" } ] }
  - step: end
    tool: { kind: noop, total: "{{ start | length }}" }
`;

  it('runs sequential iterations one at a time, results in index order', () => {
    let maxOpen = 0;
    const { state, commands } = drive(loopYaml('{ mode: sequential }'), (c, st) => {
      const loop = st.steps.get('start')?.loop;
      if (c.step === 'start' && loop) maxOpen = Math.max(maxOpen, loop.inFlight);
      return ok(c.step === 'start' ? { doubled: (c.args['n'] as number) * 2 } : {});
    });
    expect(state.status).toBe('COMPLETED');
    expect(maxOpen).toBe(1);
    expect(state.steps.get('start')?.data).toEqual([2, 4, 6, 8, 10].map((d) => ({ doubled: d })));
    expect(commands.filter((c) => c.step === 'start').map((c) => c.command_id)).toEqual(
      expect.arrayContaining([expect.stringMatching(/:i0$/), expect.stringMatching(/:i4$/)]),
    );
    expect(commands.find((c) => c.step === 'end')?.render_context['start']).toHaveLength(5);
  });

  it('enforces max_in_flight in parallel mode and keeps index order out of order', () => {
    let maxOpen = 0;
    const { state } = drive(
      loopYaml('{ mode: parallel, max_in_flight: 2 }'),
      (c, st) => {
        const loop = st.steps.get('start')?.loop;
        if (loop) maxOpen = Math.max(maxOpen, loop.inFlight);
        return ok(c.args['n']);
      },
      { pick: (q) => q.length - 1 },
    );
    expect(state.status).toBe('COMPLETED');
    expect(maxOpen).toBe(2);
    expect(state.steps.get('start')?.data).toEqual([1, 2, 3, 4, 5]);
  });

  it('completes an empty loop with [] and routes on', () => {
    const { state, events } = drive(loopYaml('{ mode: parallel }'), () => ok(), { payload: { items: [] } });
    expect(state.status).toBe('COMPLETED');
    expect(state.steps.get('start')?.data).toEqual([]);
    expect(typesOf(events, 'start')).toEqual(['step.enter', 'step.exit']);
  });

  it('fails the execution when the collection is not iterable', () => {
    const { state } = drive(loopYaml('{ mode: parallel }'), () => ok(), { payload: { items: null } });
    expect(state.status).toBe('FAILED');
    expect(state.error).toMatch(/did not evaluate to an iterable/);
  });

  it('fails the step when an iteration fails', () => {
    const { state } = drive(loopYaml('{ mode: sequential }'), (c) =>
      c.args['n'] === 3 ? { ok: false, message: 'boom' } : ok(),
    );
    expect(state.status).toBe('FAILED');
    expect(state.error).toMatch(/boom/);
    expect(state.commands.size).toBe(3);
  });
});

describe('failures', () => {
  const yaml = `${head}workflow:
  - step: start
    tool: { kind: noop }
    next:
      spec: { mode: exclusive }
      arcs:
        - { step: recover, when: "{{ output.status == 'error' }}" }
        - { step: end }
  - step: recover
    tool: { kind: noop }
  - step: end
    tool: { kind: noop }
`;

  it('routes a failed step along an arc that tests the failure', () => {
    const { state } = drive(yaml, (c) => (c.step === 'start' ? { ok: false, message: 'bad' } : ok()));
    expect(state.status).toBe('COMPLETED');
    expect(state.executed).toEqual(['start', 'recover']);
  });

  it('never fires an arc without when from a failed step', () => {
    const { state } = drive(
      yaml.replace(`- { step: recover, when: "{{ output.status == 'error' }}" }`, ''),
      (c) => (c.step === 'start' ? { ok: false, message: 'bad thing' } : ok()),
    );
    expect(state.status).toBe('FAILED');
    expect(state.error).toBe("step 'start' failed: bad thing");
    expect(state.executed).toEqual(['start']);
  });
});

describe('replay', () => {
  it('rebuilds the same state from the log', () => {
    const source = `${head}workload: { items: [1, 2] }
workflow:
  - step: start
    loop: { in: "{{ items }}", iterator: n }
    tool: { kind: noop }
    set: { ctx.k: 1 }
    next: [ end ]
  - step: end
    tool: { kind: noop }
`;
    const playbook = playbookOf(source);
    const { state, events } = drive(playbook, (c) => ok(c.args['n'] ?? 'e'));
    const rebuilt = replay(playbook, events);
    expect(rebuilt.status).toBe(state.status);
    expect(rebuilt.executed).toEqual(state.executed);
    expect(rebuilt.vars).toEqual(state.vars);
    expect(rebuilt.steps.get('start')?.data).toEqual([1, 2]);
    expect(rebuilt.eventCount).toBe(events.length);
  });

  it('names a loop list the state holds instead of copying it, and a replay finds it', () => {
    const source = `${head}workload: { items: [1, 2, 3] }
workflow:
  - step: start
    tool: { kind: noop }
    next: [ each ]
  - step: each
    loop: { in: "{{ start.rows }}", iterator: n }
    tool: { kind: noop }
    next: [ { step: arc, set: { list: "{{ workload.items }}" } } ]
  - step: arc
    loop: { in: "{{ ctx.list }}", iterator: n }
    tool: { kind: noop }
    next: [ copied ]
  - step: copied
    loop: { in: "{{ workload.items | reverse }}", iterator: n }
    tool: { kind: noop }
`;
    const playbook = playbookOf(source);
    const { state, events } = drive(playbook, (c) =>
      ok(c.step === 'start' ? { rows: ['a', 'b'] } : (c.args['n'] ?? null)),
    );
    expect(state.status).toBe('COMPLETED');
    const enter = (step: string) =>
      events.find((e) => e.event_type === 'step.enter' && e.node_name === step)?.context ?? {};
    expect(enter('each')).toMatchObject({ items_from: 'start.rows', iterations_expected: 2 });
    expect(enter('each')).not.toHaveProperty('items');
    expect(enter('arc')).toMatchObject({ items_from: 'ctx.list' });
    expect(enter('copied')).toMatchObject({ items: [3, 2, 1] });
    expect(enter('copied')).not.toHaveProperty('items_from');
    expect(state.steps.get('each')?.data).toEqual(['a', 'b']);
    expect(state.steps.get('arc')?.data).toEqual([1, 2, 3]);
    // a replay of the log up to each loop's entry holds the list the live run iterated
    for (const step of ['each', 'arc']) {
      const at = events.findIndex((e) => e.event_type === 'step.enter' && e.node_name === step);
      const loop = replay(playbook, events.slice(0, at + 1)).steps.get(step)?.loop;
      expect(loop?.items).toEqual(step === 'each' ? ['a', 'b'] : [1, 2, 3]);
    }
    const rebuilt = replay(playbook, events);
    expect(rebuilt.status).toBe('COMPLETED');
    expect(rebuilt.steps.get('arc')?.data).toEqual([1, 2, 3]);
  });
});

describe('resume', () => {
  it('reuses completed results and runs the failed step again', async () => {
    const { resumeExecution } = await import('./decide.js');
    const { counterIds, fixedClock } = await import('../../test/helpers/engine-driver.js');
    const { templates } = await import('../template/index.js');
    const playbook = playbookOf(`${head}workflow:
  - step: start
    tool: { kind: noop }
    set: { ctx.k: 7 }
    next: [ flaky ]
  - step: flaky
    tool: { kind: noop }
    next: [ end ]
  - step: end
    tool: { kind: noop }
`);
    const first = drive(playbook, (c) =>
      c.step === 'flaky' ? { ok: false, message: 'down' } : ok({ s: c.step }),
    );
    expect(first.state.status).toBe('FAILED');
    const deps = { ids: counterIds(), clock: fixedClock(), templates: templates() };
    const { state, decision } = resumeExecution(
      playbook,
      first.state,
      { executionId: '2', workload: {} },
      deps,
    );
    expect(decision.commands.map((c) => c.step)).toEqual(['flaky']);
    expect(state.steps.get('start')?.data).toEqual({ s: 'start' });
    expect(state.vars['k']).toBe(7);
    expect(decision.events[0]?.context?.['resumed_from']).toBe('1');
  });
});

describe('replay of a prefix decides like the live run', () => {
  // `a` reaches the barrier while `b` runs, so `join` waits; `b`'s arc to `join` does not match.
  // Live, `join` runs once `b` is done; a replay of the log up to `b`'s completion must remember
  // that `join` was waiting (it used to forget, skip `join` and complete without it).
  const fanIn = `${head}workflow:
  - step: start
    tool: { kind: noop }
    next: { spec: { mode: inclusive }, arcs: [ { step: a }, { step: b } ] }
  - step: a
    tool: { kind: noop }
    next: [ join ]
  - step: b
    tool: { kind: noop }
    next: { arcs: [ { step: join, when: "{{ false }}" } ] }
  - step: join
    tool: { kind: noop }
`;

  it('keeps a fan-in target waiting across a replay', async () => {
    const { decide } = await import('./decide.js');
    const { applyEvent } = await import('./state.js');
    const { counterIds, fixedClock } = await import('../../test/helpers/engine-driver.js');
    const { templates } = await import('../template/index.js');
    const playbook = playbookOf(fanIn);
    const live = drive(playbook, () => ok()); // FIFO: a completes before b
    expect(live.state.executed).toEqual(['start', 'a', 'b', 'join']);
    const bCompleted = live.events.findIndex(
      (e) => e.event_type === 'command.completed' && e.node_name === 'b',
    );
    const replayed = replay(playbook, live.events.slice(0, bCompleted));
    const trigger = live.events[bCompleted]!;
    applyEvent(replayed, trigger);
    const deps = { ids: counterIds(), clock: fixedClock(), templates: templates() };
    const decision = decide(replayed, trigger, deps);
    const liveDecision = live.events.slice(bCompleted + 1, bCompleted + 1 + decision.events.length);
    expect(decision.events.map((e) => `${e.event_type} ${e.node_name}`)).toEqual(
      liveDecision.map((e) => `${e.event_type} ${e.node_name}`),
    );
    expect(decision.commands.map((c) => c.step)).toEqual(['join']);
  });
});

describe('entry step', () => {
  const cycle = `${head}workflow:
  - step: start
    tool: { kind: noop }
    next: [ a ]
  - step: a
    tool: { kind: noop }
    next: [ b ]
  - step: b
    tool: { kind: noop }
    next: { arcs: [ { step: a, when: "{{ false }}" } ] }
`;

  it('computes back-edges from the entry asked for, not the first one cached', async () => {
    const { graphOf } = await import('./graph.js');
    const playbook = playbookOf(cycle);
    expect([...graphOf(playbook, 'a').backEdges]).toEqual(['b->a']);
    expect([...graphOf(playbook, 'b').backEdges]).toEqual(['a->b']);
    expect([...graphOf(playbook, 'a').backEdges]).toEqual(['b->a']);
  });

  it('records a chosen entry step so a replay knows it', () => {
    const playbook = playbookOf(cycle);
    const { state, events } = drive(playbook, () => ok(), { entry: 'b' });
    expect(state.executed).toEqual(['b']);
    expect(replay(playbook, events).entry).toBe('b');
    expect(replay(playbook, drive(playbook, () => ok()).events).entry).toBe('start');
  });
});

describe('skip chains', () => {
  it('ends a skip chain that comes back to a step it skipped', () => {
    // s1 is skipped by its when; its first matching arc leads back to s1, which used to recurse
    // until the stack overflowed.
    const { state, events } = drive(
      `${head}workload: { flag: false, round: 0 }
workflow:
  - step: start
    tool: { kind: noop }
    next: [ s1 ]
  - step: s1
    when: "{{ flag }}"
    tool: { kind: noop }
    set: { ctx.round: "{{ round + 1 }}" }
    next: { arcs: [ { step: s1, when: "{{ round < 3 }}" } ] }
`,
      () => ok(),
    );
    expect(state.status).toBe('COMPLETED');
    expect(typesOf(events, 's1')).toEqual(['step.skipped']);
  });
});

describe('step budget', () => {
  const endless = `${head}workflow:
  - step: start
    tool: { kind: noop }
    next: [ spin ]
  - step: spin
    tool: { kind: noop }
    next: [ spin ]
`;

  it('fails an execution that enters more steps than its budget', () => {
    const { state, events } = drive(endless, () => ok(), { stepBudget: 50 });
    expect(state.status).toBe('FAILED');
    expect(state.stepsEntered).toBe(50);
    const failed = events.at(-1)!;
    expect(failed.event_type).toBe('playbook.failed');
    expect(failed.meta?.['code']).toBe('STEP_BUDGET_EXCEEDED');
    expect(state.error).toMatch(/step budget of 50 steps/);
    expect(replay(playbookOf(endless), events).status).toBe('FAILED');
  });

  it('lets a playbook use its whole budget', () => {
    const bounded = `${head}workload: { round: 0 }
workflow:
  - step: start
    tool: { kind: noop }
    next: [ spin ]
  - step: spin
    tool: { kind: noop }
    set: { ctx.round: "{{ round + 1 }}" }
    next: { arcs: [ { step: spin, when: "{{ round < 9 }}" } ] }
`;
    const { state } = drive(bounded, () => ok(), { stepBudget: 10 });
    expect(state.status).toBe('COMPLETED');
    expect(state.stepsEntered).toBe(10);
    expect(drive(bounded, () => ok(), { stepBudget: 9 }).state.status).toBe('FAILED');
  });
});

describe('template errors', () => {
  it('fails the execution when an arc condition cannot render, the same way after a replay', () => {
    const playbook = playbookOf(`${head}workflow:
  - step: start
    tool: { kind: noop }
    next: { arcs: [ { step: end, when: "{{ output.v % 2 == 0 }}" } ] }
  - step: end
    tool: { kind: noop }
`);
    const { state, events } = drive(playbook, () => ok({}));
    expect(state.status).toBe('FAILED');
    const failed = events.at(-1)!;
    expect(failed.event_type).toBe('playbook.failed');
    expect(failed.meta?.['code']).toBe('TEMPLATE_RENDER');
    expect(state.error).toMatch(/%/);
    expect(replay(playbook, events).status).toBe('FAILED');
  });
});
