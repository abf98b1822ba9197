/** the storage of every empty deque that never held more than nothing (never written: pushes grow first) */
const NO_ITEMS: never[] = Object.freeze([]) as never[];

/**
 * A growable ring-buffer double-ended queue. Queues hold their messages in these:
 * `Array#shift` is O(n) and would make a deep queue quadratic to drain.
 *
 * Its ring is made on the first push (16 places, or `initialCapacity` when larger, made at
 * once) and dropped again by `clear`: most queues of a broker with many idle devices are
 * empty, and 16 places cost ~150 bytes each.
 */
export class Deque<T> {
  #items: (T | undefined)[];
  #head = 0;
  #length = 0;
  #mask: number;

  constructor(initialCapacity = 16) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.#items = cap > 16 ? new Array(cap) : NO_ITEMS;
    this.#mask = this.#items.length - 1;
  }

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & this.#mask] = item;
    this.#length++;
  }

  unshift(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & this.#mask;
    this.#items[this.#head] = item;
    this.#length++;
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined; // let the item be collected
    this.#head = (this.#head + 1) & this.#mask;
    this.#length--;
    return item;
  }

  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** the i-th item from the front (0 = head) */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.#length) return undefined;
    return this.#items[(this.#head + i) & this.#mask];
  }

  /** Insert so that the item ends up at index i (0 = front); O(min(i, length - i)). */
  insertAt(i: number, item: T): void {
    if (i <= 0) return this.unshift(item);
    if (i >= this.#length) return this.push(item);
    if (this.#length === this.#items.length) this.#grow();
    const items = this.#items;
    const mask = this.#mask;
    if (i < this.#length / 2) {
      // move the first i items one place towards the front
      this.#head = (this.#head - 1) & mask;
      for (let k = 0; k < i; k++) items[(this.#head + k) & mask] = items[(this.#head + k + 1) & mask];
    } else {
      for (let k = this.#length; k > i; k--) items[(this.#head + k) & mask] = items[(this.#head + k - 1) & mask];
    }
    items[(this.#head + i) & mask] = item;
    this.#length++;
  }

  /** Remove and return the item at index i. */
  removeAt(i: number): T | undefined {
    if (i < 0 || i >= this.#length) return undefined;
    if (i === 0) return this.shift();
    const items = this.#items;
    const mask = this.#mask;
    const item = items[(this.#head + i) & mask];
    for (let k = i; k < this.#length - 1; k++) items[(this.#head + k) & mask] = items[(this.#head + k + 1) & mask];
    items[(this.#head + this.#length - 1) & mask] = undefined;
    this.#length--;
    return item;
  }

  clear(): void {
    this.#items = NO_ITEMS;
    this.#mask = -1;
    this.#head = 0;
    this.#length = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#length; i++) yield this.#items[(this.#head + i) & this.#mask] as T;
  }

  #grow(): void {
    const old = this.#items;
    const cap = old.length === 0 ? 16 : old.length * 2;
    const items: (T | undefined)[] = new Array(cap);
    for (let i = 0; i < this.#length; i++) items[i] = old[(this.#head + i) & this.#mask];
    this.#items = items;
    this.#head = 0;
    this.#mask = cap - 1;
  }
}
