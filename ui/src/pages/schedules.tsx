import { useState } from 'preact/hooks';
import { errorText, post } from '../api/client.js';
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  scheduleFires,
  setPaused,
  triggerSchedule,
  type NewSchedule,
  type Schedule,
} from '../api/schedules.js';
import type { CatalogEntry, Json } from '../api/types.js';
import { ErrorBox, Missing } from '../components/status.js';
import { ago, fmtTime } from '../lib/format.js';
import { useInterval, useLoad, useNow } from '../lib/hooks.js';
import { navigate } from '../lib/router.js';

// Schedules (docs/triggers.md): the list, a create form, and one schedule with its recent fires.

const SYMBOL: Record<string, string> = {
  active: '●',
  paused: '‖',
  started: '▶',
  skipped: '↷',
  duplicate: '=',
  failed: '✕',
  invalid: '✕',
};
const CLASS: Record<string, string> = {
  active: 'status-active',
  started: 'status-completed',
  failed: 'status-failed',
  invalid: 'status-failed',
};

/** A schedule state or fire outcome as a symbol, a word and a colour (never colour alone). */
function Outcome({ value, title }: { value: string | null; title?: string }) {
  if (!value) return <span class="muted">—</span>;
  const word = value.startsWith('invalid') ? 'invalid' : value.toLowerCase();
  return (
    <span class={`status ${CLASS[word] ?? ''}`} title={title ?? (value !== word ? value : undefined)}>
      <span aria-hidden="true">{SYMBOL[word] ?? '·'}</span> {word}
    </span>
  );
}

function StateOf({ s }: { s: Schedule }) {
  return <Outcome value={s.enabled ? 'active' : 'paused'} />;
}

/** Pause/resume, trigger now and delete, shared by the list rows and the detail page. */
function useActions(onChange: () => void, onDeleted: () => void) {
  const [error, setError] = useState<unknown>(null);
  const [started, setStarted] = useState<{ schedule: Schedule; execution_id: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return {
    error,
    started,
    busy,
    toggle: (s: Schedule) =>
      run(async () => {
        await setPaused(s.schedule_id, s.enabled);
        onChange();
      }),
    trigger: (s: Schedule) =>
      run(async () => {
        const r = await triggerSchedule(s.schedule_id);
        setStarted({ schedule: s, execution_id: r.execution_id });
        onChange();
      }),
    remove: (s: Schedule) =>
      run(async () => {
        if (!confirm(`Delete the schedule ${s.schedule_id} (${s.path}, ${s.cron})? Its executions stay.`))
          return;
        await deleteSchedule(s.schedule_id);
        onDeleted();
      }),
  };
}

type Actions = ReturnType<typeof useActions>;

function ActionButtons({ s, actions }: { s: Schedule; actions: Actions }) {
  const what = `schedule ${s.schedule_id}`;
  return (
    <>
      <button
        type="button"
        disabled={actions.busy}
        aria-label={`${s.enabled ? 'Pause' : 'Resume'} ${what}`}
        onClick={() => void actions.toggle(s)}
      >
        {s.enabled ? 'Pause' : 'Resume'}
      </button>
      <button
        type="button"
        disabled={actions.busy}
        aria-label={`Trigger ${what} now`}
        onClick={() => void actions.trigger(s)}
      >
        Trigger now
      </button>
      <button
        type="button"
        class="danger"
        disabled={actions.busy}
        aria-label={`Delete ${what}`}
        onClick={() => void actions.remove(s)}
      >
        Delete
      </button>
    </>
  );
}

function ActionResult({ actions }: { actions: Actions }) {
  return (
    <>
      <ErrorBox error={actions.error} />
      <div role="status">
        {actions.started ? (
          <p class="note">
            Started {actions.started.schedule.path}:{' '}
            <a href={`/executions/${actions.started.execution_id}`}>
              execution {actions.started.execution_id}
            </a>
          </p>
        ) : null}
      </div>
    </>
  );
}

const CATCHUP: [NewSchedule['catchup'], string][] = [
  ['one', 'one: latest missed tick'],
  ['skip', 'skip: none'],
  ['all', 'all: every missed tick'],
];
const OVERLAP: [NewSchedule['overlap'], string][] = [
  ['allow', 'allow: start anyway'],
  ['skip', 'skip: skip the tick'],
  ['cancel_previous', 'cancel_previous: cancel it'],
];

function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  try {
    return ['UTC', ...(intl.supportedValuesOf?.('timeZone') ?? []).filter((z) => z !== 'UTC')];
  } catch {
    return ['UTC'];
  }
}

