/**
 * Details where clients depend on RabbitMQ's exact behaviour: headers-exchange value
 * comparison across wire types, the wire type of x-death counts, unbinding what is gone,
 * CC/BCC headers that are not arrays, and an unknown exchange type. Each case was checked
 * against RabbitMQ 3.10.8 (WARREN_TEST_AMQP_URL); the exchange-type case follows 3.13+,
 * which closes the channel where 3.10 closed the connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeEvent, drain, expectCode, firstError, isClosed, sleep, uniqueName, useClients } from '../../helpers/amqp-clients.js';
import { ArgWriter, FRAME_HEADER, Method, methodFrame } from '../../helpers/amqp-frames.js';
import { isExternalBroker, startBroker, type TestBroker } from '../../helpers/broker.js';
import { RawAmqpClient } from '../../helpers/raw-amqp-client.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});
const clients = useClients(() => broker.url);

describe('headers exchange value comparison (RabbitMQ compares values, not wire types)', () => {
  async function routedBy(binding: Record<string, unknown>, headers: Record<string, unknown>): Promise<boolean> {
    const { ch } = await clients.open();
    const x = uniqueName('hdr');
    await ch.assertExchange(x, 'headers', { autoDelete: true });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, x, '', { 'x-match': 'all', ...binding });
    ch.publish(x, '', Buffer.from('m'), { headers });
    const got = await drain(ch, queue);
    return got.length === 1;
  }

  it('an int binding value matches a long header of the same number, and other widths', async () => {
    expect(await routedBy({ n: { '!': 'int', value: 1 } }, { n: { '!': 'long', value: 1 } })).toBe(true);
    expect(await routedBy({ n: { '!': 'long', value: 7 } }, { n: { '!': 'byte', value: 7 } })).toBe(true);
    expect(await routedBy({ n: { '!': 'short', value: 300 } }, { n: { '!': 'int', value: 300 } })).toBe(true);
    expect(await routedBy({ n: { '!': 'int', value: 1 } }, { n: { '!': 'long', value: 2 } })).toBe(false);
  });

  it('longs beyond 2^53 compare exactly: neighbouring 64-bit ids that round to one double do not match', async () => {
    expect(await routedBy({ id: { '!': 'long', value: 9007199254740993n } }, { id: { '!': 'long', value: 9007199254740993n } })).toBe(true);
    expect(await routedBy({ id: { '!': 'long', value: 9007199254740993n } }, { id: { '!': 'long', value: 9007199254740992n } })).toBe(false);
  });

  it('a long string matches a byte array with the same bytes, both ways', async () => {
    expect(await routedBy({ k: 'abc' }, { k: Buffer.from('abc') })).toBe(true);
    expect(await routedBy({ k: Buffer.from('abc') }, { k: 'abc' })).toBe(true);
    expect(await routedBy({ k: 'abc' }, { k: Buffer.from('abd') })).toBe(false);
    // a string is not a number, whatever it spells
    expect(await routedBy({ k: '1' }, { k: 1 })).toBe(false);
  });
});

describe('x-death', () => {
  it('writes count as a long (tag l), as RabbitMQ does: Java and .NET clients cast it to Long', async () => {
    const { ch } = await clients.open();
    const dlx = uniqueName('dlx');
    await ch.assertExchange(dlx, 'fanout', { autoDelete: true });
    const { queue: dead } = await ch.assertQueue(uniqueName('dead'), { autoDelete: false });
    await ch.bindQueue(dead, dlx, '');
    const { queue: source } = await ch.assertQueue('', { exclusive: true, arguments: { 'x-dead-letter-exchange': dlx } });
    ch.sendToQueue(source, Buffer.from('doomed'));
    const msg = await waitForMessage(ch, source);
    ch.nack(msg, false, false);
    await sleep(50);
    const raw = await RawAmqpClient.openHandshaken(broker.host, broker.port);
    try {
      await raw.openChannel(1);
      raw.send(methodFrame(1, Method.basicGet, new ArgWriter().short(0).shortstr(dead).bit(true)));
      await raw.expectMethod(Method.basicGetOk);
      const header = await raw.nextFrame();
      expect(header.type).toBe(FRAME_HEADER);
      // "count" as a short string key followed by its value's type tag
      const countTag = header.payload[header.payload.indexOf(Buffer.from('\x05count')) + 6];
      expect(String.fromCharCode(countTag!)).toBe('l');
    } finally {
      raw.destroy();
      await ch.deleteQueue(dead);
    }
  });
});

describe('unbind of what does not exist (RabbitMQ 3.x: unbind-ok)', () => {
  it('answers unbind-ok when the queue or the exchange is missing, and keeps the channel open', async () => {
    const { ch } = await clients.open();
    await ch.unbindQueue(uniqueName('no-such-queue'), 'amq.direct', 'k');
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.unbindQueue(queue, uniqueName('no-such-exchange'), 'k');
    await ch.unbindExchange(uniqueName('no-such-dest'), 'amq.direct', 'k');
    await ch.unbindExchange('amq.fanout', uniqueName('no-such-source'), 'k');
    // binding still insists on both ends
    await expectCode(ch.bindQueue(uniqueName('no-such-queue'), 'amq.direct', 'k'), 404);
  });
});

describe('CC and BCC headers', () => {
  for (const [header, value, type] of [
    ['CC', 'abc', 'longstr'],
    ['BCC', 5, 'byte'],
  ] as const) {
    it(`refuses a ${header} header that is not an array (${type}) with channel 406, as RabbitMQ does`, async () => {
      const { conn, ch } = await clients.open();
      const { queue } = await ch.assertQueue('', { exclusive: false, autoDelete: true });
      ch.publish('', queue, Buffer.from('x'), { headers: { [header]: value } });
      const err = await firstError(ch);
      expect(err.code).toBe(406);
      expect(err.message).toContain(`invalid message: {unacceptable_type_in_header,"${header}",${type}}`);
      expect(isClosed(conn)).toBe(false);
      const other = await clients.channel(conn);
      expect((await other.checkQueue(queue)).messageCount).toBe(0);
    });
  }

  it('still routes an array with non-string members by its string members', async () => {
    const { ch } = await clients.open();
    const { queue: a } = await ch.assertQueue('', { exclusive: true });
    const { queue: b } = await ch.assertQueue('', { exclusive: true });
    ch.publish('', a, Buffer.from('x'), { headers: { CC: [1, b] } });
    expect((await drain(ch, b)).length).toBe(1);
    expect((await drain(ch, a)).length).toBe(1);
  });
});

describe('unknown exchange type', () => {
  it.skipIf(isExternalBroker)('closes the channel with 406 PRECONDITION_FAILED (RabbitMQ 3.13+), not the connection', async () => {
    const { conn, ch } = await clients.open();
    const err = await expectCode(ch.assertExchange(uniqueName('x'), 'no-such-type'), 406);
    expect(err.message).toContain("unknown exchange type 'no-such-type'");
    await closeEvent(ch);
    expect(isClosed(conn)).toBe(false);
    const other = await clients.channel(conn);
    await other.checkExchange('amq.direct');
  });
});

async function waitForMessage(ch: import('amqplib').Channel, queue: string) {
  for (let i = 0; i < 100; i++) {
    const m = await ch.get(queue);
    if (m) return m;
    await sleep(10);
  }
  throw new Error(`no message in ${queue}`);
}

describe('connection.update-secret', () => {
  it('is answered update-secret-ok and the connection carries on (internal users: the secret is not re-checked, as RabbitMQ)', async () => {
    const conn = await clients.connect();
    const ch = await clients.channel(conn);
    await conn.updateSecret(Buffer.from('a rotated token'), 'rotation');
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('after'));
    expect((await drain(ch, queue)).length).toBe(1);
    expect(isClosed(conn)).toBe(false);
  });
});
