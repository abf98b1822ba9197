import { Deque } from '../../../util/deque.js';
import { insertBySeq, type MessageBuffer } from './message-buffer.js';
import type { QueueEntry } from '../queue-entry.js';

/**
 * Ready messages of a priority queue (`x-max-priority`): one FIFO per level, highest level
 * first, FIFO within a level. Entries arrive with their priority already clamped to the
 * queue's maximum (a higher one counts as the maximum, as in RabbitMQ).
 */
export class PriorityBuffer implements MessageBuffer {
  readonly #levels: Deque<QueueEntry>[] = [];
  #length = 0;
  /** highest level that may be non-empty; levels above it are empty */
  #top = -1;

  constructor(maxPriority: number) {
    for (let i = 0; i <= maxPriority; i++) this.#levels.push(new Deque<QueueEntry>(4));
  }

  get length(): number {
    return this.#length;
  }

  push(entry: QueueEntry): void {
    this.#levels[entry.priority].push(entry);
    if (entry.priority > this.#top) this.#top = entry.priority;
    this.#length++;
  }

  shift(): QueueEntry | undefined {
    const level = this.#topLevel();
    if (!level) return undefined;
    this.#length--;
    return level.shift();
  }

  peek(): QueueEntry | undefined {
    return this.#topLevel()?.peek();
  }

  requeue(entry: QueueEntry): void {
    insertBySeq(this.#levels[entry.priority], entry);
    if (entry.priority > this.#top) this.#top = entry.priority;
    this.#length++;
  }

  clear(): number {
    const n = this.#length;
    for (const level of this.#levels) level.clear();
    this.#length = 0;
    this.#top = -1;
    return n;
  }

  *[Symbol.iterator](): IterableIterator<QueueEntry> {
    for (let p = this.#levels.length - 1; p >= 0; p--) yield* this.#levels[p];
  }

  #topLevel(): Deque<QueueEntry> | undefined {
    while (this.#top >= 0 && this.#levels[this.#top].length === 0) this.#top--;
    return this.#top >= 0 ? this.#levels[this.#top] : undefined;
  }
}
