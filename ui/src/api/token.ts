// The server token (NOETL_API_TOKEN), asked once on a 401 and kept in sessionStorage for this tab.
// It travels only as an `Authorization: Bearer` header: never in a URL, a cookie or a log.

const KEY = 'noetl.token';

type Asker = (wrong: boolean) => Promise<string | null>;

let asker: Asker | null = null;
let pending: Promise<string | null> | null = null;

export function currentToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function authHeaders(): Record<string, string> {
  const token = currentToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

export function forgetToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* storage disabled: nothing kept */
  }
}

/** The token dialog registers itself here. */
export function setTokenAsker(fn: Asker | null): void {
  asker = fn;
}

/**
 * Asks for a token; concurrent 401s share one prompt. Resolves true when a token was given.
 * `wrong` says the last one was refused (403).
 */
export async function askToken(wrong: boolean): Promise<boolean> {
  if (!asker) return false;
  pending ??= asker(wrong).finally(() => {
    pending = null;
  });
  const token = await pending;
  if (!token) return false;
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    return false;
  }
  return true;
}
