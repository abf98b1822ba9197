import { describe, expect, it } from 'vitest';
import { TypedValue, type FieldTable } from '../../../src/codec/types.js';
import { code, msg, Recorder, setup, sleep } from './harness.js';
describe('expiry and dead-lettering', () => {
  it('expires by the lower of queue and message TTL and dead-letters with x-death', async () => {
    const { s, rec } = setup();
    s.declareExchange('dlx', 'fanout', {});
    s.declareQueue('dead', {});
    s.bindQueue('dead', 'dlx', '');
    s.declareQueue('work', { arguments: { 'x-message-ttl': 1000, 'x-dead-letter-exchange': 'dlx' } });
    s.publish(msg('work', 'short', { expiration: '20' }), false);
    s.publish(msg('work', 'long'), false);
    await sleep(60);
    s.consume('dead', { consumerTag: 'd', noAck: true });
    expect(rec.bodies()).toEqual(['short']);
    const h = rec.got[0].m.properties.headers as FieldTable;
    const death = (h['x-death'] as FieldTable[])[0];
    expect(death).toMatchObject({ count: new TypedValue('l', 1), reason: 'expired', queue: 'work', exchange: '', 'routing-keys': ['work'], 'original-expiration': '20' });
    expect(h['x-first-death-reason']).toBe('expired');
    expect(rec.got[0].m.properties.expiration).toBeUndefined();
    expect(rec.got[0].m.exchange).toBe('dlx');
  });

  it('dead-letters rejected messages with a dead-letter routing key and counts repeated cycles', () => {
    const { s, rec } = setup();
    s.declareQueue('work', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'retry' } });
    s.declareQueue('retry', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'work' } });
    s.publish(msg('work', 'job'), false);
    s.consume('work', { consumerTag: 'w' });
    s.reject(1, false); // -> retry
    s.consume('retry', { consumerTag: 'r' });
    s.reject(2, false); // -> work again
    s.reject(3, false); // -> retry again
    const last = rec.got[rec.got.length - 1];
    expect(last.tag).toBe('r');
    const deaths = last.m.properties.headers!['x-death'] as FieldTable[];
    // counts are longs on the wire, as RabbitMQ writes them
    expect(deaths.map((d) => [d.queue, d.reason, d.count])).toEqual([
      ['work', 'rejected', new TypedValue('l', 2)],
      ['retry', 'rejected', new TypedValue('l', 1)],
    ]);
  });

  it('drops an expiry cycle back into the same queue', async () => {
    const { s, core } = setup();
    s.declareQueue('loop', { arguments: { 'x-message-ttl': 5, 'x-dead-letter-exchange': '' } });
    s.publish(msg('loop', 'x'), false);
    await sleep(40);
    expect(core.vhosts.get('/')!.queues.get('loop')!.messageCount).toBe(0);
  });

  it('deletes a queue unused for x-expires', async () => {
    const { s, core } = setup();
    s.declareQueue('tmp', { arguments: { 'x-expires': 30 } });
    await sleep(80);
    expect(core.vhosts.get('/')!.queues.has('tmp')).toBe(false);
  });
});

