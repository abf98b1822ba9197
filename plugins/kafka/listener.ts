/**
 * The Kafka listeners, built on the front-end kit's listener set: plain TCP (default 9092)
 * and, off by default, TLS (9093) with the broker-wide ssl_options. Each accepted socket
 * (or any byte stream given to `accept`) becomes a `KafkaConnection`; when a resource alarm
 * clears, a connection holding a produce goes on.
 */
import { ListenerSet, type Endpoint } from '../../src/frontend/index.js';
import type { TlsListeners } from '../../src/tls/index.js';
import type { KafkaBroker } from './broker.js';
import { KafkaConnection } from './connection.js';

export function kafkaListeners(broker: KafkaBroker, tls: TlsListeners | null): ListenerSet<KafkaConnection> {
  const s = broker.settings;
  const endpoints: Endpoint[] = [{ name: 'kafka', kind: 'tcp', port: s.port }];
  if (s.sslEnabled) endpoints.push({ name: 'kafka-ssl', kind: 'tls', port: s.sslPort });
  return new ListenerSet<KafkaConnection>({
    protocol: 'Kafka',
    host: s.host,
    endpoints,
    log: broker.log,
    alarms: broker.core.alarms,
    tls,
    handshakeTimeoutMs: 10_000,
    open: (stream, peer, registry) => new KafkaConnection(broker, stream, peer, registry),
  });
}
