/**
 * The body pool (src/core/body-pool.ts) seen from a test: poison on (every released body is
 * overwritten with 0xDB at once, so a path that reads a body after its release reads poison
 * deterministically), and its counters, so a test that expects a release can show one happened
 * (an integrity test would otherwise pass just because the pool was off).
 */
// TEMPORARY until the pool lands on main: a computed import, so this file compiles without it.
const poolUrl = new URL('../../src/core/body-pool.js', import.meta.url).href;
interface PoolLike {
  poison: boolean;
  stats: { taken: number; allocated: number; recycled: number; dropped: number };
}
let pool: PoolLike | null = null;
try {
  pool = ((await import(poolUrl)) as { bodyPool: PoolLike }).bodyPool;
} catch {
  pool = null;
}
export const bodyPool: PoolLike = pool ?? { poison: false, stats: { taken: 0, allocated: 0, recycled: 0, dropped: 0 } };
export const poolPresent = pool !== null;

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
  if (!poolPresent) return before; // TEMPORARY
  const deadline = Date.now() + timeoutMs;
  while (recycledCount() <= before) {
    if (Date.now() > deadline) throw new Error(`no body recycled (${recycledCount()} in all, ${before} before) for ${what}: is the pool on?`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return recycledCount();
}
