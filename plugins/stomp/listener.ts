/**
 * The STOMP listeners, built on the front-end kit's listener set: plain TCP (default port
 * 61613) and WebSocket (default 15674, path /ws, subprotocols v12.stomp, v11.stomp, v10.stomp
 * as RabbitMQ's Web-STOMP offers them); off by default, the same two over TLS (61614, and WSS
 * on 15673) with the broker-wide ssl_options, a connection over TLS carrying the login name of
 * a verified client certificate (stomp.ssl_cert_login). Each client becomes a
 * `StompConnection` over a transport: a byte stream (also any given to `accept`), or a
 * WebSocket read message by message. Stopping tells every client why with an ERROR frame.
 */
import type { ProtocolCore } from '../../src/core/index.js';
import { ListenerSet } from '../../src/frontend/index.js';
import type { Logger } from '../../src/log/index.js';
import type { TlsListeners } from '../../src/tls/index.js';
import { StompConnection } from './connection.js';
import type { StompSettings } from './settings.js';
import { StreamTransport, WsTransport } from './transport.js';

/** Subprotocols in order of preference (the client's frames still negotiate the version). */
const WS_PROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'];

export function stompListeners(core: ProtocolCore, settings: StompSettings, log: Logger, tls: TlsListeners | null = null): ListenerSet<StompConnection> {
  const s = settings;
  return new ListenerSet<StompConnection>({
    protocol: 'STOMP',
    listen: s,
    env: { log, alarms: core.alarms, tls },
    // the login timeout bounds the TLS handshake too
    handshakeTimeoutMs: s.loginTimeout > 0 ? s.loginTimeout : 10_000,
    webSocket: {
      path: s.wsPath,
      protocols: WS_PROTOCOLS,
      maxPayload: s.limits.maxFrameSize + 1024,
      upgradeRequired: `STOMP over WebSocket: connect to ${s.wsPath}`,
    },
    open(stream, peer, registry) {
      const c = new StompConnection(core, settings, log, registry, peer.certName);
      c.attach(new StreamTransport(stream, peer, c, c.terminator));
      return c;
    },
    openWebSocket(ws, peer, registry) {
      const c = new StompConnection(core, settings, log, registry, peer.certName);
      c.attach(new WsTransport(ws, peer, c, c.terminator));
      return c;
    },
  });
}
