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
