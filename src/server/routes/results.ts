import type { FastifyInstance } from 'fastify';
import { NoetlError, NotFoundError, wire } from '../../shared/index.js';
import {
  formatResultRef,
  isResultName,
  parseResultRef,
  RESULT_MAX_BYTES,
  storedJson,
} from '../../shared/index.js';
import type { RouteContext } from './context.js';
import { checkId, idString } from './schemas.js';

/**
 * The result store (contract 1.12): a worker stores a value (`PUT /api/result/{execution_id}`)
 * and gets back `noetl://execution/<eid>/result/<name>/<id>`, which any worker resolves
 * (`GET /api/result/resolve?ref=`). The `artifact` tool uses it, so a value one worker wrote is
 * read by another. Behind the API token like every route; values over 64 MiB are refused.
 */

interface PutBody {
  readonly name: string;
  readonly data: unknown;
  readonly scope?: string;
  readonly source_step?: string;
  readonly store?: string;
  readonly ttl?: unknown;
  readonly correlation?: unknown;
  readonly compress?: boolean;
  readonly media_type?: string;
}

const tags = ['results'];
/** The body holds the value plus a few short fields. */
const BODY_LIMIT = RESULT_MAX_BYTES + 64 * 1024;

export function registerResultRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store } = ctx;

  app.put<{ Params: { execution_id: string }; Body: PutBody }>(
    '/api/result/:execution_id',
    {
      bodyLimit: Math.max(BODY_LIMIT, ctx.config.bodyLimitBytes),
      schema: {
        tags,
        summary: 'Store a value by reference (the result store)',
        params: {
          type: 'object',
          required: ['execution_id'],
          properties: { execution_id: idString },
        },
        body: {
          type: 'object',
          required: ['name', 'data'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 256 },
            data: {},
            scope: { type: 'string', maxLength: 64 },
            source_step: { type: 'string', maxLength: 256 },
            store: { type: 'string', maxLength: 64 },
            ttl: {},
            correlation: {},
            compress: { type: 'boolean' },
            media_type: { type: 'string', maxLength: 128 },
          },
        },
        response: { 200: wire.ResultStored },
      },
    },
    async (request) => {
      const executionId = checkId(request.params.execution_id, 'execution_id');
      const body = request.body;
      if (!isResultName(body.name)) {
        throw new NoetlError(
          'BAD_REQUEST',
          `result name '${body.name.slice(0, 80)}' is not valid: use letters, digits, _ . - and / between parts`,
        );
      }
      const data = storedJson(body.data);
      const bytes = Buffer.byteLength(data, 'utf8');
      if (bytes > RESULT_MAX_BYTES) {
        throw new NoetlError(
          'PAYLOAD_TOO_LARGE',
          `the value is ${bytes} bytes; the result store keeps at most ${RESULT_MAX_BYTES}`,
          { details: { bytes, limit: RESULT_MAX_BYTES } },
        );
      }
      if (!(await store.executions.get(executionId))) {
        throw new NotFoundError(`execution ${executionId} not found`);
      }
      const row = await store.results.put({
        executionId,
        name: body.name,
        data,
        ...(body.scope !== undefined ? { scope: body.scope } : {}),
        ...(body.source_step !== undefined ? { sourceStep: body.source_step } : {}),
        ...(body.media_type !== undefined ? { mediaType: body.media_type } : {}),
      });
      return {
        ref: formatResultRef({ executionId, name: row.name, resultId: row.resultId }),
        store: 'db',
        scope: row.scope,
        bytes: row.bytes,
        sha256: row.sha256,
      };
    },
  );

  app.get<{ Querystring: { ref: string } }>(
    '/api/result/resolve',
    {
      schema: {
        tags,
        summary: 'The value a result reference names',
        querystring: {
          type: 'object',
          required: ['ref'],
          properties: { ref: { type: 'string', minLength: 1, maxLength: 1024 } },
        },
        response: { 200: wire.ResultValue },
      },
    },
    async (request, reply) => {
      const ref = parseResultRef(request.query.ref);
      if (!ref) {
        throw new NoetlError(
          'BAD_REQUEST',
          'ref must be noetl://execution/<execution_id>/result/<name>/<result_id>',
        );
      }
      const data = await store.results.get(ref.executionId, ref.name, ref.resultId);
      if (data === undefined) throw new NotFoundError(`result not found: ${request.query.ref}`);
      return reply.type('application/json').send(data);
    },
  );
}
