import { describe, expect, it } from 'vitest';
import type { Session } from '../../../src/core/api.js';
import { code, msg, Recorder, setup } from './harness.js';

function publishN(s: Session, q: string, n: number) {
  for (let i = 0; i < n; i++) s.publish(msg(q, `m${i}`), false);
}

describe('core session', () => {
  it('routes through the default exchange and delivers with prefetch', () => {
    const { rec, s } = setup();
    s.declareQueue('q', {});
    publishN(s, 'q', 5);
    s.qos(2, false);
    s.consume('q', { consumerTag: 'c1' });
    expect(rec.got.map((d) => d.body)).toEqual(['m0', 'm1']);
    s.ack(1, false);
    expect(rec.got.map((d) => d.body)).toEqual(['m0', 'm1', 'm2']);
    s.ack(3, true);
    expect(rec.got.map((d) => d.body)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(code(() => s.ack(99, false))).toBe(406);
  });

  it('requeues unacked messages on close, flagged and in their original order', () => {
    const { conn, s } = setup();
    s.declareQueue('q', {});
    publishN(s, 'q', 6);
    s.consume('q', { consumerTag: 'c' });
    s.ack(2, false); // m1 acked; m0, m2..m5 unacked
    s.close();
    const rec2 = new Recorder();
    const s2 = conn.openSession(rec2);
    s2.consume('q', { consumerTag: 'c2', noAck: true });
    expect(rec2.got.map((d) => [d.body, d.redelivered])).toEqual([
      ['m0', true],
      ['m2', true],
      ['m3', true],
      ['m4', true],
      ['m5', true],
    ]);
  });

  it('delivers by priority, FIFO within a level, clamping to the maximum', () => {
    const { rec, s } = setup();
    s.declareQueue('pq', { arguments: { 'x-max-priority': 5 } });
    const pri = [1, 9, 0, 5, 3, 5, undefined, 1];
    pri.forEach((p, i) => s.publish(msg('pq', `m${i}`, p === undefined ? {} : { priority: p }), false));
    s.consume('pq', { noAck: true });
    expect(rec.got.map((d) => d.body)).toEqual(['m1', 'm3', 'm5', 'm4', 'm0', 'm7', 'm2', 'm6']);
  });

  it('round-robins between consumers', () => {
    const { rec, s } = setup();
    s.declareQueue('q', {});
    s.consume('q', { consumerTag: 'a', noAck: true });
    s.consume('q', { consumerTag: 'b', noAck: true });
    publishN(s, 'q', 4);
    expect(rec.got.map((d) => d.tag)).toEqual(['a', 'b', 'a', 'b']);
  });

  it('enforces exclusivity between connections', () => {
    const { core, s } = setup();
    s.declareQueue('ex', { exclusive: true });
    const other = core.connect({ protocol: 'test', vhost: '/', user: 'guest', peerHost: '::1', peerPort: 2 });
    const s2 = other.openSession(new Recorder());
    expect(code(() => s2.declareQueue('ex', { passive: true }))).toBe(405);
    expect(code(() => s2.consume('ex', {}))).toBe(405);
    expect(code(() => s2.declareQueue('ex', {}))).toBe(405);
  });

  it('deletes exclusive queues with their connection and auto-delete queues after the last consumer', () => {
    const { core, conn, rec, s } = setup();
    s.declareQueue('ex', { exclusive: true });
    s.declareQueue('ad', { autoDelete: true });
    const tag = s.consume('ad', {});
    s.cancel(tag);
    const vhost = core.vhosts.get('/')!;
    expect(vhost.queues.has('ad')).toBe(false);
    conn.close();
    expect(vhost.queues.has('ex')).toBe(false);
    expect(rec.cancelled).toEqual([]);
  });

  it('notifies consumers when their queue is deleted', () => {
    const { rec, s } = setup();
    s.declareQueue('q', {});
    s.consume('q', { consumerTag: 'c' });
    expect(s.deleteQueue('q', false, false)).toBe(0);
    expect(rec.cancelled).toEqual(['c']);
  });

  it('routes topic, fanout, headers and exchange-to-exchange bindings without duplicates', () => {
    const { rec, s } = setup();
    s.declareQueue('q1', {});
    s.declareQueue('q2', {});
    s.declareExchange('t', 'topic', {});
    s.declareExchange('f', 'fanout', {});
    s.bindQueue('q1', 't', 'a.*');
    s.bindQueue('q1', 't', '#');
    s.bindExchange('f', 't', 'a.#');
    s.bindQueue('q2', 'f', '');
    s.bindQueue('q1', 'f', '');
    s.publish(msg('a.b', 'x', {}, 't'), false);
    s.consume('q1', { consumerTag: 'c1', noAck: true });
    s.consume('q2', { consumerTag: 'c2', noAck: true });
    expect(rec.got.map((d) => d.tag).sort()).toEqual(['c1', 'c2']);
    s.publish(msg('zzz', 'unroutable', {}, 'amq.direct'), true);
    expect(rec.returns).toEqual(['unroutable']);
  });

  it('reports RabbitMQ reply codes for declaration errors', () => {
    const { s } = setup();
    s.declareExchange('x', 'direct', {});
    expect(code(() => s.declareExchange('x', 'fanout', {}))).toBe(406);
    expect(code(() => s.declareExchange('amq.foo', 'direct', {}))).toBe(403);
    expect(code(() => s.declareExchange('nope', 'direct', { passive: true }))).toBe(404);
    expect(code(() => s.declareExchange('y', 'bogus', {}))).toBe(406);
    expect(code(() => s.declareQueue('nope', { passive: true }))).toBe(404);
    expect(code(() => s.declareQueue('amq.q', {}))).toBe(403);
    s.declareQueue('q', { durable: true });
    expect(code(() => s.declareQueue('q', { durable: false }))).toBe(406);
    expect(code(() => s.declareQueue('p', { arguments: { 'x-max-priority': 256 } }))).toBe(406);
    expect(code(() => s.bindQueue('q', '', 'k'))).toBe(403);
    expect(code(() => s.publish(msg('k', 'b', {}, 'missing'), false))).toBe(404);
    s.bindQueue('q', 'x', 'k');
    expect(code(() => s.deleteExchange('x', true))).toBe(406);
    s.publish(msg('q', 'b'), false);
    expect(code(() => s.deleteQueue('q', false, true))).toBe(406);
    expect(s.purgeQueue('q')).toBe(1);
  });
});
