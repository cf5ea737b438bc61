import { ApiError, post } from './client.js';
import type { GraphAnswer } from './types.js';

/**
 * `POST /api/catalog/graph`: the playbook's steps and arcs plus its diagnostics. Null when the
 * server has no such route (older servers): callers draw what they know instead.
 */
export async function fetchGraph(
  body: { content: string } | { path: string; version?: number | string },
): Promise<GraphAnswer | null> {
  try {
    return await post<GraphAnswer>('/api/catalog/graph', body);
  } catch (err) {
    if (err instanceof ApiError && err.missingRoute) return null;
    throw err;
  }
}
