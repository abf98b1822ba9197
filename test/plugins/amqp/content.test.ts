/**
 * Message content end to end (AMQP 0-9-1 §4.2.6, content header and body frames): empty
 * and binary bodies, bodies larger than frame-max split on the way in and out, all 14
 * basic properties and a headers table holding every field type.
 */
import type { ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeCount, firstError, uniqueName, useClients } from '../../helpers/amqp-clients.js';
import { bodyFrame, headerFrame, Method, methodFrame, ArgWriter, publishFrames } from '../../helpers/amqp-frames.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';
import { RawAmqpClient } from '../../helpers/raw-amqp-client.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});
const clients = useClients(() => broker.url);

const MiB = 1024 * 1024;

/** Sends one message through a fresh connection and returns it as a consumer receives it. */
async function roundTrip(content: Buffer, options: Parameters<import('amqplib').Channel['publish']>[3] = {}, query = '') {
  const conn = await clients.connect(query);
  const ch = await clients.channel(conn);
  const { queue } = await ch.assertQueue('', { exclusive: true });
  ch.sendToQueue(queue, content, options);
  const { messages } = await consumeCount(ch, queue, 1, { noAck: true }, 10_000);
  return messages[0]!;
}

/** A queue every connection may publish to (the raw client publishes, amqplib consumes). */
async function sharedQueue(): Promise<{ queue: string; receive: (n?: number) => Promise<ConsumeMessage[]> }> {
  const { ch } = await clients.open();
  const queue = uniqueName('q-content');
  await ch.assertQueue(queue, { durable: false, autoDelete: true });
  return {
    queue,
    receive: async (n = 1) => (await consumeCount(ch, queue, n, { noAck: true })).messages,
  };
}

describe('bodies', () => {
  it('carries an empty body', async () => {
    const m = await roundTrip(Buffer.alloc(0), { messageId: 'empty' });
    expect(m.content.length).toBe(0);
    expect(m.properties.messageId).toBe('empty');
  });

  it('carries every byte value unchanged', async () => {
    const all = Buffer.from(Array.from({ length: 256 * 4 }, (_, i) => i % 256));
    expect((await roundTrip(all)).content.equals(all)).toBe(true);
  });

  it('carries a 1 MiB body split into frames of the negotiated default frame-max', async () => {
    const big = Buffer.alloc(MiB);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    const m = await roundTrip(big);
    expect(m.content.length).toBe(MiB);
    expect(m.content.equals(big)).toBe(true);
  });

  it('splits deliveries to the smallest frame-max (4096) and reassembles publishes split to it', async () => {
    const big = Buffer.alloc(MiB);
    for (let i = 0; i < big.length; i++) big[i] = (i * 17) & 0xff;
    // maxFrameSize makes amqplib refuse any incoming frame larger than the negotiated size.
    const m = await roundTrip(big, {}, 'frameMax=4096&maxFrameSize=4096');
    expect(m.content.equals(big)).toBe(true);
  });

  it('reassembles a body sent in uneven body frames, and an empty body sent with no body frame', async () => {
    const { queue, receive } = await sharedQueue();
    const raw = await RawAmqpClient.openHandshaken(broker.host, broker.port);
    try {
      await raw.openChannel(1);
      const body = Buffer.from('abcdefghijklmnopqrstuvwxyz');
      raw.send(
        Buffer.concat([
          methodFrame(1, Method.basicPublish, new ArgWriter().short(0).shortstr('').shortstr(queue).bit(false).bit(false)),
          headerFrame(1, body.length, { messageId: 'pieces' }),
          bodyFrame(1, body.subarray(0, 1)),
          bodyFrame(1, body.subarray(1, 11)),
          bodyFrame(1, body.subarray(11)),
        ]),
      );
      raw.send(publishFrames(1, '', queue, Buffer.alloc(0), { messageId: 'nothing' }));
      const [pieces, nothing] = await receive(2);
      expect([pieces!.properties.messageId, pieces!.content.toString()]).toEqual(['pieces', body.toString()]);
      expect([nothing!.properties.messageId, nothing!.content.length]).toEqual(['nothing', 0]);
    } finally {
      raw.destroy();
    }
  });
});

