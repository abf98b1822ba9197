/**
 * What never finishes a TLS handshake — plain text on a TLS port, a ClientHello cut short, a
 * client that says nothing, a certificate from an unknown CA — is dropped and logged once at
 * debug level; the broker and its other clients carry on.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCerts, type TestCerts } from './certs.js';
import { startTlsBroker, waitFor, type TlsTestBroker } from './broker.js';

let certs: TestCerts;
let b: TlsTestBroker;
let survivor: amqp.ChannelModel;

beforeAll(async () => {
  certs = generateCerts(['alice']);
  b = await startTlsBroker(
    certs,
    {
      amqp: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0, handshakeTimeout: 1000 },
      mqtt: { port: 0, wsEnabled: false, host: '127.0.0.1', sslEnabled: true, sslPort: 0, wssEnabled: true, wssPort: 0 },
      stomp: { port: 0, wsEnabled: false, host: '127.0.0.1', sslEnabled: true, sslPort: 0, wssEnabled: true, wssPort: 0 },
      management: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 },
    },
    ['alice'],
    'debug',
  );
  // a client that is already working over TLS, and must keep working
  survivor = await amqp.connect(`amqps://guest:guest@127.0.0.1:${b.port('amqps')}`, { ca: [certs.ca] });
});
afterAll(async () => {
  await survivor?.close().catch(() => undefined);
  await b?.stop();
  certs?.remove();
});

/** Open a plain TCP socket, write `bytes`, resolve when the server closes it. */
function sendAndWaitClose(port: number, bytes: Buffer | string | null): Promise<{ localPort: number; received: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let localPort = 0;
    const socket: Socket = netConnect({ host: '127.0.0.1', port }, () => {
      localPort = socket.localPort!;
      if (bytes !== null) socket.write(bytes);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ localPort, received: Buffer.concat(chunks) }));
    setTimeout(() => reject(new Error('the server did not close the socket within 15 s')), 15_000).unref();
  });
}

function handshakeFailures(localPort: number): string[] {
  return b.logs.filter((l) => l.includes('TLS handshake failed') && l.includes(`:${localPort}`));
}

async function stillServing(): Promise<void> {
  const ch = await survivor.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  ch.sendToQueue(queue, Buffer.from('still here'));
  const m = await new Promise<amqp.ConsumeMessage>((resolve) => void ch.consume(queue, (msg) => msg && resolve(msg), { noAck: true }));
  expect(m.content.toString()).toBe('still here');
  await ch.close();
}

describe('TLS handshakes that fail', () => {
  for (const listener of ['amqps', 'mqtts', 'stomps', 'mqtt-wss', 'stomp-wss', 'management-https']) {
    it(`plain text on the ${listener} port is dropped and logged once`, async () => {
      const plain = listener === 'amqps' ? Buffer.from('AMQP\x00\x00\x09\x01') : listener === 'stomps' ? 'CONNECT\n\n\0' : listener === 'mqtts' ? Buffer.from([0x10, 0x0c, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0, 0]) : 'GET /api/overview HTTP/1.1\r\nhost: x\r\n\r\n';
      const { localPort, received } = await sendAndWaitClose(b.port(listener), plain);
      // nothing of the protocol was answered: at most a TLS alert (record type 0x15)
      if (received.length > 0) expect(received[0]).toBe(0x15);
      await waitFor(() => handshakeFailures(localPort).length > 0, 10_000, 'the handshake failure log line');
      expect(handshakeFailures(localPort)).toHaveLength(1);
      await stillServing();
    });
  }

  it('a ClientHello cut short and then a hang-up: nothing breaks', async () => {
    // a TLS record header announcing a 512-byte handshake message, and only part of it
    const partial = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), Buffer.alloc(20, 7)]);
    await new Promise<void>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port: b.port('amqps') }, () => {
        s.write(partial);
        setTimeout(() => s.destroy(), 50);
      });
      s.on('error', () => undefined);
      s.on('close', () => resolve());
    });
    await stillServing();
  });

  it('a client that never starts the handshake is dropped after the handshake timeout', async () => {
    const started = Date.now();
    const { localPort } = await sendAndWaitClose(b.port('amqps'), null);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await waitFor(() => handshakeFailures(localPort).length > 0, 10_000, 'the handshake timeout log line');
    expect(handshakeFailures(localPort)).toHaveLength(1);
    await stillServing();
  });

  it('a TLS client that aborts right after its ClientHello', async () => {
    await new Promise<void>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port: b.port('mqtts'), ca: [certs.ca] });
      s.on('error', () => undefined);
      s.on('close', () => resolve());
      setImmediate(() => s.destroy());
    });
    await stillServing();
  });

  it('a certificate from an unknown CA is refused at the handshake and logged once', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port: b.port('stomps'), ca: [certs.ca], cert: certs.untrusted.cert, key: certs.untrusted.key });
      let local = 0;
      s.on('connect', () => (local = s.localPort ?? 0));
      s.on('secureConnect', () => (local = s.localPort ?? local));
      s.on('error', () => undefined);
      s.on('close', () => resolve(local));
    });
    expect(port).toBeGreaterThan(0);
    await waitFor(() => b.logs.some((l) => l.includes(`:${port}`) && /TLS (handshake failed|client certificate refused)/.test(l)), 10_000, 'the refusal log line');
    expect(b.logs.filter((l) => l.includes(`:${port}`) && /TLS (handshake failed|client certificate refused)/.test(l))).toHaveLength(1);
    await stillServing();
  });
});
