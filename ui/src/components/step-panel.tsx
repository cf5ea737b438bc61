import { useEffect, useState } from 'preact/hooks';
import type { StepState } from '../lib/fold.js';
import { between, fmtDuration, fmtTime, pretty, redact } from '../lib/format.js';
import { Status } from './status.js';

function Block({ title, text, tone }: { title: string; text: string | null; tone?: string }) {
  if (text === null || text === '') return null;
  return (
    <details open class={`block ${tone ?? ''}`}>
      <summary>{title}</summary>
      <pre>{text}</pre>
    </details>
  );
}

/**
 * One step of an execution: its attempts (or loop iterations), input, result, output, events.
 * `loading`: the event log is still being read (the page is drawn from the summary until then),
 * so an empty command list means "not read yet", not "none ran".
 */
export function StepPanel({ step, loading = false }: { step: StepState; loading?: boolean }) {
  const [pick, setPick] = useState<number>(-1);
  useEffect(() => setPick(-1), [step.name]);
  const cmds = step.commands;
  const shown = pick >= 0 ? cmds[pick] : cmds[cmds.length - 1];
  return (
    <div class="step-panel" data-step={step.name}>
      <h2>
        {step.name} <Status status={step.status} />
      </h2>
      <dl class="facts">
        <dt>tool</dt>
        <dd>{step.toolKind ?? '—'}</dd>
        <dt>entered</dt>
        <dd>{fmtTime(step.enteredAt)}</dd>
        <dt>duration</dt>
        <dd>{fmtDuration(between(step.enteredAt, step.endedAt))}</dd>
        {step.iterationsExpected !== null ? (
          <>
            <dt>loop</dt>
            <dd>
              {step.iterationsDone}/{step.iterationsExpected} iterations
            </dd>
          </>
        ) : null}
        <dt>attempts</dt>
        <dd>
          {step.attempts}
          {step.attempts > 1 ? ` (${step.attempts - 1} retries)` : ''}
        </dd>
        {step.children.length ? (
          <>
            <dt>sub-playbooks</dt>
            <dd>
              {step.children.map((c) => (
                <a href={`/executions/${c}`} class="mono child-link">
                  {c}
                </a>
              ))}
            </dd>
          </>
        ) : null}
      </dl>
      {cmds.length > 1 ? (
        <label class="inline">
          {step.iterationsExpected !== null ? 'Iteration / attempt' : 'Attempt'}
          <select value={String(pick)} onChange={(e) => setPick(Number(e.currentTarget.value))}>
            <option value="-1">latest</option>
            {cmds.map((c, i) => (
              <option value={String(i)}>
                {c.iteration !== null ? `#${c.iteration} ` : ''}attempt {c.attempt}: {c.status}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {shown ? (
        <>
          {shown.workerId ? <p class="muted">worker {shown.workerId}</p> : null}
          <Block title="Error" text={shown.error} tone="bad" />
          <Block title="Traceback" text={shown.traceback} tone="bad" />
          <Block title="stderr" text={shown.stderr} />
          <Block title="stdout" text={shown.stdout} />
          <Block title="Input (rendered, secrets redacted)" text={pretty(redact(shown.input))} />
          <Block title="Result" text={shown.result === null ? null : pretty(redact(shown.result))} />
        </>
      ) : (
        <p class="muted">
          {loading ? "Reading this step's commands from the event log…" : 'No command ran for this step.'}
        </p>
      )}
      <details class="block">
        <summary>Events ({step.events.length})</summary>
        <ol class="events">
          {step.events.map((ev) => (
            <li>
              <details>
                <summary>
                  <span class="mono">{fmtTime(ev.created_at)}</span> {ev.event_type}{' '}
                  <span class="muted">{ev.status ?? ''}</span>
                </summary>
                <pre>
                  {pretty(redact({ context: ev.context, result: ev.result, meta: ev.meta, error: ev.error }))}
                </pre>
              </details>
            </li>
          ))}
        </ol>
      </details>
    </div>
  );
}
