/**
 * Message rates per exchange, channel and connection, in RabbitMQ's shapes: an exchange's
 * `message_stats.publish_in` / `publish_out`, a channel's `message_stats` (publish, confirm,
 * deliver, ack, get, get_empty, redeliver, return_unroutable, drop_unroutable, deliver_get),
 * a connection's recv_oct / send_oct (with `_details.rate`), recv_cnt, send_cnt — counted
 * from what real amqplib, MQTT.js and STOMP clients do.
 */
import { connect as netConnect } from 'node:net';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enc, eventually, startManaged, type ManagedBroker } from './helpers.js';

let m: ManagedBroker;
beforeAll(async () => {
  m = await startManaged({ mqtt: true, stomp: true });
});
afterAll(async () => {
  await m?.stop();
});

type Stats = Record<string, number | { rate: number }>;
interface ConnJson {
  name: string;
  user_provided_name: string | null;
  protocol: string;
  recv_oct: number;
  send_oct: number;
  recv_cnt: number;
  send_cnt: number;
  recv_oct_details: { rate: number };
  send_oct_details: { rate: number };
}

const rate = (s: Stats, key: string) => (s[`${key}_details`] as { rate: number }).rate;

async function connectionNamed(name: string): Promise<ConnJson> {
  return eventually(async () => (await m.api<ConnJson[]>('GET', '/api/connections')).body.find((c) => c.user_provided_name === name));
}

/** Publish to `exchange` every few ms until `until` resolves, so that a sample always sees traffic. */
async function keepPublishing(ch: amqp.ConfirmChannel, exchange: string, until: Promise<unknown>): Promise<number> {
  let done = false;
  let n = 0;
  void until.finally(() => (done = true));
  while (!done) {
    ch.publish(exchange, 'k', Buffer.from('tick'));
    n++;
    await ch.waitForConfirms();
    await new Promise((r) => setTimeout(r, 10));
  }
  return n;
}

