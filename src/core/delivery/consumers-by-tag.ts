import type { Consumer } from './consumer.js';

const NONE: readonly Consumer[] = Object.freeze([]);

/**
 * A session's consumers by tag. Most sessions have one (an MQTT device's subscription queue,
 * a STOMP subscription, a worker's channel): it is held in a field, and a Map (~150 bytes
 * empty) is made only for a second. Iterates in the order consumers were added, as a Map does.
 */
export class ConsumersByTag {
  #only: Consumer | null = null;
  #byTag: Map<string, Consumer> | null = null;

  get size(): number {
    return this.#byTag !== null ? this.#byTag.size : this.#only !== null ? 1 : 0;
  }

  get(tag: string): Consumer | undefined {
    if (this.#byTag !== null) return this.#byTag.get(tag);
    return this.#only !== null && this.#only.tag === tag ? this.#only : undefined;
  }

  has(tag: string): boolean {
    return this.get(tag) !== undefined;
  }

  /** add `consumer` under its tag (replacing one with the same tag) */
  set(consumer: Consumer): void {
    if (this.#byTag !== null) {
      this.#byTag.set(consumer.tag, consumer);
    } else if (this.#only === null || this.#only.tag === consumer.tag) {
      this.#only = consumer;
    } else {
      this.#byTag = new Map([[this.#only.tag, this.#only], [consumer.tag, consumer]]);
      this.#only = null;
    }
  }

  delete(tag: string): boolean {
    if (this.#byTag !== null) return this.#byTag.delete(tag);
    if (this.#only === null || this.#only.tag !== tag) return false;
    this.#only = null;
    return true;
  }

  values(): Iterable<Consumer> {
    return this.#byTag !== null ? this.#byTag.values() : this.#only !== null ? [this.#only] : NONE;
  }

  clear(): void {
    this.#only = null;
    this.#byTag = null;
  }
}
