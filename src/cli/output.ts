/** Human output on stdout, notes on stderr, JSON for scripts: every command prints through here. */

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Progress and notes that are not the command's result: stderr, so `--json` stdout stays clean. */
export function note(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One line of a cell: objects as compact JSON, null/undefined as '-', newlines folded. */
export function cell(value: unknown, max = Infinity): string {
  let text: string;
  if (value === null || value === undefined) text = '-';
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    text = String(value);
  else text = JSON.stringify(value);
  text = text.replace(/\s*\n\s*/g, ' ');
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

/**
 * Aligned columns, two spaces apart, headers upper-cased; the last column is not padded. Cells
 * are formatted with `cell` (pass `max` to cut long ones).
 */
export function table(
  headers: readonly string[],
  rows: readonly (readonly unknown[])[],
  max = Infinity,
): string {
  const text = rows.map((r) => headers.map((_, i) => cell(r[i], max)));
  const head = headers.map((h) => h.toUpperCase());
  const widths = head.map((h, i) => Math.max(h.length, ...text.map((r) => [...(r[i] ?? '')].length)));
  const line = (cols: readonly string[]): string =>
    cols
      .map((c, i) => (i === cols.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - [...c].length)))
      .join('  ')
      .trimEnd();
  return [line(head), ...text.map(line)].join('\n');
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `1.23s`, `12ms`, `2m 5s`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(2)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s % 60)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}
