import {
  ConflictError,
  NoetlError,
  NotFoundError,
  type ErrorCode,
  type JsonObject,
  type Static,
  type wire,
} from '../shared/index.js';
import { HttpTransport, type HttpCall, type HttpReply } from './http-transport.js';

export type { HttpCall, HttpReply } from './http-transport.js';

/** How a client's calls reach the server: HTTP, or in-process for the embedded server's own workers. */
export interface ClientTransport {
  send(call: HttpCall): Promise<HttpReply>;
  close?(): void;
}

/** What `POST /api/commands/{event_id}/claim` returns (contract 3.6). */
export interface ClaimResponse {
  readonly status: string;
  readonly event_id: string;
  readonly execution_id: string;
  readonly node_id: string;
  readonly node_name: string;
  readonly action: string;
  readonly context: {
    readonly tool_config: unknown;
    readonly args?: Readonly<Record<string, unknown>>;
    readonly render_context?: Readonly<Record<string, unknown>>;
    readonly keychain?: unknown;
  };
  readonly meta?: Readonly<Record<string, unknown>>;
}

/**
 * What posting a command's events returns; `claimed`: the commands the control plane claimed for
 * this worker when it asked to `take` them (each as the claim route answers it).
 */
export interface PostEventsAnswer {
  readonly status: string;
  readonly commands_generated?: number;
  readonly claimed?: readonly (ClaimResponse & {
    readonly command_id: string;
    readonly claim_event_id: string;
    readonly execution_pool: string;
    readonly trace?: JsonObject;
  })[];
}

export interface PostedEvent {
  readonly step: string;
  readonly event_type: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly worker_id: string;
  readonly actionable?: boolean;
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** `POST /api/catalog/register` answer. */
export type CatalogRegistered = wire.RegisterAnswer;

/** A catalog entry (docs/api.md). */
export type CatalogEntry = wire.CatalogEntry;

export interface CredentialInput {
  readonly name: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly meta?: unknown;
  readonly tags?: readonly string[];
  readonly description?: string;
}

export type CredentialView = Static<typeof wire.CredentialDetail>;

/** `GET /api/executions/{id}/status` (docs/api.md). */
export type ExecutionStatusView = wire.StatusView;

/**
 * One event of `GET /api/executions/{id}/events` as the CLI reads it: wire.EventView narrowed to
 * named step events (the CLI's progress and step trees also read engine events of `noetl run`,
 * which share these fields).
 */
export interface EventView {
  readonly event_id: string;
  readonly execution_id?: string;
  readonly event_type: string;
  readonly node_name: string;
  readonly node_type?: string | null;
  readonly status: string;
  readonly created_at: string;
  readonly meta?: Readonly<Record<string, unknown>> | null;
  readonly result?: unknown;
  readonly error?: string | null;
  readonly worker_id?: string | null;
}

export interface ClientOptions {
  readonly serverUrl: string;
  readonly apiToken?: string;
  /** Per-request timeout (default 30 s). */
  readonly timeoutMs?: number;
  /** Default: HTTP/1.1 with kept-alive connections (`HttpTransport`). */
  readonly transport?: ClientTransport;
}

const STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  422: 'PLAYBOOK_INVALID',
};

/** Worker calls the server dedups, so sending one twice changes nothing. */
const IDEMPOTENT_POSTS =
  /^\/api\/(commands\/[^/]+\/(claim|release)|events(\/batch)?|worker\/pool\/(register|heartbeat|deregister))$/;

/**
 * The control plane's HTTP API as a worker (and the CLI) uses it. Errors come back as
 * NoetlErrors with the server's code; network failures and 5xx are `retryable`.
 */
export class ControlPlaneClient {
  readonly baseUrl: string;

