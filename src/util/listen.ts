/**
 * Binding a listener, the same way for every protocol: `host` '::' means dual-stack (every
 * IPv6 and IPv4 address); on a machine without IPv6 it falls back to every IPv4 address.
 */
import type { Server } from 'node:net';

let beforeListen: ((server: Server) => void) | null = null;
const prepared = new WeakSet<Server>();

/**
 * A hook every listener of this process goes through once, before it listens. A cluster node
 * (one broker per process) sets it so that its listeners accept PROXY headers from the other
 * nodes (src/cluster/proxy/proxy-accept.ts); null (the default) changes nothing.
 */
export function setBeforeListen(hook: ((server: Server) => void) | null): void {
  beforeListen = hook;
}

/** @param viaHook false for a listener that must not go through `setBeforeListen`'s hook (a standby's forwarding ports) */
export async function listenDualStack(server: Server, port: number, host: string, viaHook = true): Promise<void> {
  if (viaHook && beforeListen && !prepared.has(server)) {
    prepared.add(server);
    beforeListen(server);
  }
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