describe('message rates per exchange, channel and connection', () => {
  it('exchange publish_in / publish_out and channel counters follow what an amqplib client does', async () => {
    const c = await amqp.connect(m.amqpUrl, { clientProperties: { connection_name: 'rates-amqp' } });
    try {
      const ch = await c.createConfirmChannel();
      await ch.assertExchange('rates.x', 'fanout', { durable: false });
      for (const q of ['rates.q1', 'rates.q2']) {
        await ch.assertQueue(q, { durable: false });
        await ch.bindQueue(q, 'rates.x', '');
      }
      // 10 published, each routed to two queues
      for (let i = 0; i < 10; i++) ch.publish('rates.x', 'k', Buffer.from(`m${i}`));
      await ch.waitForConfirms();
      // a mandatory message nobody takes is returned; a plain one is dropped
      const returned = new Promise((resolve) => ch.once('return', resolve));
      ch.publish('amq.direct', 'nowhere', Buffer.from('r'), { mandatory: true });
      ch.publish('amq.direct', 'nowhere', Buffer.from('d'));
      await ch.waitForConfirms();
      await returned;

      const x = (await m.api('GET', '/api/exchanges/%2F/rates.x')).body as { message_stats: Stats };
      expect(x.message_stats).toMatchObject({ publish_in: 10, publish_out: 20 });
      expect(x.message_stats.publish_in_details).toEqual({ rate: expect.any(Number) });
      const listed = (await m.api<{ name: string; message_stats: Stats }[]>('GET', '/api/exchanges/%2F')).body.find((e) => e.name === 'rates.x')!;
      expect(listed.message_stats).toMatchObject({ publish_in: 10, publish_out: 20 });

      // consume 5 with acks from q1, get 3 (2 acked, 1 nacked back → redelivered on the next get), one get on an empty queue
      await ch.prefetch(5);
      const got: amqp.ConsumeMessage[] = [];
      let five!: () => void;
      const fiveArrived = new Promise<void>((resolve) => (five = resolve));
      const { consumerTag } = await ch.consume('rates.q1', (msg) => {
        got.push(msg!);
        if (got.length === 5) five();
      });
      await fiveArrived;
      // cancelled before any ack frees credit: exactly the prefetch of 5 was delivered
      await ch.cancel(consumerTag);
      for (const msg of got) ch.ack(msg);
      const g1 = await ch.get('rates.q2');
      const g2 = await ch.get('rates.q2');
      const g3 = await ch.get('rates.q2');
      if (!g1 || !g2 || !g3) throw new Error('expected three messages');
      ch.ack(g1);
      ch.ack(g2);
      ch.nack(g3, false, true);
      const again = await ch.get('rates.q2', { noAck: true });
      expect(again && again.fields.redelivered).toBe(true);
      await ch.assertQueue('rates.empty', { durable: false });
      expect(await ch.get('rates.empty')).toBe(false);

      const conn = await connectionNamed('rates-amqp');
      const chans = (await m.api<{ message_stats: Stats }[]>('GET', `/api/connections/${enc(conn.name)}/channels`)).body;
      expect(chans).toHaveLength(1);
      expect(chans[0]!.message_stats).toMatchObject({
        publish: 12,
        confirm: 12,
        return_unroutable: 1,
        drop_unroutable: 1,
        deliver: 5,
        get: 3,
        get_no_ack: 1,
        get_empty: 1,
        redeliver: 1,
        ack: 7,
        deliver_get: 9,
      });
      // /api/channels shows the same object
      const all = (await m.api<{ name: string; message_stats: Stats; connection_details: { name: string } }[]>('GET', '/api/channels')).body;
      expect(all.find((x2) => x2.connection_details.name === conn.name)!.message_stats).toMatchObject({ publish: 12, ack: 7 });

      // rates: a steady trickle of publishes shows up as a positive rate on the exchange, the channel and the connection
      const sawRates = eventually(async () => {
        const xs = ((await m.api('GET', '/api/exchanges/%2F/rates.x')).body as { message_stats: Stats }).message_stats;
        const cs = (await m.api<{ message_stats: Stats }[]>('GET', `/api/connections/${enc(conn.name)}/channels`)).body[0]!.message_stats;
        const cn = await connectionNamed('rates-amqp');
        return rate(xs, 'publish_in') > 0 && rate(xs, 'publish_out') > 0 && rate(cs, 'publish') > 0 && rate(cs, 'confirm') > 0 && cn.recv_oct_details.rate > 0 && cn.send_oct_details.rate > 0
          ? true
          : undefined;
      }, 15_000);
      const ticks = await keepPublishing(ch, 'rates.x', sawRates);
      expect(ticks).toBeGreaterThan(0);
    } finally {
      await c.close();
    }
  });

  it('connections of every protocol report their socket bytes and read/write counts', async () => {
    const c = await amqp.connect(m.amqpUrl, { clientProperties: { connection_name: 'rates-bytes' } });
    const mq = await mqtt.connectAsync(`mqtt://127.0.0.1:${m.broker.address('mqtt').port}`, { clientId: 'rates-mqtt', reconnectPeriod: 0 });
    const stomp = netConnect(m.broker.address('stomp').port, '127.0.0.1');
    const stompOpen = new Promise<void>((resolve) => stomp.once('connect', () => resolve()));
    try {
      const ch = await c.createChannel();
      const body = Buffer.alloc(10_000, 7);
      await ch.assertQueue('rates.bytes', { durable: false });
      ch.sendToQueue('rates.bytes', body);
      await eventually(async () => ((await ch.get('rates.bytes', { noAck: true })) ? true : undefined));
      const amqpConn = await connectionNamed('rates-bytes');
      // at least the body each way, plus framing
      expect(amqpConn.recv_oct).toBeGreaterThan(10_000);
      expect(amqpConn.send_oct).toBeGreaterThan(10_000);
      expect(amqpConn.recv_cnt).toBeGreaterThan(0);
      expect(amqpConn.send_cnt).toBeGreaterThan(0);

      await mq.publishAsync('rates/bytes', Buffer.alloc(5000, 1), { qos: 1 });
      const mqttConn = await connectionNamed('rates-mqtt');
      expect(mqttConn.recv_oct).toBeGreaterThan(5000);
      expect(mqttConn.send_cnt).toBeGreaterThan(0); // CONNACK, PUBACK

      await stompOpen;
      const connected = new Promise<void>((resolve) => stomp.once('data', () => resolve()));
      stomp.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
      await connected;
      const stompConn = await eventually(async () => (await m.api<ConnJson[]>('GET', '/api/connections')).body.find((x) => x.protocol.startsWith('STOMP')));
      expect(stompConn.recv_oct).toBeGreaterThan(40);
      expect(stompConn.send_oct).toBeGreaterThan(20);
      expect(stompConn.recv_cnt).toBeGreaterThan(0);
      expect(stompConn.send_cnt).toBeGreaterThan(0);
    } finally {
      stomp.destroy();
      await mq.endAsync();
      await c.close();
    }
  });
});
