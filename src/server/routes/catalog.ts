import type { FastifyInstance } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { NoetlError, NotFoundError, isPlainObject, wire } from '../../shared/index.js';
import type { JsonObject } from '../../shared/index.js';
import type { CatalogRecord } from '../../store/index.js';
import {
  parseResource,
  playbookWarnings,
  refuseInvalidPlaybook,
  type ParsedResource,
} from './catalog-content.js';
import type { RouteContext } from './context.js';
import { checkCredentialName, credentialSummary } from './credentials.js';
import { idInput, nonEmptyString, toId } from './schemas.js';
import { inferUiFields } from './ui-schema.js';

/** The catalog of versioned resources (contract 4.1). */

interface RegisterBody {
  readonly content: string;
  readonly resource_type?: string;
  readonly strict?: boolean;
}
interface ListBody {
  readonly resource_type?: string;
  readonly include_archived?: boolean;
  readonly path?: string;
  readonly limit?: number;
}
interface ResourceBody {
  readonly catalog_id?: string | number;
  readonly path?: string;
  readonly version?: string | number;
}
interface PathVersionBody {
  readonly path: string;
  readonly version?: string | number;
}

const versionInput = {
  anyOf: [
    { type: 'integer', minimum: 1 },
    { type: 'string', pattern: '^(latest|[0-9]{1,9})$' },
  ],
} as const;

const tags = ['catalog'];

export function catalogEntry(r: CatalogRecord): wire.CatalogEntry {
  return {
    catalog_id: r.catalogId,
    path: r.path,
    kind: r.kind,
    version: r.version,
    content: r.content,
    layout: r.layout,
    payload: r.payload,
    meta: r.meta,
    archived: r.archived,
    created_at: r.createdAt,
  };
}

function versionOf(value: string | number | undefined): number | 'latest' {
  if (value === undefined || value === 'latest') return 'latest';
  return typeof value === 'number' ? value : Number(value);
}

/**
 * A `kind: Credential` document (`metadata.name`, `spec.{type, data}`, or NoETL's flat
 * `{name, type, data}`), as the CLI reads credential files; a 422 when it lacks one of them.
 */
function credentialOf(resource: ParsedResource): {
  name: string;
  type: string;
  data: JsonObject;
  description?: string;
} {
  const doc = resource.document;
  const metadata = isPlainObject(doc['metadata']) ? doc['metadata'] : {};
  const spec = isPlainObject(doc['spec']) ? doc['spec'] : {};
  const name = metadata['name'];
  const type = spec['type'] ?? doc['type'];
  const data = spec['data'] ?? doc['data'];
  if (typeof name !== 'string' || typeof type !== 'string' || type === '' || !isPlainObject(data)) {
    throw new NoetlError(
      'PLAYBOOK_INVALID',
      'a Credential needs metadata.name, spec.type and a spec.data map; it is stored encrypted, never in the catalog',
    );
  }
  const description = metadata['description'] ?? doc['description'];
  return {
    name: checkCredentialName(name.trim()),
    type,
    data: data as JsonObject,
    ...(typeof description === 'string' ? { description } : {}),
  };
}

