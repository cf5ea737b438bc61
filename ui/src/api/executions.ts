import { getWithHeaders, query } from './client.js';
import type { ExecutionSummary } from './types.js';

export interface ExecutionFilter {
  status?: string;
  path?: string;
  q?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string | null;
}

export interface ExecutionPage {
  items: ExecutionSummary[];
  nextCursor: string | null;
}

/**
 * One page of `GET /api/executions`, newest first. The body is the contract's array; the
 * `X-Next-Cursor` header pages on (keyset), absent on the last page and on older servers.
 */
export async function listExecutions(f: ExecutionFilter, signal?: AbortSignal): Promise<ExecutionPage> {
  const { body, headers } = await getWithHeaders<ExecutionSummary[]>(
    `/api/executions${query({
      status: f.status,
      path: f.path,
      q: f.q,
      since: f.since,
      until: f.until,
      limit: f.limit ?? 50,
      cursor: f.cursor,
    })}`,
    signal,
  );
  return { items: body, nextCursor: headers.get('x-next-cursor') };
}
