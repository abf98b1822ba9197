import { describe, expect, it } from 'vitest';
import { Recorder, setup } from './harness.js';

// A closing connection deletes its exclusive queues (AMQP 0-9-1 queue.declare "exclusive")
// from the vhost's index of them: a device storm has as many queues as devices, and a walk
// over every queue per closing connection made the close of n connections cost n²
describe('exclusive queues end with their connection', () => {
  it('only the closing connection’s own, including those declared after others were deleted', () => {
    const { core, conn, s } = setup();
    const vhost = core.vhosts.get('/')!;
    const other = core.connect({ protocol: 'test', vhost: '/', user: 'guest', peerHost: '::1', peerPort: 2 });
    const s2 = other.openSession(new Recorder());
    s.declareQueue('mine-1', { exclusive: true });
    s.declareQueue('mine-2', { exclusive: true });
    s2.declareQueue('theirs', { exclusive: true });
    s.declareQueue('shared', {});
    s.deleteQueue('mine-1', false, false);
    s.declareQueue('mine-3', { exclusive: true });
    conn.close();
    expect([...vhost.queues.keys()].sort()).toEqual(['shared', 'theirs']);
    other.close();
    expect([...vhost.queues.keys()]).toEqual(['shared']);
  });

  it('closing connections does not cost more with more queues in the vhost', () => {
    /** ms to open `n` connections with an exclusive queue each and close them all, beside `others` shared queues */
    const closeTime = (others: number, n: number): number => {
      const { core, s } = setup();
      for (let i = 0; i < others; i++) s.declareQueue(`device-${i}`, { durable: false });
      const conns = [];
      for (let i = 0; i < n; i++) {
        const c = core.connect({ protocol: 'test', vhost: '/', user: 'guest', peerHost: '::1', peerPort: i });
        c.openSession(new Recorder()).declareQueue(`ex-${i}`, { exclusive: true });
        conns.push(c);
      }
      const started = performance.now();
      for (const c of conns) c.close();
      const ms = performance.now() - started;
      expect(core.vhosts.get('/')!.queues.size).toBe(others);
      return ms;
    };
    // the best of three each (a loaded machine slows some runs): with a walk over every queue
    // the second is 30 to 100 times the first; from the index, about the same
    const few = Math.min(closeTime(100, 1000), closeTime(100, 1000), closeTime(100, 1000));
    const many = Math.min(closeTime(20_000, 1000), closeTime(20_000, 1000), closeTime(20_000, 1000));
    expect(many).toBeLessThan(few * 4 + 20);
  });
});