  private readonly transport: ClientTransport;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.serverUrl.replace(/\/+$/, '');
    this.transport = options.transport ?? new HttpTransport();
  }

  /** Closes kept-alive connections (a process exits without it too: sockets are unref'ed). */
  close(): void {
    this.transport.close?.();
  }

  /**
   * One API call. `idempotent` (default: GET, and the worker's own calls, which the server
   * dedups: claims by the same worker, events by id, pool heartbeats) lets a request that met a
   * kept-alive connection closed under it be sent once more.
   */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
    idempotent = method === 'GET' || IDEMPOTENT_POSTS.test(path),
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.apiToken) headers['authorization'] = `Bearer ${this.options.apiToken}`;
    let res: HttpReply;
    try {
      res = await this.transport.send({
        method,
        url: new URL(`${this.baseUrl}${path}`),
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        timeoutMs: this.options.timeoutMs ?? 30_000,
        idempotent,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      const cause = err instanceof Error ? err.message : String(err);
      throw new NoetlError('UNAVAILABLE', `cannot reach the server at ${this.baseUrl}: ${cause}`, {
        retryable: true,
        cause: err,
      });
    }
    const text = res.text;
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.status >= 200 && res.status < 300) return json as T;
    const err = json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : {};
    const message =
      typeof err['error'] === 'string' ? err['error'] : `HTTP ${res.status} from ${method} ${path}`;
    const code = (typeof err['code'] === 'string' ? err['code'] : STATUS_CODES[res.status]) as
      ErrorCode | undefined;
    const details = { status: res.status, ...(err['details'] ? { details: err['details'] } : {}) };
    if (res.status === 409) throw new ConflictError(message, { details });
    if (res.status === 404) throw new NotFoundError(message, { details });
    throw new NoetlError(code ?? (res.status >= 500 ? 'UNAVAILABLE' : 'BAD_REQUEST'), message, {
      retryable: res.status >= 500 || res.status === 429,
      details,
    });
  }

  claim(eventId: string, workerId: string): Promise<ClaimResponse> {
    return this.request('POST', `/api/commands/${eventId}/claim`, { worker_id: workerId });
  }

  /** Gives a claimed command back (worker shutting down) so another worker runs it. */
  release(eventId: string, workerId: string): Promise<unknown> {
    return this.request('POST', `/api/commands/${eventId}/release`, { worker_id: workerId });
  }

  /**
   * Posts a command's events. `take`: the worker has this many slots free for what the events
   * decide (of `pool`, when it serves one); the commands claimed for it come back in `claimed`.
   */
  postEvents(
    executionId: string,
    workerId: string,
    events: readonly PostedEvent[],
    take?: { readonly max: number; readonly pool?: string },
  ): Promise<PostEventsAnswer> {
    if (events.length === 1 && take === undefined) {
      return this.request('POST', '/api/events', { execution_id: executionId, ...events[0] });
    }
    return this.request('POST', '/api/events/batch', {
      execution_id: executionId,
      worker_id: workerId,
      events,
      ...(take !== undefined ? { take } : {}),
    });
  }

  getCredential(
    alias: string,
    signal?: AbortSignal,
  ): Promise<{ name: string; type: string; data: Record<string, unknown> }> {
    return this.request(
      'GET',
      `/api/credentials/${encodeURIComponent(alias)}?include_data=true`,
      undefined,
      signal,
    );
  }

  execute(
    body: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<{ execution_id: string; status: string }> {
    return this.request('POST', '/api/execute', body, signal);
  }

  status(executionId: string, signal?: AbortSignal): Promise<{ status: string; error?: string | null }> {
    return this.request('GET', `/api/executions/${executionId}/status`, undefined, signal);
  }

  result(
    executionId: string,
    signal?: AbortSignal,
  ): Promise<{
    status: string;
    final_result: unknown;
    step_results: Record<string, unknown>;
    error: string | null;
    path: string;
  }> {
    return this.request('GET', `/api/executions/${executionId}/result`, undefined, signal);
  }

  /** `PUT /api/result/{execution_id}` (contract 1.12): stores a value, returns its reference. */
  putResult(
    executionId: string,
    body: { name: string; data: unknown; source_step?: string },
    signal?: AbortSignal,
  ): Promise<{ ref: string; store: string; scope: string; bytes: number; sha256: string }> {
    return this.request('PUT', `/api/result/${executionId}`, body, signal);
  }

  /** `GET /api/result/resolve?ref=`: the value a `noetl://` reference names. */
  resolveResult(ref: string, signal?: AbortSignal): Promise<unknown> {
    return this.request('GET', `/api/result/resolve?ref=${encodeURIComponent(ref)}`, undefined, signal);
  }

  // ---- calls of the CLI's API commands (docs/api.md) ----

  /** `GET /api/health`. */
  health(): Promise<Record<string, unknown>> {
    return this.request('GET', '/api/health');
  }

  /** `POST /api/catalog/register`: YAML content (sent base64, as NoETL's CLI does). */
  /** `strict`: the server refuses a playbook with warnings too (422 PLAYBOOK_INVALID). */
  registerCatalog(
    content: string,
    resourceType?: string,
    options: { strict?: boolean } = {},
  ): Promise<CatalogRegistered> {
    return this.request('POST', '/api/catalog/register', {
      content: Buffer.from(content, 'utf8').toString('base64'),
      ...(resourceType !== undefined ? { resource_type: resourceType } : {}),
      ...(options.strict === true ? { strict: true } : {}),
    });
  }

  catalogList(resourceType?: string): Promise<{ entries: CatalogEntry[] }> {
    return this.request(
      'POST',
      '/api/catalog/list',
      resourceType !== undefined ? { resource_type: resourceType } : {},
    );
  }

  catalogResource(path: string, version?: number | 'latest'): Promise<CatalogEntry> {
    return this.request('POST', '/api/catalog/resource', {
      path,
      ...(version !== undefined ? { version } : {}),
    });
  }

  /** `POST /api/credentials`: create or replace by name; the answer carries no data. */
  registerCredential(body: CredentialInput): Promise<CredentialView> {
    return this.request('POST', '/api/credentials', body);
  }

  credential(name: string, includeData: boolean): Promise<CredentialView> {
    return this.request('GET', `/api/credentials/${encodeURIComponent(name)}?include_data=${includeData}`);
  }

  /** `GET /api/executions/{id}/status`: the whole status view. */
  executionStatus(executionId: string, signal?: AbortSignal): Promise<ExecutionStatusView> {
    return this.request(
      'GET',
      `/api/executions/${encodeURIComponent(executionId)}/status`,
      undefined,
      signal,
    );
  }

  /** `GET /api/executions/{id}/events?after=&limit=`: events after `after`, oldest first. */
  events(
    executionId: string,
    options: { after?: string; limit?: number } = {},
    signal?: AbortSignal,
  ): Promise<{ execution_id: string; status: string; events: EventView[] }> {
    const q = new URLSearchParams();
    if (options.after !== undefined) q.set('after', options.after);
    if (options.limit !== undefined) q.set('limit', String(options.limit));
    const qs = q.size > 0 ? `?${q.toString()}` : '';
    return this.request(
      'GET',
      `/api/executions/${encodeURIComponent(executionId)}/events${qs}`,
      undefined,
      signal,
    );
  }

  /** `cascade` (default true) also cancels running child executions. */
  cancel(
    executionId: string,
    reason?: string,
    cascade = true,
  ): Promise<{ execution_id: string; status: string; message: string; cancelled_executions?: unknown }> {
    return this.request('POST', `/api/executions/${encodeURIComponent(executionId)}/cancel`, {
      ...(reason !== undefined ? { reason } : {}),
      cascade,
    });
  }

  rerun(
    executionId: string,
    workload?: Record<string, unknown>,
  ): Promise<{ execution_id: string; status: string; rerun_of: string }> {
    return this.request(
      'POST',
      `/api/executions/${encodeURIComponent(executionId)}/rerun`,
      workload !== undefined ? { workload } : {},
    );
  }

  cleanup(
    olderThanMinutes: number,
    dryRun: boolean,
  ): Promise<{ cancelled_count: number; execution_ids: string[]; message: string; dry_run?: boolean }> {
    return this.request('POST', '/api/executions/cleanup', {
      older_than_minutes: olderThanMinutes,
      dry_run: dryRun,
    });
  }

  /** `POST /api/postgres/execute`: SQL against the noetl database. */
  query(
    sql: string,
    schema?: string,
  ): Promise<{
    status: string;
    result: Record<string, unknown>[];
    row_count: number | null;
    fields: unknown[];
  }> {
    return this.request('POST', '/api/postgres/execute', {
      query: sql,
      ...(schema !== undefined ? { schema } : {}),
    });
  }

  dbInit(): Promise<{ status: string; message: string; valid: boolean; applied: string[] }> {
    return this.request('POST', '/api/db/init', {});
  }

  dbValidate(): Promise<{
    status: string;
    message: string;
    valid: boolean;
    tables?: unknown;
    missing: string[];
    pending_migrations: string[];
  }> {
    return this.request('GET', '/api/db/validate');
  }

  registerWorker(body: Record<string, unknown>): Promise<unknown> {
    return this.request('POST', '/api/worker/pool/register', body);
  }

  heartbeat(name: string): Promise<unknown> {
    return this.request('POST', '/api/worker/pool/heartbeat', { name, kind: 'worker_pool' });
  }

  deregister(name: string): Promise<unknown> {
    return this.request('DELETE', '/api/worker/pool/deregister', { name, kind: 'worker_pool' });
  }
}
