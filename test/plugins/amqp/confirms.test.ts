/**
 * Publisher confirms (RabbitMQ's confirm.select extension): every publish on a confirm
 * channel is acked once, unroutable messages are acked too, and a mandatory unroutable
 * message is returned before it is acked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callback, drain, uniqueName, useClients } from '../../helpers/amqp-clients.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});
const clients = useClients(() => broker.url);

describe('publisher confirms', () => {
  it('acks every publish, covering delivery tags 1…n', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const pub = await clients.confirmChannel(conn);
    const acked: Array<{ deliveryTag: number; multiple: boolean }> = [];
    pub.on('ack', (fields: { deliveryTag: number; multiple: boolean }) => acked.push(fields));
    const n = 100;
    const outcomes: Array<Promise<unknown>> = [];
    for (let i = 0; i < n; i++) {
      outcomes.push(
        new Promise((resolve, reject) =>
          pub.sendToQueue(queue, Buffer.from(String(i)), {}, (err) => (err ? reject(err) : resolve(i))),
        ),
      );
    }
    await pub.waitForConfirms();
    expect(await Promise.all(outcomes)).toHaveLength(n);
    // Tags are acked in increasing order, single or multiple, up to the last publish.
    const tags = acked.map((a) => a.deliveryTag);
    expect([...tags].sort((a, b) => a - b)).toEqual(tags);
    expect(tags.at(-1)).toBe(n);
    expect(new Set(tags).size).toBe(tags.length);
    expect((await ch.checkQueue(queue)).messageCount).toBe(n);
  });

  it('acks persistent messages on a durable queue', async () => {
    const { conn, ch } = await clients.open();
    const queue = uniqueName('q-durable-confirm');
    await ch.assertQueue(queue, { durable: true });
    const pub = await clients.confirmChannel(conn);
    for (let i = 0; i < 20; i++) pub.sendToQueue(queue, Buffer.from(String(i)), { persistent: true });
    await pub.waitForConfirms();
    expect(await ch.deleteQueue(queue)).toEqual({ messageCount: 20 });
  });

  it('acks an unroutable message that is not mandatory', async () => {
    const pub = await clients.confirmChannel();
    const result = await new Promise<unknown>((resolve) =>
      pub.publish('amq.direct', uniqueName('nobody'), Buffer.from('lost'), {}, (err) => resolve(err)),
    );
    expect(result).toBeNull();
  });

  it('returns a mandatory unroutable message before acking it', async () => {
    const pub = await clients.confirmChannel();
    const events: string[] = [];
    pub.on('return', (m: { fields: { replyCode: number } }) => events.push(`return ${m.fields.replyCode}`));
    await new Promise<void>((resolve, reject) =>
      pub.publish('amq.direct', uniqueName('nobody'), Buffer.from('bounce'), { mandatory: true }, (err) => {
        events.push(err ? 'nack' : 'ack');
        return err ? reject(err) : resolve();
      }),
    );
    expect(events).toEqual(['return 312', 'ack']);
  });

  it('acks a mandatory message that is routed, without a return', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const pub = await clients.confirmChannel(conn);
    let returned = 0;
    pub.on('return', () => returned++);
    pub.sendToQueue(queue, Buffer.from('routed'), { mandatory: true });
    await pub.waitForConfirms();
    expect(returned).toBe(0);
    expect((await drain(ch, queue)).map((m) => m.content.toString())).toEqual(['routed']);
  });

  it('confirms through the callback API', async () => {
    const conn = await clients.connectCallbackApi();
    const pub = await clients.callbackConfirmChannel(conn);
    const { queue } = await callback<{ queue: string }>((cb) => pub.assertQueue('', { exclusive: true }, cb));
    const perMessage: unknown[] = [];
    for (let i = 0; i < 10; i++) pub.sendToQueue(queue, Buffer.from(String(i)), {}, (err) => perMessage.push(err));
    await callback<void>((cb) => pub.waitForConfirms(cb as never));
    expect(perMessage).toEqual(Array(10).fill(null));
    const ok = await callback<{ messageCount: number }>((cb) => pub.checkQueue(queue, cb));
    expect(ok.messageCount).toBe(10);
  });

  it('numbers confirms per channel, independently on two confirm channels', async () => {
    const { conn, ch } = await clients.open();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const a = await clients.confirmChannel(conn);
    const b = await clients.confirmChannel(conn);
    const lastTag = { a: 0, b: 0 };
    a.on('ack', (f: { deliveryTag: number }) => (lastTag.a = f.deliveryTag));
    b.on('ack', (f: { deliveryTag: number }) => (lastTag.b = f.deliveryTag));
    for (let i = 0; i < 3; i++) a.sendToQueue(queue, Buffer.from('a'));
    for (let i = 0; i < 5; i++) b.sendToQueue(queue, Buffer.from('b'));
    await Promise.all([a.waitForConfirms(), b.waitForConfirms()]);
    expect(lastTag).toEqual({ a: 3, b: 5 });
  });
});
