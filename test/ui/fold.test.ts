/**
 * The web UI's fold of an execution's events (ui/src/lib/fold.ts), run under Node: what a page
 * shows for a step as its events arrive.
 */
import { describe, expect, it } from 'vitest';
import type { WireEvent } from '../../ui/src/api/types.js';
import { applyEvent, emptyState } from '../../ui/src/lib/fold.js';

let n = 0;
function ev(event_type: string, node_name: string, meta: Record<string, unknown> | null = null): WireEvent {
  n++;
  return {
    event_id: String(n),
    event_type,
    node_name,
    status: null,
    created_at: new Date(Date.UTC(2026, 11, 6, 0, 0, n)).toISOString(),
    context: null,
    result: null,
    meta: meta as WireEvent['meta'],
    error: null,
  };
}

describe('UI fold', () => {
  it('keeps a cursor loop running across its claim and row commands until the drain step.exit', () => {
    const state = emptyState();
    const seen = new Set<string>();
    const apply = (e: WireEvent) => applyEvent(state, e, seen);
    apply(ev('step.enter', 'drain'));
    for (const id of ['c1', 'r1', 'c2']) {
      apply(ev('command.issued', 'drain', { command_id: id, cursor: { slot: 0 } }));
      apply(ev('command.completed', 'drain', { command_id: id }));
      expect(state.steps.get('drain')?.status).toBe('running');
    }
    apply(ev('step.exit', 'drain'));
    expect(state.steps.get('drain')?.status).toBe('completed');
  });

  it('ends a plain step with its command', () => {
    const state = emptyState();
    const seen = new Set<string>();
    applyEvent(state, ev('step.enter', 'a'), seen);
    applyEvent(state, ev('command.issued', 'a', { command_id: 'x' }), seen);
    applyEvent(state, ev('command.completed', 'a', { command_id: 'x' }), seen);
    expect(state.steps.get('a')?.status).toBe('completed');
  });
});