export function registerCatalogRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, cipher } = ctx;

  app.post<{ Body: RegisterBody; Querystring: { strict?: boolean } }>(
    '/api/catalog/register',
    {
      schema: {
        tags,
        summary: 'Register a resource (playbook...) as a new version of its path',
        description:
          'content: YAML, plain or base64. path = metadata.path else metadata.name; version = max + 1. A playbook with an error diagnostic is refused: 422 PLAYBOOK_INVALID with every diagnostic `{code, severity, message, path, line, column}` in `details.diagnostics`; warnings come back as `warnings` with the registration. `strict` (body or query, or NOETL_STRICT=1 on the server) makes warnings errors. Content identical to the latest version of its path is not stored again: that version is returned with `unchanged: true`. A `kind: Credential` document is stored in the encrypted credential store instead (answer: `{status, message, path, kind: "credential", credential}`), never in the catalog.',
        querystring: { type: 'object', properties: { strict: { type: 'boolean' } } },
        body: {
          type: 'object',
          required: ['content'],
          properties: {
            content: { type: 'string', minLength: 1 },
            resource_type: { type: 'string' },
            strict: { type: 'boolean' },
          },
        },
        response: { 200: wire.RegisterAnswer },
      },
    },
    async (request): Promise<wire.RegisterAnswer> => {
      const resource = parseResource(
        request.body.content,
        request.body.resource_type,
        ctx.config.playbookLimits,
      );
      if (resource.kind === 'credential') {
        // Secrets go to the encrypted credential store, as `noetl register credential` sends them;
        // the catalog keeps resources in clear and lists them to anyone with the API token.
        const c = credentialOf(resource);
        const saved = await store.credentials.upsert({
          name: c.name,
          type: c.type,
          dataEncrypted: cipher.seal(c.data),
          ...(c.description === undefined ? {} : { description: c.description }),
        });
        return {
          status: 'success',
          message: `Credential '${saved.name}' stored (encrypted); credentials are not kept in the catalog.`,
          path: saved.name,
          kind: 'credential',
          credential: credentialSummary(saved),
          warnings: [],
        };
      }
      const strict =
        request.body.strict === true || request.query.strict === true || ctx.config.playbookStrict;
      const diagnostics = playbookWarnings(resource, strict);
      refuseInvalidPlaybook(resource, diagnostics);
      const latest = await store.catalog.getByPath(resource.path, 'latest');
      if (latest && latest.kind === resource.kind && latest.content === resource.text) {
        return {
          status: 'success',
          message: `Resource '${latest.path}' version '${latest.version}' is unchanged.`,
          path: latest.path,
          version: latest.version,
          catalog_id: latest.catalogId,
          kind: latest.kind,
          unchanged: true,
          warnings: diagnostics,
        };
      }
      const record = await store.catalog.register({
        path: resource.path,
        kind: resource.kind,
        content: resource.text,
        ...(resource.workload === undefined ? {} : { payload: resource.workload }),
        ...(resource.workflow === undefined ? {} : { layout: resource.workflow }),
        ...(resource.labels === undefined ? {} : { meta: resource.labels }),
      });
      return {
        status: 'success',
        message: `Resource '${record.path}' version '${record.version}' registered.`,
        path: record.path,
        version: record.version,
        catalog_id: record.catalogId,
        kind: record.kind,
        unchanged: false,
        warnings: diagnostics,
      };
    },
  );

  app.post<{ Body: ListBody | undefined }>(
    '/api/catalog/list',
    {
      schema: {
        tags,
        summary: 'List catalog entries, newest first',
        body: {
          type: ['object', 'null'],
          properties: {
            resource_type: { type: 'string' },
            include_archived: { type: 'boolean' },
            path: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 10000 },
          },
        },
        response: { 200: wire.CatalogList },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      const entries = await store.catalog.list({
        ...(body.resource_type === undefined ? {} : { kind: body.resource_type }),
        ...(body.path === undefined ? {} : { path: body.path }),
        includeArchived: body.include_archived ?? false,
        ...(body.limit === undefined ? {} : { limit: body.limit }),
      });
      return { entries: entries.map(catalogEntry) };
    },
  );

  app.post<{ Body: ResourceBody }>(
    '/api/catalog/resource',
    {
      schema: {
        tags,
        summary: 'One catalog entry by catalog_id, or by path and version (default latest)',
        body: {
          type: 'object',
          properties: { catalog_id: idInput, path: nonEmptyString, version: versionInput },
        },
        response: { 200: wire.CatalogEntry },
      },
    },
    async (request) => {
      const { catalog_id: id, path, version } = request.body;
      let record: CatalogRecord | undefined;
      if (id !== undefined) record = await store.catalog.get(toId(id, 'catalog_id'));
      else if (path !== undefined) record = await store.catalog.getByPath(path, versionOf(version));
      else throw new NoetlError('BAD_REQUEST', 'give `catalog_id` or `path`');
      if (!record) {
        const what =
          id !== undefined
            ? `catalog_id ${String(id)}`
            : `'${path ?? ''}' version ${String(version ?? 'latest')}`;
        throw new NotFoundError(`no catalog entry ${what}`);
      }
      return catalogEntry(record);
    },
  );

  const pathVersionSchema = {
    type: 'object',
    required: ['path'],
    properties: { path: nonEmptyString, version: { type: 'integer', minimum: 1 } },
  } as const;

  app.post<{ Body: PathVersionBody }>(
    '/api/catalog/delete',
    {
      schema: {
        tags,
        summary: 'Delete one version or all versions of a path (internal token)',
        description: 'Versions that executions refer to are archived instead of deleted.',
        body: pathVersionSchema,
        response: { 200: wire.CatalogDeleted },
      },
      preHandler: ctx.requireInternalToken,
    },
    async (request) => {
      const { path, version } = request.body;
      const v = version === undefined ? undefined : Number(version);
      const deleted = await store.catalog.delete(path, v);
      if (deleted.length === 0)
        throw new NotFoundError(`no catalog entry '${path}'${v ? ` version ${v}` : ''}`);
      const archived = deleted.filter((d) => d.archived).length;
      return {
        status: 'success',
        message: `Deleted ${deleted.length - archived} and archived ${archived} version(s) of '${path}'.`,
        path,
        deleted: deleted.map((d) => ({ catalog_id: d.catalogId, version: d.version, archived: d.archived })),
        count: deleted.length,
      };
    },
  );

  app.post<{ Body: PathVersionBody }>(
    '/api/catalog/restore',
    {
      schema: {
        tags,
        summary: 'Restore archived versions of a path (internal token)',
        body: pathVersionSchema,
        response: { 200: wire.CatalogRestored },
      },
      preHandler: ctx.requireInternalToken,
    },
    async (request) => {
      const { path, version } = request.body;
      const v = version === undefined ? undefined : Number(version);
      const restored = await store.catalog.restore(path, v);
      if (restored.length === 0)
        throw new NotFoundError(`no archived catalog entry '${path}'${v ? ` version ${v}` : ''}`);
      return {
        status: 'success',
        message: `Restored ${restored.length} version(s) of '${path}'.`,
        path,
        restored: restored.map((r) => ({ catalog_id: r.catalogId, version: r.version })),
        count: restored.length,
      };
    },
  );

  app.get<{ Params: { '*': string }; Querystring: { version?: string | number } }>(
    '/api/catalog/*',
    {
      schema: {
        tags,
        summary: 'GET /api/catalog/{path}/ui_schema: the run form inferred from the workload',
        params: { type: 'object', properties: { '*': { type: 'string' } } },
        querystring: { type: 'object', properties: { version: versionInput } },
        response: { 200: wire.UiSchema },
      },
    },
    async (request) => {
      const rest = request.params['*'];
      const m = /^(.+)\/ui_schema\/?$/.exec(rest);
      if (!m?.[1]) throw new NotFoundError(`no route GET /api/catalog/${rest}`);
      const path = m[1];
      const record = await store.catalog.getByPath(path, versionOf(request.query.version));
      if (!record) throw new NotFoundError(`no catalog entry '${path}'`);
      const text = record.content ?? '';
      let metadata: Record<string, unknown> = {};
      try {
        const doc: unknown = parseYaml(text);
        if (isPlainObject(doc) && isPlainObject(doc['metadata'])) metadata = doc['metadata'];
      } catch {
        // a stored resource that does not parse has no form
      }
      return {
        path: record.path,
        version: record.version,
        kind: record.kind,
        title: typeof metadata['name'] === 'string' ? metadata['name'] : null,
        description_markdown: typeof metadata['description'] === 'string' ? metadata['description'] : null,
        exposed_in_ui: metadata['exposed_in_ui'] === true,
        fields: inferUiFields(text),
        generated_at: new Date(ctx.clock.now()).toISOString(),
      };
    },
  );
}
