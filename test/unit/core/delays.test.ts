import { describe, expect, it } from 'vitest';
import type { BrokerError } from '../../../src/core/errors.js';
import { msg, setup, sleep } from './harness.js';
describe('delayed-message exchange', () => {
  it('holds messages for x-delay ms, in due order, and routes them by the inner type', async () => {
    const { s, rec } = setup();
    s.declareExchange('delayed', 'x-delayed-message', { arguments: { 'x-delayed-type': 'direct' } });
    s.declareQueue('q', {});
    s.bindQueue('q', 'delayed', 'k');
    s.consume('q', { consumerTag: 'c', noAck: true });
    const t0 = Date.now();
    s.publish(msg('k', 'late', { headers: { 'x-delay': 80 } }, 'delayed'), false);
    s.publish(msg('k', 'soon', { headers: { 'x-delay': 30 } }, 'delayed'), false);
    s.publish(msg('k', 'now', {}, 'delayed'), false);
    s.publish(msg('nokey', 'unroutable', { headers: { 'x-delay': 10 } }, 'delayed'), true);
    expect(rec.got.map((g) => g.m.body.toString())).toEqual(['now']);
    expect(rec.returns).toEqual(['unroutable']);
    await sleep(150);
    expect(rec.got.map((g) => g.m.body.toString())).toEqual(['now', 'soon', 'late']);
    expect(rec.got[1].at - t0).toBeGreaterThanOrEqual(25);
    expect(rec.got[2].at - t0).toBeGreaterThanOrEqual(75);
  });

  it('refuses a missing or unknown x-delayed-type with 406', () => {
    const { s } = setup();
    const codeOf = (f: () => void) => {
      try {
        f();
        return 0;
      } catch (e) {
        return (e as BrokerError).replyCode;
      }
    };
    expect(codeOf(() => s.declareExchange('d1', 'x-delayed-message', {}))).toBe(406);
    expect(codeOf(() => s.declareExchange('d2', 'x-delayed-message', { arguments: { 'x-delayed-type': 'nope' } }))).toBe(406);
  });
});

describe('redelivery back-off', () => {
  it('returns an explicitly requeued message only after the next delay', async () => {
    const { s, rec } = setup();
    s.declareQueue('jobs', { arguments: { 'x-redelivery-backoff': '40ms,80ms' } });
    s.publish(msg('jobs', 'job'), false);
    s.consume('jobs', { consumerTag: 'w' });
    const t0 = Date.now();
    s.nack(1, false, true);
    expect(rec.got.length).toBe(1);
    await sleep(70);
    expect(rec.got.length).toBe(2);
    expect(rec.got[1].at - t0).toBeGreaterThanOrEqual(35);
    s.nack(2, false, true);
    await sleep(50);
    expect(rec.got.length).toBe(2); // second delay is 80 ms
    await sleep(60);
    expect(rec.got.length).toBe(3);
  });
});

describe('failure replies (x-reply-on-failure)', () => {
  it('answers an unroutable or expired request at its reply address', async () => {
    const { s, rec } = setup();
    s.declareQueue('replies', {});
    s.consume('replies', { consumerTag: 'r', noAck: true });
    s.publish(msg('no-such-queue', 'req', { replyTo: 'replies', correlationId: 'c1', headers: { 'x-reply-on-failure': true } }), false);
    s.declareQueue('slow', { arguments: { 'x-message-ttl': 10, 'x-reply-on-failure': true } });
    s.publish(msg('slow', 'req2', { replyTo: 'replies', correlationId: 'c2' }), false);
    s.publish(msg('no-such-queue', 'quiet', { replyTo: 'replies', correlationId: 'c3' }), false);
    await sleep(50);
    expect(rec.got.map((g) => [g.m.properties.correlationId, g.m.properties.headers?.['x-failure']])).toEqual([
      ['c1', 'unroutable'],
      ['c2', 'expired'],
    ]);
  });
});
