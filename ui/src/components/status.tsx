import { statusWord } from '../lib/format.js';

const SYMBOL: Record<string, string> = {
  running: '●',
  pending: '○',
  completed: '✓',
  failed: '✕',
  skipped: '↷',
  cancelled: '■',
  active: '●',
  offline: '✕',
  inactive: '○',
};

/** A status as text, a symbol and a colour (never colour alone). */
export function Status({ status }: { status: string | null | undefined }) {
  const w = statusWord(status);
  return (
    <span class={`status status-${w}`}>
      <span aria-hidden="true">{SYMBOL[w] ?? '·'}</span> {w}
    </span>
  );
}

export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const text =
    error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);
  const code = (error as { code?: string }).code;
  return (
    <div class="error-box" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {code ? <code>{code}</code> : null} {text}
    </div>
  );
}

export function Missing({ what }: { what: string }) {
  return (
    <p class="note" role="note">
      This server does not offer {what} yet (its route answered 404). Upgrade noetl-server to see it.
    </p>
  );
}
