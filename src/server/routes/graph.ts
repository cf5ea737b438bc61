import type { FastifyInstance } from 'fastify';
import { parsePlaybook, type Playbook, type Step } from '../../dsl/index.js';
import { entryStep, graphOf } from '../../engine/index.js';
import { NoetlError, NotFoundError, wire } from '../../shared/index.js';
import type { JsonValue } from '../../shared/index.js';
import { decodeContent } from './catalog-content.js';
import type { RouteContext } from './context.js';

/**
 * `POST /api/catalog/graph` (issue 13): a playbook's diagnostics and graph (steps, arcs with
 * their `when`, loops, fan-in) for the web UI's catalog and execution pages. The graph is what the
 * engine reads: the validated playbook, its entry step and its forward upstreams.
 */

interface GraphBody {
  readonly content?: string;
  readonly path?: string;
  readonly version?: number | string;
}

/** The graph of a playbook as the web UI draws it (the wire model's PlaybookGraph). */
export type PlaybookGraphView = wire.PlaybookGraph;
type GraphStep = wire.GraphStep;

function stepKind(step: Step): string {
  if (!step.tool) return 'router';
  if (step.tool.shape === 'pipeline') return 'pipeline';
  return step.tool.tasks[0]?.kind ?? 'router';
}

export function playbookGraph(playbook: Playbook): PlaybookGraphView {
  const entry = entryStep(playbook);
  const facts = graphOf(playbook, entry);
  const steps = playbook.workflow.map((step): GraphStep => {
    const loop = step.loop;
    return {
      name: step.name,
      kind: stepKind(step),
      ...(step.desc !== undefined ? { desc: step.desc } : {}),
      ...(loop
        ? {
            loop: {
              mode: loop.mode,
              ...(loop.mode === 'parallel' && loop.maxInFlight !== undefined
                ? { max_in_flight: loop.maxInFlight }
                : {}),
              over: (loop.in ?? null) as JsonValue,
            },
          }
        : {}),
      ...((facts.upstreams.get(step.name)?.length ?? 0) >= 2 ? { fan_in: true as const } : {}),
    };
  });
  const arcs = playbook.workflow.flatMap((step) =>
    (step.next?.arcs ?? []).map((arc) => ({
      from: step.name,
      to: arc.step,
      ...(arc.when !== undefined ? { when: String(arc.when) } : {}),
    })),
  );
  return { entry, steps, arcs };
}

export function registerGraphRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: GraphBody }>(
    '/api/catalog/graph',
    {
      schema: {
        tags: ['catalog'],
        summary: "A playbook's diagnostics and graph, from YAML or a catalog entry",
        body: {
          type: 'object',
          properties: {
            content: { type: 'string', maxLength: 5_000_000 },
            path: { type: 'string', minLength: 1, maxLength: 1024 },
            version: {
              anyOf: [
                { type: 'integer', minimum: 1 },
                { type: 'string', pattern: '^(latest|[0-9]{1,9})$' },
              ],
            },
          },
        },
        response: { 200: wire.GraphAnswer },
      },
    },
    async (request) => {
      const { content, path, version } = request.body;
      let text: string;
      if (content !== undefined) {
        text = decodeContent(content);
      } else if (path !== undefined) {
        const v = version === undefined || version === 'latest' ? 'latest' : Number(version);
        const record = await ctx.store.catalog.getByPath(path, v);
        if (!record)
          throw new NotFoundError(`no catalog entry '${path}' version ${String(version ?? 'latest')}`);
        text = record.content ?? '';
      } else {
        throw new NoetlError('BAD_REQUEST', 'send `content` (YAML) or `path` (a catalog entry)');
      }
      const parsed = parsePlaybook(text, { mode: 'server', limits: ctx.config.playbookLimits });
      return {
        valid: !parsed.diagnostics.some((d) => d.severity === 'error'),
        diagnostics: parsed.diagnostics.map((d) => ({
          code: d.code,
          severity: d.severity,
          message: d.message,
          line: d.line,
          col: d.column,
          path: d.path,
        })),
        graph: parsed.playbook ? playbookGraph(parsed.playbook) : null,
      };
    },
  );
}
