import { useEffect, useRef, useState } from 'preact/hooks';
import { setTokenAsker } from '../api/token.js';

/**
 * Asks for the server token when the API answers 401. The token is kept in sessionStorage for this
 * tab only and sent as a header; it is never written to a URL, a cookie or a log.
 */
export function TokenDialog() {
  const [ask, setAsk] = useState<{ wrong: boolean; resolve: (t: string | null) => void } | null>(null);
  const [value, setValue] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    setTokenAsker((wrong) => new Promise((resolve) => setAsk({ wrong, resolve })));
    return () => setTokenAsker(null);
  }, []);
  useEffect(() => {
    const d = dialog.current;
    if (ask && d && !d.open) d.showModal();
  }, [ask]);
  const finish = (token: string | null) => {
    dialog.current?.close();
    ask?.resolve(token);
    setAsk(null);
    setValue('');
  };
  return (
    <dialog ref={dialog} class="token-dialog" aria-labelledby="token-title" onCancel={() => finish(null)}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          finish(value.trim() || null);
        }}
      >
        <h2 id="token-title">Server token</h2>
        <p>
          {ask?.wrong ? 'That token was refused. ' : ''}This server requires its API token (
          <code>NOETL_API_TOKEN</code>). It is kept for this tab only.
        </p>
        <label>
          Token
          <input
            type="password"
            name="token"
            autocomplete="off"
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
            autofocus
          />
        </label>
        <div class="actions">
          <button type="button" onClick={() => finish(null)}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Use token
          </button>
        </div>
      </form>
    </dialog>
  );
}
