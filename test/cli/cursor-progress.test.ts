/**
 * `noetl status`'s step tree and `noetl run --server`'s progress on a cursor loop: its claim and
 * row commands do not end the step (a loop of unknown length); its drain `step.exit` does.
 */
import { describe, expect, it } from 'vitest';
import { StepTracker } from '../../src/cli/api/step-tracker.js';
import { stepTree } from '../../src/cli/api/step-tree.js';
import type { Command } from '../../src/engine/index.js';
import { drive, type FakeOutcome } from '../helpers/engine-driver.js';

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: t, path: t }
workflow:
  - step: start
    loop:
      iterator: job
      cursor: { kind: postgres, auth: pg, claim: "UPDATE jobs SET s = 1 RETURNING id" }
      spec: { mode: cursor, max_in_flight: 2 }
    tool: { kind: noop }
    next: [ end ]
  - step: end
    tool: { kind: noop }
`;

function run() {
  let left = 4;
  const tool = (c: Command): FakeOutcome =>
    c.command_id.endsWith(':claim')
      ? { ok: true, data: { rows: left > 0 ? [{ id: left-- }] : [] } }
      : { ok: true, data: null };
  return drive(PLAYBOOK, tool).events;
}

describe('progress of a cursor loop', () => {
  it('the step tree keeps the loop running until its drain step.exit', () => {
    const events = run();
    const exit = events.findIndex((e) => e.event_type === 'step.exit' && e.node_name === 'start');
    expect(exit).toBeGreaterThan(0);
    const before = stepTree(events.slice(0, exit));
    expect(before.find((r) => r.step === 'start')?.status).toBe('RUNNING');
    const after = stepTree(events);
    expect(after.map((r) => [r.step, r.status])).toEqual([
      ['start', 'COMPLETED'],
      ['end', 'COMPLETED'],
    ]);
  });

  it('the progress writer prints the loop once, when it drains', () => {
    const events = run();
    const tracker = new StepTracker();
    const lines = events
      .map((e) => tracker.onEvent(e))
      .filter((u) => u?.kind === 'line')
      .map((u) => u.text.trim().split(/\s+/).slice(0, 2).join(' '));
    expect(lines).toEqual(['✓ start', '✓ end']);
    const exit = events.findIndex((e) => e.event_type === 'step.exit' && e.node_name === 'start');
    const fresh = new StepTracker();
    const early = events.slice(0, exit).map((e) => fresh.onEvent(e));
    expect(early.filter((u) => u?.kind === 'line')).toEqual([]);
  });
});
