/**
 * A Map and a Set for the many collections of a broker that hold one item for their whole
 * life (an MQTT device's one subscription, a session queue's one binding): the item sits in
 * fields and the real Map or Set (~150-200 bytes with its hash table even when nearly empty)
 * is made when a second arrives. Iteration is in insertion order, as Map's and Set's;
 * mutating while iterating `values()` is only safe once a real Map or Set was made (copy
 * first otherwise, as callers that delete while iterating already do).
 */
const NONE: readonly never[] = Object.freeze([]);

export class SmallMap<K, V> {
  #key: K | undefined = undefined;
  #value: V | undefined = undefined;
  #one = false;
  #map: Map<K, V> | null = null;

  get size(): number {
    return this.#map !== null ? this.#map.size : this.#one ? 1 : 0;
  }

  get(key: K): V | undefined {
    if (this.#map !== null) return this.#map.get(key);
    return this.#one && this.#key === key ? this.#value : undefined;
  }

  has(key: K): boolean {
    if (this.#map !== null) return this.#map.has(key);
    return this.#one && this.#key === key;
  }

  set(key: K, value: V): this {
    if (this.#map !== null) {
      this.#map.set(key, value);
    } else if (!this.#one || this.#key === key) {
      this.#key = key;
      this.#value = value;
      this.#one = true;
    } else {
      this.#map = new Map([[this.#key as K, this.#value as V], [key, value]]);
      this.#key = undefined;
      this.#value = undefined;
      this.#one = false;
    }
    return this;
  }

  delete(key: K): boolean {
    if (this.#map !== null) return this.#map.delete(key);
    if (!this.#one || this.#key !== key) return false;
    this.#key = undefined;
    this.#value = undefined;
    this.#one = false;
    return true;
  }

  clear(): void {
    this.#map = null;
    this.#key = undefined;
    this.#value = undefined;
    this.#one = false;
  }

  values(): Iterable<V> {
    return this.#map !== null ? this.#map.values() : this.#one ? [this.#value as V] : NONE;
  }

  keys(): Iterable<K> {
    return this.#map !== null ? this.#map.keys() : this.#one ? [this.#key as K] : NONE;
  }

  [Symbol.iterator](): Iterator<[K, V]> {
    return (this.#map !== null ? this.#map : this.#one ? [[this.#key as K, this.#value as V] as [K, V]] : (NONE as readonly [K, V][]))[Symbol.iterator]();
  }
}

export class SmallSet<T> {
  #only: T | undefined = undefined;
  #one = false;
  #set: Set<T> | null = null;

  get size(): number {
    return this.#set !== null ? this.#set.size : this.#one ? 1 : 0;
  }

  has(item: T): boolean {
    return this.#set !== null ? this.#set.has(item) : this.#one && this.#only === item;
  }

  add(item: T): this {
    if (this.#set !== null) {
      this.#set.add(item);
    } else if (!this.#one || this.#only === item) {
      this.#only = item;
      this.#one = true;
    } else {
      this.#set = new Set([this.#only as T, item]);
      this.#only = undefined;
      this.#one = false;
    }
    return this;
  }

  delete(item: T): boolean {
    if (this.#set !== null) return this.#set.delete(item);
    if (!this.#one || this.#only !== item) return false;
    this.#only = undefined;
    this.#one = false;
    return true;
  }

  clear(): void {
    this.#set = null;
    this.#only = undefined;
    this.#one = false;
  }

  [Symbol.iterator](): Iterator<T> {
    return (this.#set !== null ? this.#set : this.#one ? [this.#only as T] : (NONE as readonly T[]))[Symbol.iterator]();
  }
}
