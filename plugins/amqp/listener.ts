/**
 * The AMQP listeners — TCP, and AMQPS (TLS, off by default) — one `AmqpConnection` per
 * accepted socket (or any other byte stream given to `accept`), built on the front-end kit's
 * listener set. Stopping tells every client why (connection.close 320 CONNECTION_FORCED, as
 * RabbitMQ does on shutdown). A TLS socket reaches the same connection class once its
 * handshake is done, with the login name of a verified client certificate.
 */
import type { ProtocolCore } from '../../src/core/index.js';
import { ListenerSet } from '../../src/frontend/index.js';
import type { Logger } from '../../src/log/index.js';
import type { TlsListeners } from '../../src/tls/index.js';
import { AmqpConnection } from './connection.js';
import type { AmqpSettings } from './settings.js';

export function amqpListeners(core: ProtocolCore, settings: AmqpSettings, log: Logger, tls: TlsListeners | null = null): ListenerSet<AmqpConnection> {
  return new ListenerSet<AmqpConnection>({
    protocol: 'AMQP',
    listen: settings,
    env: { log, alarms: core.alarms, tls },
    handshakeTimeoutMs: settings.handshakeTimeoutMs,
    logAlarms: true, // AMQP speaks for the broker: one warning per alarm change
    open: (stream, peer, registry) => new AmqpConnection(stream, peer, core, settings, log, registry),
  });
}