describe('length limits', () => {
  it('drop-head dead-letters the oldest with reason maxlen', () => {
    const { s, rec } = setup();
    s.declareQueue('dead', {});
    s.declareQueue('q', { arguments: { 'x-max-length': 2, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' } });
    for (const b of ['a', 'b', 'c']) s.publish(msg('q', b), false);
    s.consume('q', { consumerTag: 'q', noAck: true });
    s.consume('dead', { consumerTag: 'd', noAck: true });
    expect(rec.got.map((g) => [g.tag, g.m.body.toString()])).toEqual([
      ['q', 'b'],
      ['q', 'c'],
      ['d', 'a'],
    ]);
    expect((rec.got[2].m.properties.headers!['x-death'] as FieldTable[])[0].reason).toBe('maxlen');
  });

  it('reject-publish nacks the publisher; max-length-bytes counts body bytes', () => {
    const { s, rec } = setup();
    s.declareQueue('q', { arguments: { 'x-max-length-bytes': 5, 'x-overflow': 'reject-publish' } });
    s.publish(msg('q', 'abc'), false, 1);
    s.publish(msg('q', 'de'), false, 2);
    s.publish(msg('q', 'f'), false, 3);
    expect(rec.confirms).toEqual([
      [1, true],
      [2, true],
      [3, false],
    ]);
  });
});

describe('delivery limit', () => {
  it('sets x-delivery-count on redeliveries and dead-letters past the limit', () => {
    const { s, rec } = setup();
    s.declareQueue('dead', {});
    s.declareQueue('q', { arguments: { 'x-delivery-limit': 1, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' } });
    s.publish(msg('q', 'poison'), false);
    s.consume('q', { consumerTag: 'c' });
    s.nack(1, false, true);
    expect(rec.got[1].m.properties.headers!['x-delivery-count']).toBe(1);
    expect(rec.got[1].redelivered).toBe(true);
    s.nack(2, false, true);
    s.consume('dead', { consumerTag: 'd', noAck: true });
    expect(rec.got.map((g) => g.tag)).toEqual(['c', 'c', 'd']);
    expect((rec.got[2].m.properties.headers!['x-death'] as FieldTable[])[0].reason).toBe('delivery_limit');
  });
});

describe('consumers', () => {
  it('prefers higher-priority consumers while they have credit', () => {
    const { conn, s, rec } = setup();
    s.declareQueue('q', {});
    s.qos(1, false);
    s.consume('q', { consumerTag: 'low', arguments: { 'x-priority': 1 } });
    s.consume('q', { consumerTag: 'high', arguments: { 'x-priority': 10 } });
    for (const b of ['1', '2', '3']) s.publish(msg('q', b), false);
    expect(rec.got.map((g) => g.tag)).toEqual(['high', 'low']);
    s.ack(1, false);
    expect(rec.got.map((g) => g.tag)).toEqual(['high', 'low', 'high']);
    conn.close();
  });

  it('single active consumer: one receives, the next takes over on cancel', () => {
    const { s, rec } = setup();
    s.declareQueue('sac', { arguments: { 'x-single-active-consumer': true } });
    s.consume('sac', { consumerTag: 'a', noAck: true });
    s.consume('sac', { consumerTag: 'b', noAck: true });
    s.publish(msg('sac', '1'), false);
    s.publish(msg('sac', '2'), false);
    s.cancel('a');
    s.publish(msg('sac', '3'), false);
    expect(rec.got.map((g) => g.tag)).toEqual(['a', 'a', 'b']);
  });
});

describe('routing extras', () => {
  it('alternate exchange takes unroutable messages; CC and BCC route, BCC is stripped', () => {
    const { s, rec } = setup();
    s.declareExchange('ae', 'fanout', {});
    s.declareQueue('unrouted', {});
    s.bindQueue('unrouted', 'ae', '');
    s.declareExchange('main', 'direct', { arguments: { 'alternate-exchange': 'ae' } });
    s.declareQueue('a', {});
    s.declareQueue('b', {});
    s.declareQueue('c', {});
    s.bindQueue('a', 'main', 'a');
    s.bindQueue('b', 'main', 'b');
    s.bindQueue('c', 'main', 'c');
    s.publish(msg('nowhere', 'lost?', {}, 'main'), true);
    s.publish(msg('a', 'multi', { headers: { CC: ['b'], BCC: ['c'] } }, 'main'), false);
    for (const q of ['unrouted', 'a', 'b', 'c']) s.consume(q, { consumerTag: q, noAck: true });
    expect(rec.returns).toEqual([]);
    expect(rec.got.map((g) => [g.tag, g.m.body.toString()])).toEqual([
      ['unrouted', 'lost?'],
      ['a', 'multi'],
      ['b', 'multi'],
      ['c', 'multi'],
    ]);
    expect(rec.got[3].m.properties.headers).toEqual({ CC: ['b'] });
  });
});

describe('direct reply-to', () => {
  it('routes replies straight to the requesting session', () => {
    const { conn, s, rec } = setup();
    const server = new Recorder();
    const ss = conn.openSession(server);
    ss.declareQueue('rpc', {});
    ss.consume('rpc', { consumerTag: 'srv', noAck: true });
    expect(code(() => s.publish(msg('rpc', 'req', { replyTo: 'amq.rabbitmq.reply-to' }), false))).toBe(406);
    expect(code(() => s.consume('amq.rabbitmq.reply-to', { noAck: false }))).toBe(406);
    s.consume('amq.rabbitmq.reply-to', { consumerTag: 'replies', noAck: true });
    s.publish(msg('rpc', 'req', { replyTo: 'amq.rabbitmq.reply-to', correlationId: '7' }), false);
    const req = server.got[0].m;
    expect(req.properties.replyTo).toMatch(/^amq\.rabbitmq\.reply-to\./);
    ss.publish(msg(req.properties.replyTo!, 'resp', { correlationId: '7' }), false);
    expect(rec.got.map((g) => [g.tag, g.m.body.toString(), g.m.properties.correlationId])).toEqual([['replies', 'resp', '7']]);
  });
});

describe('timers beyond setTimeout range', () => {
  it('does not expire a queue or a message early when x-expires / TTL exceed 24.8 days', async () => {
    const { s, vhost } = setup();
    const days30 = 30 * 24 * 3600 * 1000;
    s.declareQueue('long-lived', { arguments: { 'x-expires': days30, 'x-message-ttl': days30 } });
    s.publish(msg('long-lived', 'kept'), false);
    await sleep(30);
    expect(vhost.queues.has('long-lived')).toBe(true);
    expect(vhost.queues.get('long-lived')!.messageCount).toBe(1);
  });
});
