import { connect, createServer } from 'node:net';
import { ConflictError, NoetlError } from '../../shared/index.js';

function canBind(port: number, host: string): Promise<true | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function accepts(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Fails with CONFLICT naming the port when something listens on it: a bind test on the
 * address the process will use, and a connect test on the loopback (catches listeners the bind
 * test misses, e.g. on another address family).
 */
export async function ensurePortFree(port: number, host: string, what: string, hint: string): Promise<void> {
  if (port === 0) return;
  const bound = await canBind(port, host);
  if (bound !== true) {
    if (bound.code === 'EADDRINUSE' || bound.code === 'EACCES') {
      throw new ConflictError(`port ${port} is already in use (${what} cannot listen on ${host}:${port})`, {
        details: { port, hint },
      });
    }
    throw new NoetlError('USAGE', `cannot listen on ${host}:${port}: ${bound.message}`, {
      details: { port },
    });
  }
  const loopback = host.includes(':') ? '::1' : '127.0.0.1';
  if (await accepts(port, host === '0.0.0.0' || host === '::' ? loopback : host)) {
    throw new ConflictError(`port ${port} is already in use (${what} cannot listen on ${host}:${port})`, {
      details: { port, hint },
    });
  }
}

/** A port nothing listens on now (the OS picks it). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function isPortFree(port: number, host: string): Promise<boolean> {
  return (await canBind(port, host)) === true;
}
