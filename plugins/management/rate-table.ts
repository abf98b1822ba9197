/**
 * Rates of one kind of object's counters (exchanges, channels, connections): every sample
 * reads each object's counters, and a rate is the difference from its previous sample over
 * the time between. An object new since the last sample did all its counting in between.
 * Objects are snapshots known by their id; each sample keeps only the objects it saw, so a
 * closed channel or deleted exchange leaves nothing behind.
 */
export interface Rated {
  /** counters now, in the table's key order */
  counters: number[];
  /** per second, from the last two samples (zeros before the first) */
  rates: number[];
}

export class RateTable<T extends { readonly id: number }> {
  readonly keys: readonly string[];
  readonly #read: (item: T) => number[];
  #last = new Map<number, { counters: number[]; rates: number[] }>();
  readonly #zeros: number[];

  /** `read` returns an item's counters in `keys` order */
  constructor(keys: readonly string[], read: (item: T) => number[]) {
    this.keys = keys;
    this.#read = read;
    this.#zeros = keys.map(() => 0);
  }

  /** @param seconds since the previous sample (0 on the first) */
  /** @param items every object of the kind: the others' samples are dropped */
  sample(items: Iterable<T>, seconds: number): void {
    const next = new Map<number, { counters: number[]; rates: number[] }>();
    for (const item of items) {
      const counters = this.#read(item);
      const prev = this.#last.get(item.id)?.counters ?? this.#zeros;
      const rates = seconds > 0 ? counters.map((c, i) => (c - prev[i]!) / seconds) : this.#zeros;
      next.set(item.id, { counters, rates });
    }
    this.#last = next;
  }

  of(item: T): Rated {
    return { counters: this.#read(item), rates: this.#last.get(item.id)?.rates ?? this.#zeros };
  }

  /** `{ publish_in: 5, publish_in_details: { rate: 1.2 }, … }` for each key */
  statsJson(item: T): Record<string, unknown> {
    const r = this.of(item);
    const out: Record<string, unknown> = {};
    this.keys.forEach((k, i) => {
      out[k] = r.counters[i];
      out[`${k}_details`] = { rate: round(r.rates[i]!) };
    });
    return out;
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
