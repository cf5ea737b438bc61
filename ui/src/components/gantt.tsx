import type { ExecutionState } from '../lib/fold.js';
import { fmtDuration } from '../lib/format.js';

/** A timeline of steps: one bar per step from its entry to its end (or now while it runs). */
export function Gantt({
  state,
  now,
  selected,
  onSelect,
}: {
  state: ExecutionState;
  now: number;
  selected: string | null;
  onSelect: (name: string) => void;
}) {
  const start = state.startedAt ? Date.parse(state.startedAt) : NaN;
  const steps = state.order.map((n) => state.steps.get(n)).filter((s) => s?.enteredAt);
  if (Number.isNaN(start) || steps.length === 0) return <p class="muted">No step has started yet.</p>;
  const end = state.endedAt ? Date.parse(state.endedAt) : now;
  const span = Math.max(1, end - start);
  return (
    <div class="gantt" role="list" aria-label="Timeline of steps">
      <div class="gantt-scale muted" aria-hidden="true">
        <span>0</span>
        <span>{fmtDuration(span / 2)}</span>
        <span>{fmtDuration(span)}</span>
      </div>
      {steps.map((s) => {
        if (!s?.enteredAt) return null;
        const a = Date.parse(s.enteredAt) - start;
        const b = (s.endedAt ? Date.parse(s.endedAt) : now) - start;
        const left = Math.max(0, (a / span) * 100);
        const width = Math.max(0.4, ((b - a) / span) * 100);
        return (
          <div class={`gantt-row${selected === s.name ? ' selected' : ''}`} role="listitem">
            <button type="button" class="gantt-name" onClick={() => onSelect(s.name)} title={s.name}>
              {s.name}
            </button>
            <div class="gantt-track">
              <div
                class={`gantt-bar status-${s.status}`}
                style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }}
                title={`${s.name}: ${s.status}, ${fmtDuration(b - a)}`}
              />
            </div>
            <span class="gantt-dur">
              {s.status} · {fmtDuration(b - a)}
            </span>
          </div>
        );
      })}
    </div>
  );
}
