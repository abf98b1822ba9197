/**
 * The leader's side of proxied connections: on every plain (non-TLS) listener, a connection
 * from a cluster member may start with a PROXY v1 header (proxy-header.ts); it is read and
 * removed, and the socket then reports the client's address as its `remoteAddress`, so
 * loopback-only users, per-address logs and connection listings see the real client. Only
 * members are trusted: from anyone else the bytes reach the protocol as they came (a PROXY
 * line is then a protocol error there, so nobody can pose as another address).
 *
 * Installed on a server before it listens (util/listen.ts `setBeforeListen`): the server's
 * own 'connection' handlers are moved behind the header read. A connection from a member that
 * does not start with "PROXY " (a member's operator connecting directly) passes unchanged.
 */
import type { Server, Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { parseProxyV1, plainAddress, PROXY_V1_MAX } from './proxy-header.js';

const HEADER_TIMEOUT_MS = 5000;

export function acceptProxyHeaders(server: Server, trusted: (address: string) => boolean): void {
  if (server instanceof TlsServer) return; // TLS ports are not proxied (docs/clustering.md)
  const handlers = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  const deliver = (socket: Socket) => {
    for (const h of handlers) h.call(server, socket);
  };
  server.on('connection', (socket: Socket) => {
    if (!trusted(plainAddress(socket.remoteAddress))) return deliver(socket);
    readHeader(socket, deliver);
  });
}

function readHeader(socket: Socket, deliver: (socket: Socket) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), HEADER_TIMEOUT_MS);
  const done = (rest: Buffer) => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('error', onError);
    socket.pause();
    if (rest.length > 0) socket.unshift(rest);
    deliver(socket);
    // Adding a 'data' listener does not restart a stream paused explicitly: resume it for
    // handlers that read with 'data' (they pause it themselves later for backpressure).
    socket.resume();
  };
  const onError = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  const onData = (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const r = parseProxyV1(buf.subarray(0, PROXY_V1_MAX));
    if (r.kind === 'partial') return;
    if (r.kind === 'none') return done(buf);
    if (r.kind === 'invalid') return onError();
    if (r.address) {
      const a = r.address;
      Object.defineProperty(socket, 'remoteAddress', { value: a.sourceAddress, configurable: true });
      Object.defineProperty(socket, 'remotePort', { value: a.sourcePort, configurable: true });
      Object.defineProperty(socket, 'remoteFamily', { value: a.family, configurable: true });
    }
    done(buf.subarray(r.length));
  };
  socket.on('data', onData);
  socket.on('error', onError);
}
