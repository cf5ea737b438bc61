import type { FastifyInstance } from 'fastify';
import { NoetlError, NotFoundError, isPlainObject, wire } from '../../shared/index.js';
import type { JsonObject, JsonValue } from '../../shared/index.js';
import type { CredentialSummary } from '../../store/index.js';
import type { RouteContext } from './context.js';

/**
 * Credentials (contract 4.1, 9). `data` is sealed with the envelope cipher before it reaches the
 * store and is returned only by `GET /api/credentials/{id-or-name}?include_data=true`;
 * `?include_fields=true` gives the names of its fields without their values (the UI's editor).
 */

interface UpsertBody {
  readonly name: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly meta?: JsonValue;
  readonly tags?: string[];
  readonly description?: string;
  readonly schema?: JsonValue;
}
interface PatchBody {
  readonly name?: string;
  readonly type?: string;
  readonly data?: Record<string, JsonValue | null>;
  readonly meta?: JsonValue;
  readonly tags?: string[];
  readonly description?: string;
  readonly schema?: JsonValue;
}
interface ListQuery {
  readonly type?: string;
  readonly q?: string;
}
interface OneParams {
  readonly key: string;
}
interface OneQuery {
  readonly include_data?: boolean;
  readonly include_fields?: boolean;
  readonly execution_id?: string;
  readonly parent_execution_id?: string;
}

const tags = ['credentials'];
/**
 * Credential names: never all digits, so `/api/credentials/{key}` is unambiguous (issue 10 item
 * 21): digits are an id, anything else a name; a name cannot shadow another credential's id.
 */
export const NAME_PATTERN = '^(?![0-9]+$)[A-Za-z0-9_.:@/-]{1,256}$';
const NAME_RE = new RegExp(NAME_PATTERN);

/** Refuses a credential name the routes would refuse (for callers outside their schemas). */
export function checkCredentialName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new NoetlError(
      'BAD_REQUEST',
      `credential name '${name.slice(0, 64)}' must be 1-256 of A-Z a-z 0-9 _ . : @ / - and not all digits`,
    );
  }
  return name;
}

