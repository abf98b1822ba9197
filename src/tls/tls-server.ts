/**
 * What a plugin uses to open TLS listeners: servers built from the broker-wide
 * `ssl_options`, each with the same guards, and the verified peer's login name.
 *
 * A connection handed to a plugin has completed its handshake, so a `tls.TLSSocket` goes to
 * the same connection classes as a plain `net.Socket` (it is one). What never gets that far
 * — a plain-text client on a TLS port, a bad certificate, an aborted or slow handshake — is
 * logged once at debug level and dropped by Node; nothing reaches the protocol code.
 */
import type { RequestListener } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import { createServer, type Server as TlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Logger } from '../log/index.js';
import { verifiedPeerName } from './peer-identity.js';
import { serverOptions, type TlsSettings } from './settings.js';

export interface TlsListenerOptions {
  /** the listener's name in logs and `Broker.address` ('amqps', 'mqtt-wss' …) */
  name: string;
  /** a client that has not finished the handshake within this time is dropped */
  handshakeTimeoutMs: number;
  log: Logger;
}

export class TlsListeners {
  readonly settings: TlsSettings;
  #options: TlsOptions | null = null;
  /** every TLS server opened with these settings and still open, for `reload` */
  readonly #servers = new Set<TlsServer | HttpsServer>();

  constructor(settings: TlsSettings) {
    this.settings = settings;
  }

  /**
   * Server options (files read on first use, then kept); throws a ConfigError naming the key
   * when certfile/keyfile are not set or a file cannot be read.
   */
  serverOptions(): TlsOptions {
    return (this.#options ??= serverOptions(this.settings));
  }

  /** A TLS server over TCP whose `onSocket` gets only sockets that finished a valid handshake. */
  createServer(o: TlsListenerOptions, onSocket: (socket: TLSSocket) => void): TlsServer {
    const server = createServer({ ...this.serverOptions(), handshakeTimeout: o.handshakeTimeoutMs, noDelay: true });
    this.guard(server, o);
    server.on('secureConnection', (socket: TLSSocket) => {
      if (!socket.destroyed) onSocket(socket);
    });
    return server;
  }

  /**
   * An HTTPS server (a WebSocket listener, management) with the same options and guards;
   * `options` adds HTTP ones (timeouts …).
   */
  createHttpsServer(o: TlsListenerOptions, onRequest: RequestListener, options: HttpsServerOptions = {}): HttpsServer {
    const server = createHttpsServer({ ...this.serverOptions(), handshakeTimeout: o.handshakeTimeoutMs, ...options }, onRequest);
    this.guard(server, o);
    return server;
  }

  /**
   * Handshake failures logged once per connection, and (verify_peer without
   * fail_if_no_peer_cert) a presented certificate that did not verify refused before any
   * protocol byte is read. For an `https.Server` too (management, WSS), called right after
   * it is created so that this check runs before the HTTP layer sees the socket.
   */
  guard(server: TlsServer | HttpsServer, o: Omit<TlsListenerOptions, 'handshakeTimeoutMs'>): void {
    this.#servers.add(server);
    server.once('close', () => this.#servers.delete(server));
    server.on('tlsClientError', (e: NodeJS.ErrnoException, socket: TLSSocket) => {
      if (o.log.enabled('debug')) {
        o.log.debug('TLS handshake failed', { listener: o.name, peer: `${socket.remoteAddress}:${socket.remotePort}`, error: e.code ?? e.message });
      }
      // a handshake timeout (ERR_TLS_HANDSHAKE_TIMEOUT) leaves the socket open: Node only reports it
      socket.destroy();
    });
    if (this.settings.verify !== 'verify_peer' || this.settings.failIfNoPeerCert) return;
    server.prependListener('secureConnection', (socket: TLSSocket) => {
      if (socket.authorized) return;
      const cert = socket.getPeerCertificate();
      if (!cert || !cert.raw) return; // no certificate: allowed, the client logs in with a password
      if (o.log.enabled('debug')) {
        o.log.debug('TLS client certificate refused', { listener: o.name, peer: `${socket.remoteAddress}:${socket.remotePort}`, error: String(socket.authorizationError) });
      }
      socket.destroy();
    });
  }

  /**
   * Read the certificate, key and CA files again and use them for every new connection on
   * every open TLS listener (connections already open keep theirs). A file that cannot be
   * read or used throws a ConfigError and changes nothing. Returns how many listeners took it.
   */
  reload(): number {
    if (this.#servers.size === 0) return 0;
    const options = serverOptions(this.settings);
    this.#options = options;
    for (const server of this.#servers) server.setSecureContext(options);
    return this.#servers.size;
  }

  /** The login name of a verified client certificate (ssl_cert_login_from), or null. */
  peerName(socket: unknown): string | null {
    return verifiedPeerName(socket, this.settings.certLoginFrom);
  }
}
