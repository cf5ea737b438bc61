import type { FastifyInstance, InjectOptions } from 'fastify';
import type { ClientTransport, HttpCall, HttpReply } from '../client/index.js';

/**
 * How the embedded server's own workers reach its API: each call is injected into the fastify app
 * (light-my-request) instead of going over a loopback socket. It passes the same hooks (API token,
 * Host check), body limit, schema validation and route handlers (the claim gate, ingest) as a
 * request from a remote worker; what it saves is the socket, HTTP framing and parsing on both ends
 * and two trips through the event loop's I/O phase per call.
 */
export class InProcessTransport implements ClientTransport {
  constructor(private readonly app: FastifyInstance) {}

  async send(call: HttpCall): Promise<HttpReply> {
    call.signal?.throwIfAborted();
    const options: InjectOptions = {
      method: call.method as NonNullable<InjectOptions['method']>,
      url: `${call.url.pathname}${call.url.search}`,
      // the Host a request to the server's own URL carries (the network guard checks it)
      headers: { ...call.headers, host: call.url.host },
      ...(call.body !== undefined ? { payload: call.body } : {}),
      ...(call.signal ? { signal: call.signal } : {}),
    };
    const res = await this.app.inject(options);
    return { status: res.statusCode, text: res.payload };
  }
}