export function credentialSummary(c: CredentialSummary): wire.CredentialSummary {
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    meta: c.meta,
    tags: [...c.tags],
    description: c.description,
    schema: c.schema,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

const oneParams = {
  type: 'object',
  required: ['key'],
  properties: { key: { type: 'string', minLength: 1, maxLength: 256, description: 'credential id or name' } },
} as const;

export function registerCredentialRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, cipher } = ctx;

  app.post<{ Body: UpsertBody }>(
    '/api/credentials',
    {
      schema: {
        tags,
        summary: 'Create or replace a credential by name (data is encrypted at rest)',
        response: { 200: wire.CredentialSummary },
        body: {
          type: 'object',
          required: ['name', 'type', 'data'],
          properties: {
            name: {
              type: 'string',
              pattern: NAME_PATTERN,
              description: 'alias used by `auth:` in playbooks; not all digits (digits are ids)',
            },
            type: { type: 'string', minLength: 1, maxLength: 64 },
            data: { type: 'object', additionalProperties: true },
            meta: {},
            tags: { type: 'array', items: { type: 'string', maxLength: 256 }, maxItems: 256 },
            description: { type: 'string', maxLength: 4096 },
            schema: {},
          },
        },
      },
    },
    async (request) => {
      const b = request.body;
      const saved = await store.credentials.upsert({
        name: b.name,
        type: b.type,
        dataEncrypted: cipher.seal(b.data),
        ...(b.meta === undefined ? {} : { meta: b.meta }),
        ...(b.tags === undefined ? {} : { tags: b.tags }),
        ...(b.description === undefined ? {} : { description: b.description }),
        ...(b.schema === undefined ? {} : { schema: b.schema }),
      });
      return credentialSummary(saved);
    },
  );

  app.get<{ Querystring: ListQuery }>(
    '/api/credentials',
    {
      schema: {
        tags,
        summary: 'List credentials (never their data)',
        querystring: {
          type: 'object',
          properties: { type: { type: 'string' }, q: { type: 'string', maxLength: 256 } },
        },
        response: { 200: wire.CredentialList },
      },
    },
    async (request) => {
      const { type, q } = request.query;
      const items = await store.credentials.list({
        ...(type === undefined ? {} : { type }),
        ...(q === undefined ? {} : { q }),
      });
      return { items: items.map(credentialSummary), filter: { type: type ?? null, q: q ?? null } };
    },
  );

  app.get<{ Params: OneParams; Querystring: OneQuery }>(
    '/api/credentials/:key',
    {
      schema: {
        tags,
        summary: 'One credential; its decrypted data only with include_data=true',
        response: { 200: wire.CredentialDetail },
        description:
          'include_fields=true adds `fields`, the names of its data fields (never their values), for editors.',
        params: oneParams,
        querystring: {
          type: 'object',
          properties: {
            include_data: { type: 'boolean' },
            include_fields: { type: 'boolean' },
            execution_id: { type: 'string' },
            parent_execution_id: { type: 'string' },
          },
        },
      },
    },
    async (request) => {
      const record = await store.credentials.get(request.params.key);
      if (!record) throw new NotFoundError(`no credential '${request.params.key}'`);
      const summary = credentialSummary(record);
      if (request.query.include_data !== true) {
        if (request.query.include_fields !== true) return summary;
        const opened = cipher.open(record.dataEncrypted);
        return { ...summary, fields: isPlainObject(opened) ? Object.keys(opened).sort() : [] };
      }
      request.log.info(
        {
          credential: record.name,
          execution_id: request.query.execution_id,
          parent_execution_id: request.query.parent_execution_id,
        },
        'credential data read',
      );
      return { ...summary, data: cipher.open(record.dataEncrypted) };
    },
  );

  app.patch<{ Params: OneParams; Body: PatchBody }>(
    '/api/credentials/:key',
    {
      schema: {
        tags,
        summary: 'Merge update: given fields of data are set (null removes one), the others kept',
        response: { 200: wire.CredentialSummary },
        params: oneParams,
        body: {
          type: 'object',
          properties: {
            name: { type: 'string', pattern: NAME_PATTERN },
            type: { type: 'string', minLength: 1, maxLength: 64 },
            data: { type: 'object', additionalProperties: true },
            meta: {},
            tags: { type: 'array', items: { type: 'string', maxLength: 256 }, maxItems: 256 },
            description: { type: 'string', maxLength: 4096 },
            schema: {},
          },
        },
      },
    },
    async (request) => {
      const b = request.body;
      const found = await store.credentials.get(request.params.key);
      if (!found) throw new NotFoundError(`no credential '${request.params.key}'`);
      const saved = await store.tx(async (tx) => {
        // Locked: two merges of one credential apply one after the other, none is lost.
        const current = await tx.credentials.getForUpdate(found.id);
        if (!current) throw new NotFoundError(`no credential '${request.params.key}'`);
        let dataEncrypted = current.dataEncrypted;
        if (b.data !== undefined) {
          const opened = cipher.open(current.dataEncrypted);
          const data: Record<string, JsonValue> = isPlainObject(opened) ? { ...opened } : {};
          for (const [field, value] of Object.entries(b.data)) {
            if (value === null) delete data[field];
            else data[field] = value;
          }
          dataEncrypted = cipher.seal(data);
        }
        const description = b.description ?? current.description;
        const schema = b.schema ?? current.schema;
        const meta = b.meta ?? current.meta;
        return tx.credentials.update(current.id, {
          name: b.name ?? current.name,
          type: b.type ?? current.type,
          dataEncrypted,
          tags: b.tags ?? current.tags,
          ...(description === null ? {} : { description }),
          ...(schema === null ? {} : { schema }),
          ...(meta === null ? {} : { meta }),
        });
      });
      if (!saved) throw new NotFoundError(`no credential '${request.params.key}'`);
      return credentialSummary(saved);
    },
  );

  app.delete<{ Params: OneParams }>(
    '/api/credentials/:key',
    {
      schema: {
        tags,
        summary: 'Delete a credential',
        params: oneParams,
        response: { 200: wire.CredentialDeleted },
      },
    },
    async (request) => {
      const record = await store.credentials.get(request.params.key);
      if (!record || !(await store.credentials.delete(record.id))) {
        throw new NotFoundError(`no credential '${request.params.key}'`);
      }
      return { status: 'deleted', id: record.id, name: record.name };
    },
  );
}
