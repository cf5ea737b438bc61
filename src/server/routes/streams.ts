import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TERMINAL_EVENT_TYPES, type EventType } from '../../engine/index.js';
import { NoetlError, NotFoundError } from '../../shared/index.js';
import type { EventRecord, EventRef } from '../../store/index.js';
import { EventFeed, type EventFeedOptions } from '../event-feed.js';
import { eventView } from '../orchestrator/views.js';
import type { RouteContext } from './context.js';

/**
 * Server-sent events from the event log (issue 13): one execution's events from the start (or
 * after an id) until its terminal event, or every new event of every execution. Messages are
 * `id: <event_id>`, `event: <event_type>`, `data: <the event as GET .../events lists it>`.
 */

const ID = { type: 'string', pattern: '^[0-9]{1,20}$' } as const;
const tags = ['executions'];
const HISTORY_PAGE = 1000;
/** A client this far behind is dropped; it resumes with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface StreamOptions extends EventFeedOptions {
  /** Comment line sent while nothing happens. Default 15 s. */
  readonly pingMs?: number;
}

function isTerminal(type: string): boolean {
  return TERMINAL_EVENT_TYPES.has(type as EventType);
}

/** `Last-Event-ID` wins over `?after=`; either must be an event id. */
function resumeAfter(request: FastifyRequest, after: string | undefined): string | undefined {
  const header = request.headers['last-event-id'];
  const value = typeof header === 'string' && header.trim() !== '' ? header.trim() : after;
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,20}$/.test(value)) throw new NoetlError('BAD_REQUEST', 'Last-Event-ID must be an event id');
  return value;
}

function message(e: EventRecord): string {
  const data = JSON.stringify(eventView(e));
  return `id: ${e.eventId}\nevent: ${e.eventType}\ndata: ${data}\n\n`;
}

/** One open stream: writes messages, pings, ends once, and tells its owner when the client left. */
class SseStream {
  private sent = new Set<string>();
  private ended = false;
  private readonly ping: NodeJS.Timeout;
  private readonly onEnd: (() => void)[] = [];

  constructor(
    private readonly reply: FastifyReply,
    pingMs: number,
    private dedupe: boolean,
  ) {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.write('retry: 1000\n\n');
    this.ping = setInterval(() => this.write(': ping\n\n'), pingMs);
    this.ping.unref();
    res.on('close', () => this.end());
  }

  /** Stops remembering sent ids (history and live no longer overlap). */
  stopDedupe(afterMs: number): void {
    setTimeout(() => {
      this.dedupe = false;
      this.sent = new Set();
    }, afterMs).unref();
  }

  get closed(): boolean {
    return this.ended;
  }

  whenEnded(fn: () => void): void {
    if (this.ended) fn();
    else this.onEnd.push(fn);
  }

  /** Sends events not sent before; returns true when one was terminal. */
  send(events: readonly EventRecord[]): boolean {
    let terminal = false;
    for (const e of events) {
      if (this.ended) return terminal;
      if (this.dedupe) {
        if (this.sent.has(e.eventId)) continue;
        this.sent.add(e.eventId);
      }
      this.write(message(e));
      if (isTerminal(e.eventType)) terminal = true;
    }
    return terminal;
  }

  private write(chunk: string): void {
    if (this.ended) return;
    const res = this.reply.raw;
    res.write(chunk);
    if (res.writableLength > MAX_BUFFERED_BYTES) this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.ping);
    if (!this.reply.raw.writableEnded) this.reply.raw.end();
    for (const fn of this.onEnd.splice(0)) fn();
  }
}

