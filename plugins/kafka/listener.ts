/**
 * The Kafka listeners, built on the front-end kit's listener set: plain TCP (default 9092)
 * and, off by default, TLS (9093) with the broker-wide ssl_options. Each accepted socket
 * (or any byte stream given to `accept`) becomes a `KafkaConnection`; when a resource alarm
 * clears, a connection holding a produce goes on.
 */
import { ListenerSet } from '../../src/frontend/index.js';
import type { TlsListeners } from '../../src/tls/index.js';
import type { KafkaBroker } from './broker.js';
import { KafkaConnection } from './connection.js';

export function kafkaListeners(broker: KafkaBroker, tls: TlsListeners | null): ListenerSet<KafkaConnection> {
  return new ListenerSet<KafkaConnection>({
    protocol: 'Kafka',
    listen: broker.settings,
    tlsName: 'kafka-ssl',
    env: { log: broker.log, alarms: broker.core.alarms, tls },
    handshakeTimeoutMs: 10_000,
    open: (stream, peer, registry) => new KafkaConnection(broker, stream, peer, registry),
  });
}
