/**
 * The body pool on its own (src/core/body-pool.ts): which bodies it pools, the capacity
 * classes, the store fence a released body waits behind, poisoning, and the bound on what it
 * keeps. The AMQP path that feeds it is tested in test/plugins/amqp/body-recycling.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { BODY_POOL_MAX_BYTES, BODY_POOL_MIN_BYTES, BodyPool, type BodyFence } from '../../../src/core/body-pool.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const store: BodyFence = { durableLsn: 10 };

describe('body pool', () => {
  it('pools bodies from 32 KiB to 16 MiB only', () => {
    expect(BodyPool.pools(BODY_POOL_MIN_BYTES - 1)).toBe(false);
    expect(BodyPool.pools(BODY_POOL_MIN_BYTES)).toBe(true);
    expect(BodyPool.pools(BODY_POOL_MAX_BYTES)).toBe(true);
    expect(BodyPool.pools(BODY_POOL_MAX_BYTES + 1)).toBe(false);
  });

  it('gives a released buffer to the next body of its capacity class, four classes per power of two', () => {
    const pool = new BodyPool();
    const a = pool.take(MiB);
    expect(a.length).toBe(MiB);
    expect(a.buffer.byteLength).toBe(MiB);
    expect(pool.take(MiB + 1).buffer.byteLength).toBe(MiB + 256 * KiB);
    expect(pool.take(1.5 * MiB).buffer.byteLength).toBe(1.5 * MiB);
    expect(pool.take(100 * KiB).buffer.byteLength).toBe(112 * KiB);
    pool.release(a, store, 10);
    const b = pool.take(MiB - 1000); // same class
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(MiB - 1000);
    expect(pool.take(MiB).buffer).not.toBe(a.buffer); // in use again
    expect(pool.stats).toMatchObject({ taken: 6, allocated: 5, recycled: 1, dropped: 0 });
  });

  it('keeps a released body until its store is durable past the last record written with it', () => {
    const pool = new BodyPool();
    const store = { durableLsn: 100 };
    const a = pool.take(64 * KiB);
    pool.release(a, store, 250);
    expect(pool.take(64 * KiB).buffer).not.toBe(a.buffer);
    store.durableLsn = 249;
    expect(pool.take(64 * KiB).buffer).not.toBe(a.buffer);
    store.durableLsn = 250;
    expect(pool.take(64 * KiB).buffer).toBe(a.buffer);
  });

  it('waits in release order: a body of a slow store holds back those released after it', () => {
    const pool = new BodyPool();
    const slow = { durableLsn: 0 };
    const a = pool.take(64 * KiB);
    const b = pool.take(64 * KiB);
    pool.release(a, slow, 5);
    pool.release(b, store, 0); // never written: nothing to wait for
    // b passed its fence at release: straight to the free list
    expect(pool.take(64 * KiB).buffer).toBe(b.buffer);
    expect(pool.take(64 * KiB).buffer).not.toBe(a.buffer);
    slow.durableLsn = 5;
    expect(pool.take(64 * KiB).buffer).toBe(a.buffer);
  });

  it('poisons a body when it becomes reusable, not while its journal write may still read it', () => {
    const pool = new BodyPool();
    pool.poison = true;
    const a = pool.take(64 * KiB);
    a.fill(7);
    const view = a.subarray(100, 200);
    const slow = { durableLsn: 0 };
    pool.release(a, slow, 1);
    expect(view.every((x) => x === 7)).toBe(true); // the round writing it sees the real bytes
    slow.durableLsn = 1;
    pool.take(64 * KiB); // drains the quarantine: now reusable, so poisoned
    expect(view.every((x) => x === 0xdb)).toBe(true);
  });

  it('keeps at most maxFreeBytes on its free lists and drops the rest', () => {
    const pool = new BodyPool();
    pool.maxFreeBytes = 2 * MiB;
    const bodies = [pool.take(MiB), pool.take(MiB), pool.take(MiB)];
    for (const b of bodies) pool.release(b, store, 10);
    expect(pool.freeBytes).toBe(2 * MiB);
    expect(pool.stats.recycled).toBe(2);
    expect(pool.stats.dropped).toBe(1);
  });
});
