import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { renderDocsPage } from './docs-page.js';

export interface OpenApiOptions {
  readonly version: string;
  readonly serverUrl?: string;
  /** Whether routes need a bearer token (documents the security scheme). */
  readonly secured: boolean;
}

/**
 * Registers @fastify/swagger (it collects every route registered afterwards, including plugins
 * added later) and serves the document at `/openapi.json` and a readable page at `/docs`.
 * Call before registering routes.
 */
export async function installOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'noetl control plane',
        version: options.version,
        description:
          'NoETL HTTP API: catalog, credentials, executions and events over an event log. Snowflake ids are decimal strings.',
      },
      ...(options.serverUrl === undefined ? {} : { servers: [{ url: options.serverUrl }] }),
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      ...(options.secured ? { security: [{ bearer: [] }] } : {}),
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  app.get('/docs', { schema: { hide: true } }, (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(renderDocsPage(app.swagger())),
  );
}
