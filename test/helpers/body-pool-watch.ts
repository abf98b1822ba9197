/**
 * The body pool (src/core/body-pool.ts) seen from a test: poison on (a body is overwritten with
 * 0xDB the moment it becomes reusable, after the socket and the journal are done with it, so a
 * path that still reads it then reads poison deterministically, not only when the memory
 * happens to be reused), and its counters, so a
 * test that expects a release can show one happened (an integrity test would otherwise pass
 * just because the pool was off).
 */
import { bodyPool } from '../../src/core/body-pool.js';

/** Turns poison on; @returns what puts it back as it was (call it in afterAll). */
export function poisonBodyPool(): () => void {
  const was = bodyPool.poison;
  bodyPool.poison = true;
  return () => {
    bodyPool.poison = was;
  };
}

/** Bodies given back to the pool so far. */
export const recycledCount = (): number => bodyPool.stats.recycled;

/**
 * Waits until the pool has recycled more than `before` bodies: releases wait for the socket and
 * the journal, so they come a little after the ack that allowed them.
 */
export async function recycledPast(before: number, what: string, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (recycledCount() <= before) {
    if (Date.now() > deadline) throw new Error(`no body recycled (${recycledCount()} in all, ${before} before) for ${what}: is the pool on?`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return recycledCount();
}
