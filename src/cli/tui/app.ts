// `noetl tui`: a terminal UI on ink. Written with React.createElement (no JSX) so the root
// TypeScript build needs no JSX settings. Loaded only by the `tui` command's action.
import React, { useEffect, useRef, useState } from 'react';
import { Box, Text, render, useApp, useInput, useStdout, type Key } from 'ink';
import type { CatalogEntry, ControlPlaneClient } from '../../client/index.js';
import { TERMINAL_STATUSES } from '../api/watch.js';
import {
  ExecutionModel,
  KEYS_HELP,
  STATUS_FILTERS,
  executionLine,
  fit,
  listExecutions,
  listPools,
  stepLine,
  type ExecutionRow,
  type PoolRow,
} from './model.js';

const h = React.createElement;
const POLL_MS = 1000;

type Screen = 'executions' | 'catalog' | 'pools';

interface Shared {
  readonly client: ControlPlaneClient;
  readonly colour: boolean;
  readonly width: number;
  /** Rows the body may use. */
  readonly rows: number;
  /** A one-line message for the status line (errors, "cancelled ..."). */
  readonly say: (text: string) => void;
  /** Opens an execution's detail. */
  readonly open: (id: string) => void;
  /** Whether the body takes keys (false while the help shows). */
  readonly active: boolean;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function statusColour(status: string): string | undefined {
  switch (status) {
    case 'COMPLETED':
      return 'green';
    case 'FAILED':
      return 'red';
    case 'CANCELLED':
      return 'yellow';
    case 'RUNNING':
      return 'cyan';
    default:
      return undefined;
  }
}

/** One line of a list: `>` marks the selected one (and inverse video with colour). */
function line(key: string, text: string, s: Shared, selected = false, status?: string): React.ReactElement {
  const colour = s.colour && status !== undefined ? statusColour(status) : undefined;
  return h(
    Text,
    {
      key,
      wrap: 'truncate',
      ...(s.colour && selected ? { inverse: true } : {}),
      ...(colour !== undefined ? { color: colour } : {}),
    },
    fit(`${selected ? '>' : ' '}${text}`, s.width),
  );
}

/** Keeps `selected` inside the list and scrolls the window of `rows` lines to show it. */
function windowOf(count: number, selected: number, rows: number): { start: number; end: number } {
  const start = Math.max(0, Math.min(selected - Math.floor(rows / 2), count - rows));
  return { start, end: Math.min(count, start + rows) };
}

function move(key: Key, input: string, at: number, count: number, page: number): number {
  if (key.upArrow || input === 'k') return Math.max(0, at - 1);
  if (key.downArrow || input === 'j') return Math.min(Math.max(0, count - 1), at + 1);
  if (key.pageUp) return Math.max(0, at - page);
  if (key.pageDown) return Math.min(Math.max(0, count - 1), at + page);
  return at;
}

/** Calls `load` now and every `ms` until unmounted; `deps` restart it. */
function usePoll(load: () => Promise<boolean | void>, ms: number, deps: unknown[]): void {
  useEffect(() => {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async (): Promise<void> => {
      const done = await load();
      if (!stopped && done !== true) timer = setTimeout(() => void tick(), ms);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, deps);
}

async function cancel(s: Shared, id: string): Promise<void> {
  try {
    await s.client.cancel(id, 'cancelled from noetl tui');
    s.say(`cancelled ${id}`);
  } catch (err) {
    s.say(`cancel ${id}: ${errorText(err)}`);
  }
}

async function rerun(s: Shared, id: string): Promise<void> {
  try {
    const started = await s.client.rerun(id);
    s.say(`rerun of ${id}: ${started.execution_id}`);
    s.open(started.execution_id);
  } catch (err) {
    s.say(`rerun ${id}: ${errorText(err)}`);
  }
}

function ExecutionsView({ s }: { s: Shared }): React.ReactElement {
  const [rows, setRows] = useState<ExecutionRow[]>([]);
  const [at, setAt] = useState(0);
  const [status, setStatus] = useState(0);
  const [path, setPath] = useState('');
  const [editing, setEditing] = useState(false);
  const [now, setNow] = useState(Date.now());
  const filter = { status: STATUS_FILTERS[status] ?? '', path: editing ? '' : path };
  usePoll(
    async () => {
      try {
        setRows(await listExecutions(s.client, { status: filter.status, path }, 100));
        setNow(Date.now());
      } catch (err) {
        s.say(errorText(err));
      }
    },
    POLL_MS,
    [status, editing ? '\0' : path],
  );
  useInput(
    (input, key) => {
      if (editing) {
        if (key.return || key.escape) setEditing(false);
        else if (key.backspace || key.delete) setPath((p) => p.slice(0, -1));
        else if (input !== '' && !key.ctrl && !key.meta) setPath((p) => p + input);
        return;
      }
      const selected = rows[at];
      if (input === 's') setStatus((i) => (i + 1) % STATUS_FILTERS.length);
      else if (input === '/') setEditing(true);
      else if (key.return && selected) s.open(selected.execution_id);
      else if (input === 'c' && selected) void cancel(s, selected.execution_id);
      else if (input === 'r' && selected) void rerun(s, selected.execution_id);
      else setAt(move(key, input, at, rows.length, s.rows - 2));
    },
    { isActive: s.active },
  );
  const body = s.rows - 2;
  const { start, end } = windowOf(rows.length, at, body);
  const title = `Executions  status: ${filter.status || 'all'}  path: ${editing ? `${path}▌` : path || '*'}`;
  return h(
    Box,
    { flexDirection: 'column' },
    h(Text, { bold: s.colour, wrap: 'truncate' }, fit(title, s.width)),
    h(
      Text,
      { dimColor: s.colour, wrap: 'truncate' },
      fit(` ${'ID'.padEnd(19)} ${'STATUS'.padEnd(9)} STARTED  ${'TOOK'.padStart(7)} PATH`, s.width),
    ),
    rows.length === 0 ? h(Text, { key: 'none' }, ' (no executions)') : null,
    ...rows
      .slice(start, end)
      .map((r, i) => line(r.execution_id, executionLine(r, s.width - 1, now), s, start + i === at, r.status)),
  );
}

function DetailView({ s, id, back }: { s: Shared; id: string; back: () => void }): React.ReactElement {
  const model = useRef(new ExecutionModel());
  const after = useRef<string | undefined>(undefined);
  const [, setVersion] = useState(0);
  const [path, setPath] = useState('');
  /** The execution's error once it ended FAILED or CANCELLED: shown under the header. */
  const [error, setError] = useState('');
  const [at, setAt] = useState(0);
  const [step, setStep] = useState<string | undefined>(undefined);
  const [scroll, setScroll] = useState<number | undefined>(undefined);
  usePoll(
    async () => {
      try {
        for (;;) {
          const page = await s.client.events(id, {
            ...(after.current ? { after: after.current } : {}),
            limit: 1000,
          });
          for (const e of page.events) {
            model.current.add(e);
            after.current = e.event_id;
          }
          model.current.status = page.status.toUpperCase();
          if (page.events.length < 1000) break;
        }
        setVersion((v) => v + 1);
        const ended = TERMINAL_STATUSES.has(model.current.status);
        if (path === '' || ended) {
          const view = await s.client.executionStatus(id);
          setPath(view.path ?? '');
          if (ended) setError(view.error ?? '');
        }
        return ended;
      } catch (err) {
        s.say(errorText(err));
        return false;
      }
    },
    POLL_MS,
    [id],
  );
  const m = model.current;
  const steps = m.stepRows();
  const text = step !== undefined ? m.stepText(step) : [];
  // (the step screen has the step's own error: the execution's is shown on the list only)
  const body = s.rows - 2 - (step === undefined && error !== '' ? 1 : 0);
  useInput(
    (input, key) => {
      if (step !== undefined) {
        if (key.escape || key.backspace || key.delete || key.leftArrow) {
          setStep(undefined);
          setScroll(undefined);
          return;
        }
        const last = Math.max(0, text.length - body);
        const cur = scroll ?? last;
        const next = move(key, input, cur, last + 1, body);
        setScroll(next >= last ? undefined : next);
        return;
      }
      const selected = steps[at];
      if (key.escape || key.backspace || key.delete || key.leftArrow) back();
      else if (key.return && selected) setStep(selected.step);
      else if (input === 'c') void cancel(s, id);
      else if (input === 'r') void rerun(s, id);
      else setAt(move(key, input, at, steps.length, body));
    },
    { isActive: s.active },
  );
  const headColour = s.colour ? statusColour(m.status) : undefined;
  const head = h(
    Text,
    { bold: s.colour, wrap: 'truncate', ...(headColour !== undefined ? { color: headColour } : {}) },
    fit(`Execution ${id}  ${m.status}  ${path}`, s.width),
  );
  const errorLine =
    error !== ''
      ? h(Text, { wrap: 'truncate', ...(s.colour ? { color: 'red' } : {}) }, fit(` error: ${error}`, s.width))
      : null;
  if (step !== undefined) {
    const last = Math.max(0, text.length - body);
    const from = Math.min(scroll ?? last, last);
    const row = steps.find((r) => r.step === step);
    return h(
      Box,
      { flexDirection: 'column' },
      head,
      h(Text, { wrap: 'truncate' }, fit(`Step ${step}  ${row?.status ?? ''}  (esc: back)`, s.width)),
      ...text
        .slice(from, from + body)
        .map((t, i) => h(Text, { key: String(from + i), wrap: 'truncate' }, fit(t, s.width))),
    );
  }
  const nameWidth = Math.min(30, Math.max(4, ...steps.map((r) => r.step.length)));
  const { start, end } = windowOf(steps.length, at, body);
  return h(
    Box,
    { flexDirection: 'column' },
    head,
    errorLine,
    h(Text, { dimColor: s.colour, wrap: 'truncate' }, fit(' Steps (enter: output and error)', s.width)),
    steps.length === 0 ? h(Text, { key: 'none' }, ' (no steps yet)') : null,
    ...steps
      .slice(start, end)
      .map((r, i) => line(r.step, stepLine(r, nameWidth, s.width - 1), s, start + i === at, r.status)),
  );
}

function CatalogView({ s }: { s: Shared }): React.ReactElement {
  const [rows, setRows] = useState<CatalogEntry[]>([]);
  const [at, setAt] = useState(0);
  usePoll(
    async () => {
      try {
        const { entries } = await s.client.catalogList();
        setRows(entries.filter((e) => e.kind.toLowerCase() === 'playbook'));
      } catch (err) {
        s.say(errorText(err));
      }
    },
    5000,
    [],
  );
  useInput(
    (input, key) => {
      const selected = rows[at];
      if (key.return && selected) {
        void (async () => {
          try {
            const started = await s.client.execute({
              path: selected.path,
              payload: {},
              resource_kind: 'playbook',
            });
            s.say(`started ${selected.path}: ${started.execution_id}`);
            s.open(started.execution_id);
          } catch (err) {
            s.say(`run ${selected.path}: ${errorText(err)}`);
          }
        })();
      } else setAt(move(key, input, at, rows.length, s.rows - 2));
    },
    { isActive: s.active },
  );
  const { start, end } = windowOf(rows.length, at, s.rows - 2);
  return h(
    Box,
    { flexDirection: 'column' },
    h(
      Text,
      { bold: s.colour, wrap: 'truncate' },
      fit('Catalog: playbooks  (enter: run with its default workload)', s.width),
    ),
    h(Text, { dimColor: s.colour, wrap: 'truncate' }, fit(` ${'VERSION'.padEnd(8)} PATH`, s.width)),
    rows.length === 0 ? h(Text, { key: 'none' }, ' (no playbooks)') : null,
    ...rows
      .slice(start, end)
      .map((e, i) => line(e.catalog_id, `${String(e.version).padEnd(8)} ${e.path}`, s, start + i === at)),
  );
}

function PoolsView({ s }: { s: Shared }): React.ReactElement {
  const [rows, setRows] = useState<PoolRow[]>([]);
  const [at, setAt] = useState(0);
  usePoll(
    async () => {
      try {
        setRows(await listPools(s.client));
      } catch (err) {
        s.say(errorText(err));
      }
    },
    2000,
    [],
  );
  useInput((input, key) => setAt(move(key, input, at, rows.length, s.rows - 2)), { isActive: s.active });
  const { start, end } = windowOf(rows.length, at, s.rows - 2);
  return h(
    Box,
    { flexDirection: 'column' },
    h(Text, { bold: s.colour, wrap: 'truncate' }, fit('Worker pools', s.width)),
    h(
      Text,
      { dimColor: s.colour, wrap: 'truncate' },
      fit(` ${'NAME'.padEnd(24)} ${'STATUS'.padEnd(9)} ${'CAP'.padStart(4)} HEARTBEAT`, s.width),
    ),
    rows.length === 0 ? h(Text, { key: 'none' }, ' (no worker pools)') : null,
    ...rows
      .slice(start, end)
      .map((p, i) =>
        line(
          p.name,
          `${fit(p.name, 24)} ${fit(p.status ?? '', 9)} ${String(p.capacity ?? '').padStart(4)} ${p.heartbeat ?? ''}`,
          s,
          start + i === at,
          p.status === 'ready' ? 'COMPLETED' : p.status === 'offline' ? 'FAILED' : undefined,
        ),
      ),
  );
}

const FOOTER = '1 executions  2 catalog  3 pools  ? keys  q quit';

export interface TuiProps {
  readonly client: ControlPlaneClient;
  readonly server: string;
  readonly colour: boolean;
}

function App({ client, server, colour }: TuiProps): React.ReactElement {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [size, setSize] = useState({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [screen, setScreen] = useState<Screen>('executions');
  const [detail, setDetail] = useState<string | undefined>(undefined);
  const [help, setHelp] = useState(false);
  const [message, setMessage] = useState('');
  const [typing, setTyping] = useState(false);
  useEffect(() => {
    const resize = (): void => setSize({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
    stdout.on('resize', resize);
    return () => {
      stdout.off('resize', resize);
    };
  }, [stdout]);
  useInput((input, key) => {
    if (help) {
      setHelp(false);
      return;
    }
    if (typing) {
      if (key.return || key.escape) setTyping(false);
      return;
    }
    if (input === 'q') exit();
    else if (input === '?') setHelp(true);
    else if (input === '/' && screen === 'executions' && detail === undefined) setTyping(true);
    else if (input === '1' || input === '2' || input === '3') {
      setDetail(undefined);
      setScreen(input === '1' ? 'executions' : input === '2' ? 'catalog' : 'pools');
    }
  });
  // One spare row: ink redraws in place only while the frame is shorter than the terminal.
  const rows = Math.max(6, size.rows - 3);
  const s: Shared = {
    client,
    colour,
    width: Math.max(20, size.columns),
    rows,
    say: setMessage,
    open: (id) => {
      setScreen('executions');
      setDetail(id);
    },
    active: !help,
  };
  const body = help
    ? h(
        Box,
        { flexDirection: 'column' },
        ...KEYS_HELP.map((t) => h(Text, { key: t, wrap: 'truncate' }, fit(t, s.width))),
      )
    : detail !== undefined
      ? h(DetailView, { key: detail, s, id: detail, back: () => setDetail(undefined) })
      : screen === 'executions'
        ? h(ExecutionsView, { s })
        : screen === 'catalog'
          ? h(CatalogView, { s })
          : h(PoolsView, { s });
  return h(
    Box,
    { flexDirection: 'column', width: s.width },
    h(Box, { height: rows, flexDirection: 'column', overflow: 'hidden' }, body),
    h(Text, { wrap: 'truncate', ...(colour ? { color: 'yellow' } : {}) }, fit(message, s.width)),
    h(
      Text,
      { wrap: 'truncate', ...(colour ? { dimColor: true } : {}) },
      fit(`${FOOTER}  ${server}`, s.width),
    ),
  );
}

/** Runs the UI until `q` (or Ctrl-C); resolves when it has exited. */
export async function runTui(props: TuiProps): Promise<void> {
  const app = render(h(App, props), { exitOnCtrlC: true, patchConsole: false });
  await app.waitUntilExit();
}
