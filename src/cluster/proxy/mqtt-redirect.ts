/**
 * MQTT 5's way to find the leader (option `cluster.mqtt_server_reference`): a standby reads a
 * client's CONNECT; an MQTT 5 client is answered CONNACK 0x9C "Use another server" with the
 * leader's `host:port` in the Server Reference property (MQTT 5.0 §3.2.2.3.16, §4.11), and
 * its connection closed; it connects there itself, without the forwarding hop. Older clients
 * (3.1, 3.1.1: no such answer exists for them) are forwarded as usual. Client support for
 * Server Reference is uneven, which is why this is an option, off by default.
 */
import type { Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';

/** CONNECT is the first packet and at most a few kB; anything longer is not waited for. */
const MAX_CONNECT_BYTES = 64 * 1024;

/**
 * Read `client` until its first packet is parsed (or cannot be): `done` gets every byte read
 * (to forward unchanged) and the CONNECT's protocol version, or null when it is not a CONNECT.
 */
export function readMqttConnect(client: Socket, done: (buffered: Buffer, protocolVersion: number | null) => void): void {
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (version: number | null) => {
    if (finished) return;
    finished = true;
    client.off('data', onData);
    client.pause();
    done(Buffer.concat(chunks), version);
  };
  parser.on('packet', (p: { cmd: string; protocolVersion?: number }) => finish(p.cmd === 'connect' ? (p.protocolVersion ?? null) : null));
  parser.on('error', () => finish(null));
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    parser.parse(chunk);
    if (size > MAX_CONNECT_BYTES) finish(null);
  };
  client.on('data', onData);
  client.resume();
}

/** CONNACK 0x9C with Server Reference `reference` (MQTT 5 only). */
export function useAnotherServer(reference: string): Buffer {
  return mqttPacket.generate({ cmd: 'connack', reasonCode: 0x9c, sessionPresent: false, properties: { serverReference: reference } }, { protocolVersion: 5 });
}