/** The playbooks of the catalog, newest version of each path. */
function usePlaybooks() {
  return useLoad(async () => {
    const r = await post<{ entries: CatalogEntry[] }>('/api/catalog/list', {});
    const latest = new Map<string, number>();
    for (const e of r.entries)
      if (e.kind.toLowerCase() === 'playbook' && !e.archived)
        latest.set(e.path, Math.max(e.version, latest.get(e.path) ?? 0));
    return [...latest.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  }, []);
}

function ScheduleForm({ onCancel }: { onCancel: () => void }) {
  const playbooks = usePlaybooks();
  const [path, setPath] = useState('');
  const [cron, setCron] = useState('0 6 * * *');
  const [timezone, setTimezone] = useState('UTC');
  const [workload, setWorkload] = useState('{}');
  const [catchup, setCatchup] = useState<NewSchedule['catchup']>('one');
  const [overlap, setOverlap] = useState<NewSchedule['overlap']>('allow');
  const [paused, setPausedBox] = useState(false);
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const chosen = path || playbooks.data?.[0]?.[0] || '';
  const submit = async () => {
    setError(null);
    let parsed: Json;
    try {
      parsed = JSON.parse(workload.trim() || '{}') as Json;
    } catch (err) {
      setError(`workload: not JSON (${errorText(err)})`);
      return;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      setError('workload: a JSON object is required, e.g. {"env": "prod"}');
      return;
    }
    if (!chosen) {
      setError('choose a playbook (register one in the catalog first)');
      return;
    }
    setBusy(true);
    try {
      const created = await createSchedule({
        path: chosen,
        cron: cron.trim(),
        timezone: timezone.trim() || 'UTC',
        workload: parsed,
        enabled: !paused,
        catchup,
        overlap,
        ...(description.trim() ? { description: description.trim() } : {}),
      });
      navigate(`/schedules/${created.schedule_id}`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="panel schedule-form"
      aria-label="New schedule"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2>New schedule</h2>
      <ErrorBox error={playbooks.error} title="Could not list the catalog" />
      <div class="form-grid">
        <label>
          Playbook
          <select value={chosen} onChange={(e) => setPath(e.currentTarget.value)} required>
            {(playbooks.data ?? []).map(([p, v]) => (
              <option value={p}>
                {p} (v{v})
              </option>
            ))}
          </select>
        </label>
        <label>
          Cron (5 fields, or 6 with seconds)
          <input
            value={cron}
            onInput={(e) => setCron(e.currentTarget.value)}
            required
            autocomplete="off"
            spellcheck={false}
          />
        </label>
        <label>
          Time zone
          <input
            value={timezone}
            onInput={(e) => setTimezone(e.currentTarget.value)}
            list="schedule-timezones"
            autocomplete="off"
          />
          <datalist id="schedule-timezones">
            {timeZones().map((z) => (
              <option value={z} />
            ))}
          </datalist>
        </label>
        <label>
          Missed ticks (catchup)
          <select
            value={catchup}
            onChange={(e) => setCatchup(e.currentTarget.value as NewSchedule['catchup'])}
          >
            {CATCHUP.map(([v, l]) => (
              <option value={v}>{l}</option>
            ))}
          </select>
        </label>
        <label>
          Previous still running (overlap)
          <select
            value={overlap}
            onChange={(e) => setOverlap(e.currentTarget.value as NewSchedule['overlap'])}
          >
            {OVERLAP.map(([v, l]) => (
              <option value={v}>{l}</option>
            ))}
          </select>
        </label>
        <label>
          Description
          <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
      </div>
      <label>
        Workload (JSON object, over the playbook&apos;s own)
        <textarea
          rows={4}
          value={workload}
          onInput={(e) => setWorkload(e.currentTarget.value)}
          spellcheck={false}
        />
      </label>
      <label class="inline">
        <input type="checkbox" checked={paused} onChange={(e) => setPausedBox(e.currentTarget.checked)} />
        Create it paused
      </label>
      {error ? (
        <div class="error-box" role="alert">
          {error}
        </div>
      ) : null}
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy}>
          Create schedule
        </button>
      </div>
    </form>
  );
}

/** The browser's time zone: the times shown are in it, the cron is read in the schedule's. */
function localZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return 'local time';
  }
}

