import http from 'node:http';
import https from 'node:https';

/** What one HTTP exchange gave back. */
export interface HttpReply {
  readonly status: number;
  readonly text: string;
}

export interface HttpCall {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Sending it twice changes nothing: it may go again when a kept-alive socket was stale. */
  readonly idempotent?: boolean;
}

/** Errors of a kept-alive socket the server closed as the request went out. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

/**
 * HTTP/1.1 over node:http with kept-alive connections. A worker makes two small requests per
 * step; node:http costs a fraction of the CPU `fetch` does (no web streams, no AbortSignal per
 * request), which on a small machine is throughput (docs/benchmarks.md, "Distributed").
 */
export class HttpTransport {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256 });

  async send(call: HttpCall): Promise<HttpReply> {
    try {
      return await this.once(call);
    } catch (err) {
      // A kept-alive socket the server closed just as it was reused (its idle timeout): the
      // request most likely never reached a handler, but only a request that may run twice is
      // sent again, on a fresh socket.
      if (err instanceof StaleSocketError && call.idempotent === true) return this.once(call);
      throw err instanceof StaleSocketError ? err.original : err;
    }
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private once(call: HttpCall): Promise<HttpReply> {
    const secure = call.url.protocol === 'https:';
    return new Promise<HttpReply>((resolve, reject) => {
      const headers: Record<string, string | number> = { ...call.headers };
      const body = call.body === undefined ? undefined : Buffer.from(call.body);
      if (body) headers['content-length'] = body.length;
      const req = (secure ? https : http).request(call.url, {
        method: call.method,
        headers,
        agent: secure ? this.httpsAgent : this.httpAgent,
        ...(call.signal ? { signal: call.signal } : {}),
      });
      const timer = setTimeout(() => {
        req.destroy(new Error(`no answer within ${call.timeoutMs} ms`));
      }, call.timeoutMs);
      timer.unref();
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const stale = req.reusedSocket && err.code !== undefined && STALE_SOCKET_CODES.has(err.code);
        reject(stale ? new StaleSocketError(err) : err);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(body);
    });
  }
}

class StaleSocketError extends Error {
  constructor(readonly original: Error) {
    super(original.message, { cause: original });
  }
}
