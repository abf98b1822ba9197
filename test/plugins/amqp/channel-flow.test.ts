/**
 * channel.flow (AMQP 0-9-1 §1.5.2.3). amqplib has no API to send it, so these tests speak
 * raw frames. RabbitMQ answers active=true with flow-ok and refuses active=false with a
 * 540 NOT_IMPLEMENTED connection close (it throttles publishers with TCP back-pressure
 * and connection.blocked instead); Warren follows it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgReader, ArgWriter, Method, methodFrame } from '../../helpers/amqp-frames.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';
import { RawAmqpClient } from '../../helpers/raw-amqp-client.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});

async function withOpenChannel(test: (raw: RawAmqpClient) => Promise<void>): Promise<void> {
  const raw = await RawAmqpClient.openHandshaken(broker.host, broker.port);
  try {
    await raw.openChannel(1);
    await test(raw);
  } finally {
    raw.destroy();
  }
}

describe('channel.flow', () => {
  it('answers flow active=true with flow-ok active=true and keeps the channel open', async () => {
    await withOpenChannel(async (raw) => {
      raw.send(methodFrame(1, Method.channelFlow, new ArgWriter().bit(true)));
      const ok = await raw.expectMethod(Method.channelFlowOk);
      expect(ok.channel).toBe(1);
      expect(new ArgReader(ok.payload).octet() & 1).toBe(1);
      // Still usable: a passive queue.declare of a server-named queue round-trips.
      raw.send(methodFrame(1, Method.queueDeclare, new ArgWriter().short(0).shortstr('').bit(false).bit(false).bit(true).bit(true).bit(false).table({})));
      await raw.expectMethod(Method.queueDeclareOk);
    });
  });

  it('refuses flow active=false with connection.close 540 NOT_IMPLEMENTED, as RabbitMQ does', async () => {
    await withOpenChannel(async (raw) => {
      raw.send(methodFrame(1, Method.channelFlow, new ArgWriter().bit(false)));
      const result = await raw.readUntilClose();
      expect(result.connectionClose).toMatchObject({ replyCode: 540, classId: 20, methodId: 20 });
    });
  });
});