export function SchedulesPage({ params }: { params: URLSearchParams }) {
  const list = useLoad((signal) => listSchedules(signal), []);
  useInterval(() => list.reload(), 5000);
  const now = useNow(5000);
  const creating = params.get('new') === '1';
  const setCreating = (on: boolean) => navigate(on ? '/schedules?new=1' : '/schedules', true);
  const actions = useActions(list.reload, list.reload);
  if (list.missing) return <Missing what="schedules" />;
  const items = list.data?.items ?? [];
  return (
    <section>
      <div class="title-row">
        <h1>Schedules</h1>
        <button type="button" class="primary" onClick={() => setCreating(true)} disabled={creating}>
          New schedule
        </button>
      </div>
      <p class="muted">
        A schedule starts a registered playbook on every tick of its cron expression, read in its time zone.
        Times below are in this browser&apos;s zone ({localZone()}).
      </p>
      {creating ? <ScheduleForm onCancel={() => setCreating(false)} /> : null}
      <ErrorBox error={list.error} title="Could not list schedules" />
      <ActionResult actions={actions} />
      <div class="table-wrap">
        <table class="schedules" aria-busy={list.loading && !list.data}>
          <thead>
            <tr>
              <th>playbook</th>
              <th>cron</th>
              <th>time zone</th>
              <th>state</th>
              <th>next fire</th>
              <th>last fire</th>
              <th>
                <span class="sr-only">actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr data-schedule-id={s.schedule_id} data-enabled={String(s.enabled)}>
                <td>
                  <a href={`/schedules/${s.schedule_id}`}>{s.path}</a>
                  {s.version !== null ? <span class="muted"> v{s.version}</span> : null}
                  {s.description ? <div class="muted">{s.description}</div> : null}
                </td>
                <td>
                  <code>{s.cron}</code>
                </td>
                <td>{s.timezone}</td>
                <td>
                  <StateOf s={s} />
                </td>
                <td title={fmtTime(s.next_run_at)}>{s.enabled ? fmtTime(s.next_run_at) : '—'}</td>
                <td>
                  <Outcome value={s.last_status} />{' '}
                  <span class="muted" title={fmtTime(s.last_run_at)}>
                    {s.last_run_at ? ago(s.last_run_at, now) : ''}
                  </span>
                </td>
                <td class="row-actions">
                  <ActionButtons s={s} actions={actions} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data && items.length === 0 ? (
        <p class="muted">
          No schedule yet. Create one with New schedule, or <code>noetl schedule create</code>.
        </p>
      ) : null}
    </section>
  );
}

export function SchedulePage({ id }: { id: string }) {
  const schedule = useLoad((signal) => getSchedule(id, signal), [id]);
  const fires = useLoad((signal) => scheduleFires(id, 50, signal), [id]);
  const reload = () => {
    schedule.reload();
    fires.reload();
  };
  useInterval(reload, 2000);
  const actions = useActions(reload, () => navigate('/schedules'));
  const s = schedule.data;
  return (
    <section>
      <p>
        <a href="/schedules">← Schedules</a>
      </p>
      <div class="title-row">
        <h1>
          Schedule {id}
          {s ? `: ${s.path}` : ''}
        </h1>
        {s ? <ActionButtons s={s} actions={actions} /> : null}
      </div>
      <ErrorBox error={schedule.error} title="Could not load the schedule" />
      <ActionResult actions={actions} />
      {s ? (
        <dl class="facts panel schedule-fields">
          <dt>state</dt>
          <dd>
            <StateOf s={s} />
          </dd>
          <dt>playbook</dt>
          <dd>
            <a href={`/catalog/${s.path}`}>{s.path}</a>{' '}
            <span class="muted">{s.version !== null ? `version ${s.version}` : 'latest version'}</span>
          </dd>
          <dt>cron</dt>
          <dd>
            <code>{s.cron}</code> in {s.timezone}
          </dd>
          <dt>next fires</dt>
          <dd>{s.next_fire_times.length ? s.next_fire_times.map(fmtTime).join(', ') : '— (paused)'}</dd>
          <dt>last fire</dt>
          <dd>
            <Outcome value={s.last_status} /> <span class="muted">{fmtTime(s.last_run_at)}</span>
          </dd>
          <dt>catchup / overlap</dt>
          <dd>
            {s.catchup}
            {s.catchup === 'all' ? ` (at most ${s.catchup_limit})` : ''} / {s.overlap}
          </dd>
          <dt>workload</dt>
          <dd>
            <code>{JSON.stringify(s.workload)}</code>
          </dd>
          {s.description ? (
            <>
              <dt>description</dt>
              <dd>{s.description}</dd>
            </>
          ) : null}
        </dl>
      ) : null}
      <h2>Recent fires</h2>
      <p class="muted">Times are in this browser&apos;s zone ({localZone()}).</p>
      <ErrorBox error={fires.error} title="Could not list the fires" />
      <div class="table-wrap">
        <table class="fires">
          <thead>
            <tr>
              <th>fire time</th>
              <th>outcome</th>
              <th>execution</th>
              <th>error</th>
            </tr>
          </thead>
          <tbody>
            {(fires.data?.items ?? []).map((f) => (
              <tr data-outcome={f.outcome}>
                <td>{fmtTime(f.fire_time)}</td>
                <td>
                  <Outcome value={f.outcome} />
                </td>
                <td>
                  {f.execution_id ? <a href={`/executions/${f.execution_id}`}>{f.execution_id}</a> : '—'}
                </td>
                <td class="error-line" title={f.error ?? undefined}>
                  {f.error ?? ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {fires.data && fires.data.items.length === 0 ? <p class="muted">No fire yet.</p> : null}
    </section>
  );
}
