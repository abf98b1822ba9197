/**
 * A binary min-heap keyed by a number, ties broken by insertion order (so equal due times
 * fire first-in first-out). Used for timers: one `setTimeout` for the earliest item instead
 * of one per item.
 */
export class MinHeap<T> {
  #keys: number[] = [];
  #seqs: number[] = [];
  #items: T[] = [];
  #seq = 0;

  get size(): number {
    return this.#items.length;
  }

  peekKey(): number | undefined {
    return this.#keys[0];
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(key: number, item: T): void {
    this.#keys.push(key);
    this.#seqs.push(this.#seq++);
    this.#items.push(item);
    this.#up(this.#items.length - 1);
  }

  pop(): T | undefined {
    const n = this.#items.length;
    if (n === 0) return undefined;
    const top = this.#items[0];
    const lastKey = this.#keys.pop() as number;
    const lastSeq = this.#seqs.pop() as number;
    const lastItem = this.#items.pop() as T;
    if (n > 1) {
      this.#keys[0] = lastKey;
      this.#seqs[0] = lastSeq;
      this.#items[0] = lastItem;
      this.#down(0);
    }
    return top;
  }

  clear(): void {
    this.#keys = [];
    this.#seqs = [];
    this.#items = [];
  }

  #less(i: number, j: number): boolean {
    const a = this.#keys[i];
    const b = this.#keys[j];
    return a < b || (a === b && this.#seqs[i] < this.#seqs[j]);
  }

  #swap(i: number, j: number): void {
    [this.#keys[i], this.#keys[j]] = [this.#keys[j], this.#keys[i]];
    [this.#seqs[i], this.#seqs[j]] = [this.#seqs[j], this.#seqs[i]];
    [this.#items[i], this.#items[j]] = [this.#items[j], this.#items[i]];
  }

  #up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    const n = this.#items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#less(l, m)) m = l;
      if (r < n && this.#less(r, m)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