export function registerStreamRoutes(
  app: FastifyInstance,
  ctx: RouteContext,
  options: StreamOptions = {},
): void {
  const { store } = ctx;
  const feed = new EventFeed(store, { logger: app.log, ...options });
  const pingMs = options.pingMs ?? 15_000;
  const open = new Set<SseStream>();
  app.addHook('preClose', async () => {
    for (const s of [...open]) s.end();
    await feed.stop();
  });
  const track = (s: SseStream): void => {
    open.add(s);
    s.whenEnded(() => open.delete(s));
  };

  app.get<{ Params: { id: string }; Querystring: { after?: string } }>(
    '/api/executions/:id/stream',
    {
      schema: {
        tags,
        summary: "Server-sent events: an execution's events from the start (or after an id) to its end",
        params: { type: 'object', required: ['id'], properties: { id: ID } },
        querystring: { type: 'object', properties: { after: ID } },
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      let after = resumeAfter(request, request.query.after);
      const exec = await store.executions.overview(id);
      if (!exec) throw new NotFoundError(`execution ${id} not found`);

      // Live events wait here until the history is written, then go out (without repeats).
      let pending: EventRecord[] | undefined = [];
      let done = false;
      const ref: { stream?: SseStream } = {};
      const finish = (): void => {
        done = true;
        ref.stream?.end();
      };
      // Subscribed before the answer starts (a 503 if the log cannot be read).
      const unsubscribe = await feed.subscribe({
        wants: (e: EventRef) => e.executionId === id,
        deliver: (events) => {
          if (pending || !ref.stream) pending?.push(...events);
          else if (ref.stream.send(events)) finish();
        },
      });
      const stream = (ref.stream = new SseStream(reply, pingMs, true));
      track(stream);
      stream.whenEnded(unsubscribe);
      try {
        while (!done && !stream.closed) {
          const page = await store.events.list(id, {
            ...(after !== undefined ? { afterEventId: after } : {}),
            limit: HISTORY_PAGE,
          });
          if (stream.send(page)) finish();
          const last = page[page.length - 1];
          if (last) after = last.eventId;
          if (page.length < HISTORY_PAGE) break;
        }
        if (!done && !stream.closed) {
          const live = pending ?? [];
          pending = undefined;
          if (stream.send(live)) finish();
        }
        // Finished without a terminal event in its log (an operator's finalize of an old log):
        // nothing more will come.
        if (!done && !stream.closed && (await store.executions.overview(id))?.status !== 'RUNNING') {
          const tail = await store.events.list(id, {
            ...(after !== undefined ? { afterEventId: after } : {}),
            limit: HISTORY_PAGE,
          });
          stream.send(tail);
          finish();
        }
      } catch (error) {
        request.log.warn({ err: error }, 'execution stream: reading the log failed');
        finish();
      }
    },
  );

  app.get<{ Querystring: { execution_id?: string; types?: string; after?: string } }>(
    '/api/events/stream',
    {
      schema: {
        tags,
        summary: 'Server-sent events: every new event of every execution (filters: execution_id, types)',
        querystring: {
          type: 'object',
          properties: {
            execution_id: ID,
            types: { type: 'string', maxLength: 1000 },
            after: ID,
          },
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      let after = resumeAfter(request, q.after);
      const executionId = q.execution_id;
      if (executionId !== undefined && !(await store.executions.overview(executionId))) {
        throw new NotFoundError(`execution ${executionId} not found`);
      }
      const types = q.types
        ? new Set(
            q.types
              .split(',')
              .map((t) => t.trim())
              .filter((t) => t !== ''),
          )
        : undefined;
      const wants = (ref: EventRef): boolean =>
        (executionId === undefined || ref.executionId === executionId) &&
        (types === undefined || types.has(ref.eventType));

      // Subscribed before the answer starts: "new" means after the client got the headers.
      let pending: EventRecord[] | undefined = [];
      const ref: { stream?: SseStream } = {};
      const unsubscribe = await feed.subscribe({
        wants,
        deliver: (events) => {
          if (pending || !ref.stream) pending?.push(...events);
          else ref.stream.send(events);
        },
      });
      // Deduplicated only while history and live events overlap.
      const stream = (ref.stream = new SseStream(reply, pingMs, after !== undefined));
      track(stream);
      stream.whenEnded(unsubscribe);
      if (after === undefined) {
        const live = pending;
        pending = undefined;
        stream.send(live);
        return;
      }
      try {
        while (!stream.closed) {
          const refs = await store.events.feed(after, HISTORY_PAGE);
          const mine = refs.filter(wants);
          if (mine.length > 0) stream.send(await store.events.getMany(mine));
          const last = refs[refs.length - 1];
          if (last) after = last.eventId;
          if (refs.length < HISTORY_PAGE) break;
        }
        const live = pending ?? [];
        pending = undefined;
        stream.send(live);
        // A live event may repeat one of the history for one poll at most (plus late commits).
        stream.stopDedupe(10_000);
      } catch (error) {
        request.log.warn({ err: error }, 'event stream: reading the log failed');
        stream.end();
      }
    },
  );
}
