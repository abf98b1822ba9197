/** mulberry32: a small seeded PRNG, so that a simulation run replays exactly from its seed. */
export class Prng {
  #state: number;
  readonly seed: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.#state = this.seed;
  }

  /** uniform in [0, 1) */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

/**
 * A seed from the environment (`name`); else, as the fuzz suites do (fuzz-seed.ts), a fixed one
 * in CI (`CI=true`: a CI run is reproducible) and a fresh one elsewhere. Print it, so that a
 * failure can be replayed.
 */
export function seedFrom(name: string): number {
  const v = process.env[name];
  if (v !== undefined && v !== '') return Number(v) >>> 0;
  return process.env.CI === 'true' ? 0x5eed : (Math.random() * 2 ** 32) >>> 0;
}
