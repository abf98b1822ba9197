/**
 * Binding a listener, the same way for every protocol: `host` '::' means dual-stack (every
 * IPv6 and IPv4 address); on a machine without IPv6 it falls back to every IPv4 address.
 */
import type { Server } from 'node:net';

export async function listenDualStack(server: Server, port: number, host: string): Promise<void> {
  try {
    await listenOnce(server, port, host);
  } catch (e) {
    if (host !== '::' || (e as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT') throw e;
    await listenOnce(server, port, '0.0.0.0');
  }
}

function listenOnce(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      server.off('listening', onListening);
      reject(e);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host });
  });
}

/** Stop accepting; resolves once the server has closed (at once when it never listened). */
export function closeServer(server: Server | null): Promise<void> {
  if (!server || !server.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}
