/**
 * Who is at the other end of a front-end connection, as the listener set saw it when it
 * accepted the stream: address, how it came (a byte stream or a WebSocket), the login name of
 * a verified TLS client certificate, and the socket whose counters management reads.
 */
import type { Socket } from 'node:net';
import type { CountedSocket } from '../util/socket-traffic.js';

export interface Peer {
  readonly host: string;
  readonly port: number;
  /** 'ws': a WebSocket (its messages carry the protocol); 'tcp': any byte stream (TCP, TLS, in memory) */
  readonly transport: 'tcp' | 'ws';
  /**
   * The login name of the client's verified TLS certificate (ssl_cert_login_from), or null:
   * plain TCP/WebSocket, no certificate, verify_none, or an in-memory stream.
   */
  readonly certName: string | null;
  /** bytes in and out (for a WebSocket the HTTP connection under it, framing included) */
  readonly socket: CountedSocket;
}

/** What a caller of `ListenerSet.accept` may say about an in-memory (or otherwise unusual) stream. */
export interface PeerInfo {
  host?: string;
  port?: number;
  certName?: string | null;
}

/** A stream that is no socket counts nothing. */
const UNCOUNTED: CountedSocket = { bytesRead: 0, bytesWritten: 0, writableLength: 0 };

export function socketPeer(socket: Socket, transport: 'tcp' | 'ws', certName: string | null): Peer {
  return { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, transport, certName, socket };
}

export function streamPeer(info: PeerInfo = {}): Peer {
  return { host: info.host ?? '', port: info.port ?? 0, transport: 'tcp', certName: info.certName ?? null, socket: UNCOUNTED };
}
