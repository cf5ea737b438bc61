/**
 * JSON-friendly forms of SQL values, shared by the postgres and duckdb tools so both give the same
 * step data (documented in docs/tools.md).
 */

/** A 64-bit (or wider) integer: a number when it is a safe integer, else its exact decimal text. */
export function safeInteger(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/** A decimal: a number when it has at most 15 significant digits (exact round trip), else its text. */
export function numericValue(text: string): number | string {
  if (!/^-?\d+(\.\d+)?$/.test(text)) return text; // NaN, Infinity
  const digits = text.replace(/^-/, '').replace('.', '').replace(/^0+/, '');
  const significant = digits.replace(/0+$/, '').length;
  return significant <= 15 ? Number(text) : text;
}

/** `2024-01-02 03:04:05.123+00` -> `2024-01-02T03:04:05.123+00:00`; other text as it is. */
export function timestampText(text: string): string {
  if (!/^\d{4,}-\d\d-\d\d /.test(text)) return text; // infinity, BC dates: as PostgreSQL prints them
  const iso = text.replace(' ', 'T');
  return /[+-]\d\d$/.test(iso) ? `${iso}:00` : iso;
}
