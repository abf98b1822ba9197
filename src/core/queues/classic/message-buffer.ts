import { Deque } from '../../../util/deque.js';
import type { QueueEntry } from '../queue-entry.js';

/**
 * The ready messages of a queue, in delivery order. Classic queues use a FIFO; priority
 * queues one FIFO per level. A requeued entry returns to its original position (RabbitMQ
 * keeps requeued messages' places where it can).
 */
export interface MessageBuffer {
  readonly length: number;
  push(entry: QueueEntry): void;
  shift(): QueueEntry | undefined;
  peek(): QueueEntry | undefined;
  /** put a given-back entry back where its seq says */
  requeue(entry: QueueEntry): void;
  /** remove everything; returns the removed entries' count */
  clear(): number;
  [Symbol.iterator](): IterableIterator<QueueEntry>;
}

/** Insert by seq, searching from the front: given-back entries almost always belong there. */
export function insertBySeq(deque: Deque<QueueEntry>, entry: QueueEntry): void {
  const n = deque.length;
  let i = 0;
  while (i < n && (deque.at(i) as QueueEntry).seq < entry.seq) i++;
  deque.insertAt(i, entry);
}

/** A FIFO: the deque itself (one object per queue, not a wrapper around one). */
export class FifoBuffer extends Deque<QueueEntry> implements MessageBuffer {
  requeue(entry: QueueEntry): void {
    insertBySeq(this, entry);
  }
  override clear(): number {
    const n = this.length;
    super.clear();
    return n;
  }
}
