/**
 * Two connected in-memory byte streams that behave like the two ends of a TCP connection:
 * what one writes the other reads, the end of one side's output ends the other's stream too
 * (no half-open wait), and one side destroyed closes the other (`stream.duplexPair` alone
 * leaves the peer of a destroyed side open for ever). Give one end to `Broker.accept`, drive
 * the other with a raw client, as Aedes' tests drive its handlers.
 */
import { duplexPair, type Duplex } from 'node:stream';

export function memoryPair(): [client: Duplex, server: Duplex] {
  const [client, server] = duplexPair();
  client.allowHalfOpen = false;
  server.allowHalfOpen = false;
  client.once('close', () => server.destroy());
  server.once('close', () => client.destroy());
  return [client, server];
}

/**
 * The client end of a fresh pair whose other end `broker` serves with its front-end `plugin`
 * ('amqp', 'mqtt', 'stomp'). The peer says it is local: guest may log in from loopback only.
 */
export function inMemoryConnection(broker: { accept(plugin: string, stream: Duplex, peer?: { host?: string; port?: number }): void }, plugin: string): Duplex {
  const [client, server] = memoryPair();
  broker.accept(plugin, server, { host: '127.0.0.1', port: 1 });
  return client;
}