describe('basic properties', () => {
  const user = () => decodeURIComponent(new URL(broker.url).username || 'guest');

  it('round-trips all 14 basic properties (cluster-id included, sent over a raw socket)', async () => {
    const { queue, receive } = await sharedQueue();
    const raw = await RawAmqpClient.openHandshaken(broker.host, broker.port);
    try {
      await raw.openChannel(1);
      raw.send(
        publishFrames(1, '', queue, Buffer.from('{"ok":true}'), {
          contentType: 'application/json',
          contentEncoding: 'identity',
          headers: { h: 'v', n: 42 },
          deliveryMode: 2,
          priority: 7,
          correlationId: 'corr-1',
          replyTo: 'reply-queue',
          expiration: '600000',
          messageId: 'msg-1',
          timestamp: 1_700_000_000,
          type: 'order.created',
          userId: user(),
          appId: 'warren-tests',
          clusterId: 'cluster-a',
        }),
      );
      const [m] = await receive();
      expect(m!.properties).toEqual({
        contentType: 'application/json',
        contentEncoding: 'identity',
        headers: { h: 'v', n: 42 },
        deliveryMode: 2,
        priority: 7,
        correlationId: 'corr-1',
        replyTo: 'reply-queue',
        expiration: '600000',
        messageId: 'msg-1',
        timestamp: 1_700_000_000,
        type: 'order.created',
        userId: user(),
        appId: 'warren-tests',
        clusterId: 'cluster-a',
      });
      expect(m!.content.toString()).toBe('{"ok":true}');
    } finally {
      raw.destroy();
    }
  });

  it('round-trips the 13 properties amqplib can set, and leaves unset ones undefined', async () => {
    const m = await roundTrip(Buffer.from('x'), {
      contentType: 'text/plain',
      contentEncoding: 'utf-8',
      headers: { a: 'b' },
      persistent: true,
      priority: 1,
      correlationId: 'c',
      replyTo: 'r',
      expiration: 60000,
      messageId: 'm',
      timestamp: 1234567890,
      type: 't',
      userId: user(),
      appId: 'app',
    });
    expect(m.properties).toEqual({
      contentType: 'text/plain',
      contentEncoding: 'utf-8',
      headers: { a: 'b' },
      deliveryMode: 2,
      priority: 1,
      correlationId: 'c',
      replyTo: 'r',
      expiration: '60000',
      messageId: 'm',
      timestamp: 1234567890,
      type: 't',
      userId: user(),
      appId: 'app',
      clusterId: undefined,
    });
    const bare = await roundTrip(Buffer.from('y'));
    expect(bare.properties.messageId).toBeUndefined();
    expect(bare.properties.deliveryMode).toBeUndefined();
  });

  it('closes the channel with 406 PRECONDITION_FAILED when user-id is not the connected user (as RabbitMQ validates it)', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('x'), { userId: `${user()}-impostor` });
    expect((await firstError(ch)).code).toBe(406);
  });

  it('round-trips a headers table with every field type', async () => {
    const headers = {
      longstr: 'text ✓',
      int8: { '!': 'int8', value: -5 },
      uint8: { '!': 'uint8', value: 200 },
      int16: { '!': 'int16', value: -300 },
      uint16: { '!': 'uint16', value: 60000 },
      int32: { '!': 'int32', value: -70000 },
      uint32: { '!': 'uint32', value: 4_000_000_000 },
      int64: { '!': 'int64', value: 2 ** 40 },
      float: { '!': 'float', value: 1.5 },
      double: 2.25,
      decimal: { '!': 'decimal', value: { places: 2, digits: 12345 } },
      timestamp: { '!': 'timestamp', value: 1_700_000_000 },
      yes: true,
      no: false,
      void: null,
      bytes: Buffer.from([0, 1, 2, 254, 255]),
      array: ['a', 1, true, null, [2, 'b'], { k: 'v' }],
      table: { nested: { deeper: 'yes' }, n: 7, empty: {} },
      emptyString: '',
    };
    const m = await roundTrip(Buffer.from('h'), { headers });
    expect(m.properties.headers).toEqual({
      longstr: 'text ✓',
      int8: -5,
      uint8: 200,
      int16: -300,
      uint16: 60000,
      int32: -70000,
      uint32: 4_000_000_000,
      int64: 2 ** 40,
      float: 1.5,
      double: 2.25,
      decimal: { '!': 'decimal', value: { places: 2, digits: 12345 } },
      timestamp: { '!': 'timestamp', value: 1_700_000_000 },
      yes: true,
      no: false,
      void: null,
      bytes: Buffer.from([0, 1, 2, 254, 255]),
      array: ['a', 1, true, null, [2, 'b'], { k: 'v' }],
      table: { nested: { deeper: 'yes' }, n: 7, empty: {} },
      emptyString: '',
    });
  });
});
