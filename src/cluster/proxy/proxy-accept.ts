/**
 * The leader's side of proxied connections: on every client listener, a connection from a
 * cluster member may start with a PROXY v1 header (proxy-header.ts); it is read and removed,
 * and the socket then reports the client's address as its `remoteAddress`, so loopback-only
 * users, per-address logs and connection listings see the real client. Only members are
 * trusted: from anyone else the bytes reach the protocol as they came (a PROXY line is then a
 * protocol error there, so nobody can pose as another address).
 *
 * TLS listeners too: a standby forwards the client's TLS bytes unopened behind the header
 * (docs/clustering.md, "Finding the leader"), so the header is read from the raw socket
 * before the TLS handshake, and the TLS socket built on it reports the client's address.
 *
 * Installed on a server before it listens (util/listen.ts `setBeforeListen`): the server's
 * own 'connection' handlers (a TLS server's is the one that starts the handshake) are moved
 * behind the header read. A connection from a member that does not start with "PROXY " (a
 * member's operator connecting directly) passes unchanged.
 */
import type { Server, Socket } from 'node:net';
import { Server as TlsServer, type TLSSocket } from 'node:tls';
import { parseProxyV1, plainAddress, PROXY_V1_MAX, type ProxiedAddress } from './proxy-header.js';

const HEADER_TIMEOUT_MS = 5000;

export function acceptProxyHeaders(server: Server, trusted: (address: string) => boolean): void {
  const tls = server instanceof TlsServer;
  const handlers = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  const deliver = (socket: Socket) => {
    for (const h of handlers) h.call(server, socket);
  };
  server.on('connection', (socket: Socket) => {
    if (!trusted(plainAddress(socket.remoteAddress))) return deliver(socket);
    readHeader(socket, deliver, tls);
  });
  // The TLS socket asks its own handle for the peer (the standby): it takes the client's
  // address from the raw socket it was built on (`_parent`, Node's name for it), first.
  if (tls) server.prependListener('secureConnection', (secure: TLSSocket) => {
    const a = proxied.get((secure as unknown as { _parent?: Socket })._parent as Socket);
    if (a !== undefined) defineRemote(secure, a);
  });
}

/** raw sockets whose PROXY header named a client, for the TLS socket built on them */
const proxied = new WeakMap<Socket, ProxiedAddress>();

function defineRemote(socket: Socket, a: ProxiedAddress): void {
  Object.defineProperty(socket, 'remoteAddress', { value: a.sourceAddress, configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: a.sourcePort, configurable: true });
  Object.defineProperty(socket, 'remoteFamily', { value: a.family, configurable: true });
}

function readHeader(socket: Socket, deliver: (socket: Socket) => void, tls: boolean): void {
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
    // handlers that read with 'data' (they pause it themselves later for backpressure). A TLS
    // socket now owns the handle and has taken the buffered bytes: resuming the raw one would
    // steal what follows from it.
    if (!tls) socket.resume();
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
      defineRemote(socket, r.address);
      if (tls) proxied.set(socket, r.address);
    }
    done(buf.subarray(r.length));
  };
  socket.on('data', onData);
  socket.on('error', onError);
}
