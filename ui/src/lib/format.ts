/** Display helpers: times, durations, statuses. */

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function between(
  start: string | null | undefined,
  end: string | null | undefined,
  now = Date.now(),
): number | null {
  if (!start) return null;
  const a = Date.parse(start);
  const b = end ? Date.parse(end) : now;
  return Number.isNaN(a) || Number.isNaN(b) ? null : b - a;
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  const ms = between(iso, null, now);
  if (ms === null) return 'never';
  if (ms < 5000) return 'just now';
  return `${fmtDuration(ms).replace(/ \d+ s$/, '')} ago`;
}

/** Lower-case status word used for CSS classes and labels. */
export function statusWord(status: string | null | undefined): string {
  return (status ?? 'unknown').toLowerCase();
}

/** Keys whose values are never shown (the server scrubs them too; this is a second fence). */
const SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|private[_-]?key|credential|authorization/i;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 20) return '…';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = SECRET_KEY.test(k) && v !== null && typeof v !== 'object' ? '••••••' : redact(v, depth + 1);
    return out;
  }
  return value;
}

export function pretty(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value, null, 2) ?? '';
}

/** `*` matches any run of characters (credential pickers: `# ui:credential=pg_*`). */
export function globMatch(glob: string, name: string): boolean {
  const re = new RegExp(
    `^${glob
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(name);
}
