import { Deque } from '../../../util/deque.js';
import type { Message } from '../../message.js';

/**
 * The newest messages of a stream, by offset, as the objects that were appended (their
 * properties already carry `x-stream-offset`). Consumers at or near the tail take them from
 * here with no disk read and no decoding; older offsets are read from the segments. Bounded
 * by bytes and count: the oldest leave first.
 */
export class StreamTailCache {
  readonly #items = new Deque<Message>(1024);
  #start = 0;
  #bytes = 0;
  readonly #maxBytes: number;
  readonly #maxCount: number;

  constructor(maxBytes = 16 * 1024 * 1024, maxCount = 65536) {
    this.#maxBytes = maxBytes;
    this.#maxCount = maxCount;
  }

  /** offset of the oldest message held */
  get start(): number {
    return this.#start;
  }
  /** one past the newest */
  get end(): number {
    return this.#start + this.#items.length;
  }

  push(offset: number, message: Message): void {
    if (offset !== this.end) this.clear(offset); // offsets are contiguous; anything else restarts the window
    this.#items.push(message);
    this.#bytes += message.body.length;
    while (this.#items.length > 1 && (this.#bytes > this.#maxBytes || this.#items.length > this.#maxCount)) this.#drop();
  }

  get(offset: number): Message | undefined {
    const i = offset - this.#start;
    return i >= 0 && i < this.#items.length ? this.#items.at(i) : undefined;
  }

  /** Forget everything below `offset` (compaction or retention made those copies stale). */
  trimBelow(offset: number): void {
    if (offset >= this.end) return this.clear(this.end);
    while (this.#start < offset) this.#drop();
  }

  clear(start: number): void {
    while (this.#items.length > 0) this.#items.shift();
    this.#bytes = 0;
    this.#start = start;
  }

  #drop(): void {
    const oldest = this.#items.shift() as Message;
    this.#bytes -= oldest.body.length;
    this.#start++;
  }
}
