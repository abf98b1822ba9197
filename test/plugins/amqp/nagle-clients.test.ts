/**
 * Clients that leave Nagle's algorithm on (amqplib does unless given `noDelay`) and write two
 * small things in a row: the RPC server of amqplib's tutorial publishes its reply, then acks
 * the request. The kernel holds the ack until the reply's segment is ACKed; a broker with
 * nothing to send back lets its kernel delay that ACK (40 ms on Linux), and the server's next
 * request (prefetch 1) waits for the ack: ~45 ms per call on RabbitMQ 3.10 (bench/frameworks.mjs,
 * docs/performance.md). Warren answers such a read with a heartbeat frame, which carries the
 * ACK at once (FrameWriter.answerRead).
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isExternalBroker, startBroker, type TestBroker } from '../../helpers/broker.js';

const CALLS = 40;

describe.skipIf(isExternalBroker)('clients with Nagle on', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('an amqplib RPC server (reply, then ack, prefetch 1) is not held by delayed ACKs', async () => {
    const serverConn = await amqp.connect(broker.url); // amqplib's defaults: Nagle on, heartbeat as the broker suggests
    const clientConn = await amqp.connect(broker.url);
    try {
      const server = await serverConn.createChannel();
      await server.assertQueue('nagle-rpc', { durable: false });
      await server.prefetch(1);
      await server.consume('nagle-rpc', (msg) => {
        if (msg === null) return;
        server.sendToQueue(msg.properties.replyTo, msg.content, { correlationId: msg.properties.correlationId });
        server.ack(msg);
      });
      const client = await clientConn.createChannel();
      const { queue: replies } = await client.assertQueue('', { exclusive: true });
      let answer: ((id: string) => void) | null = null;
      await client.consume(replies, (msg) => answer?.(msg!.properties.correlationId), { noAck: true });
      const times: number[] = [];
      for (let i = 0; i < CALLS; i++) {
        const id = String(i);
        const replied = new Promise<string>((resolve) => (answer = resolve));
        const started = performance.now();
        client.sendToQueue('nagle-rpc', Buffer.from(id), { correlationId: id, replyTo: replies });
        expect(await replied).toBe(id);
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      // held by delayed ACKs, every call after the first takes >= 40 ms; the median (not the
      // mean, which a loaded machine's stalls inflate) of a call not held is a few ms
      expect(times[CALLS >> 1]).toBeLessThan(25);
    } finally {
      await clientConn.close();
      await serverConn.close();
    }
  });
});
