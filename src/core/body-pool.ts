/**
 * Body buffers for large messages, reused once a message is finished with.
 *
 * Why: a fresh ArrayBuffer per large body is external memory to V8, and V8 answers every
 * ~64 MiB of it with a mark-compact collection (its external-memory soft limit; no flag
 * raises it). With 1 MiB bodies at 550 MiB/s that was ~8 full collections a second, about
 * 30 % of the broker's CPU (GC threads included), plus a malloc and fresh page faults per
 * body. Memory that is reused is never new external memory.
 *
 * Reuse is only safe when nothing can read the body again, and a wrong release corrupts
 * another message silently, so the rules are narrow and every step is a fence:
 * 1. Only bodies taken here (`take`) are candidates (`Message.pooled`), and a message loses
 *    the mark as soon as anything else may keep its body: routing to more than one queue or to
 *    a queue that is not classic (publisher.ts). A copy (`withProperties`: dead-lettering, BCC,
 *    redelivery headers, direct reply-to) and a stream append also clear it; today each of those
 *    copies is made from a message that is never acked afterwards, so those two guard future
 *    paths rather than a current one.
 * 2. The core offers it back only on the ack of its first delivery (session.ts); a nack,
 *    reject, requeue, expiry, purge or delete never releases: the buffer is left to the GC.
 * 3. The front-end that wrote the delivery holds it until every byte queued before the ack
 *    is in the kernel (plugins/amqp frame-writer.ts), so an ack for a delivery still being
 *    written (a client may ack a tag it has not read) cannot free memory a write reads.
 * 4. `release` quarantines it until its store is durable past the last journal record written
 *    with it (`Message.journalLsn`): until that round is done, its gather write may still
 *    reference the body (src/store/pending-batch.ts). On a cluster leader too: replication
 *    copies what it ships at write time (src/cluster/replication/replicating-disk.ts,
 *    Buffer.concat), so it holds nothing of the body after the write.
 * Only then does it go back to a free list. A body that misses any step is simply garbage.
 *
 * `poison` (tests; WARREN_BODY_POOL_POISON=1) overwrites a buffer with 0xDB the moment it
 * becomes reusable (back on a free list, after every fence), so a path that still reads it
 * reads garbage at once instead of only when the memory happens to be reused. Not at `release`:
 * the journal's write may still be reading it then, by design (rule 4), and poisoning there would
 * put 0xDB on disk.
 */

/** bodies smaller than this are allocated as before: their churn does not drive the GC */
export const BODY_POOL_MIN_BYTES = 32 * 1024;
/** larger bodies are not pooled (a free list of them would pin too much memory) */
export const BODY_POOL_MAX_BYTES = 16 * 1024 * 1024;
/** free buffers kept, by capacity; more are left to the GC */
const DEFAULT_FREE_BYTES = 32 * 1024 * 1024;
/** released buffers waiting for their store, by capacity; beyond it the oldest go to the GC */
const QUARANTINE_BYTES = 64 * 1024 * 1024;
const POISON_BYTE = 0xdb;

/** The store a released body waits for (src/store/message-store.ts MessageStore). */
export interface BodyFence {
  readonly durableLsn: number;
}

/** Capacity classes: four per power of two, so a body wastes at most a quarter of its buffer. */
function capacityFor(size: number): number {
  const top = 31 - Math.clz32(size - 1); // 2^top < size ≤ 2^(top+1)
  const quarter = 2 ** (top - 2);
  return 2 ** top + Math.ceil((size - 2 ** top) / quarter) * quarter;
}

export interface BodyPoolStats {
  /** bodies handed out */
  taken: number;
  /** of those, new ArrayBuffers */
  allocated: number;
  /** bodies released and put back on a free list */
  recycled: number;
  /** released bodies left to the GC (free list or quarantine full) */
  dropped: number;
}

export class BodyPool {
  poison = process.env.WARREN_BODY_POOL_POISON === '1';
  readonly stats: BodyPoolStats = { taken: 0, allocated: 0, recycled: 0, dropped: 0 };
  /** capacity of the free lists together */
  maxFreeBytes = DEFAULT_FREE_BYTES;
  readonly #free = new Map<number, ArrayBuffer[]>();
  #freeBytes = 0;
  // quarantine, oldest first: parallel arrays, no object per body
  #qBuffers: ArrayBuffer[] = [];
  #qFences: BodyFence[] = [];
  #qLsns: number[] = [];
  #qHead = 0;
  #qBytes = 0;

  /** true when a body of `size` bytes comes from the pool */
  static pools(size: number): boolean {
    return size >= BODY_POOL_MIN_BYTES && size <= BODY_POOL_MAX_BYTES;
  }

  /** A buffer of `size` bytes (contents undefined), on reused memory when there is some. */
  take(size: number): Buffer {
    this.stats.taken++;
    if (this.#qHead < this.#qBuffers.length) this.#drainQuarantine();
    const capacity = capacityFor(size);
    const list = this.#free.get(capacity);
    let ab = list?.pop();
    if (ab === undefined) {
      this.stats.allocated++;
      ab = new ArrayBuffer(capacity);
    } else {
      this.#freeBytes -= capacity;
    }
    return Buffer.from(ab, 0, size);
  }

  /**
   * A body `take` gave, no longer read by anything but the journal record of `fence`'s store
   * that becomes durable at `lsn` (rules 1-3 above hold; 0: none): reused once it is durable.
   */
  release(body: Buffer, fence: BodyFence, lsn: number): void {
    const ab = body.buffer as ArrayBuffer;
    if (fence.durableLsn >= lsn) return this.#putBack(ab);
    this.#qBuffers.push(ab);
    this.#qFences.push(fence);
    this.#qLsns.push(lsn);
    this.#qBytes += ab.byteLength;
    while (this.#qBytes > QUARANTINE_BYTES) {
      this.stats.dropped++;
      this.#qBytes -= this.#shift().byteLength;
    }
  }

  /** bytes on the free lists (tests, metrics) */
  get freeBytes(): number {
    return this.#freeBytes;
  }

  /** Drop every free and quarantined buffer (tests). */
  clear(): void {
    this.#free.clear();
    this.#freeBytes = 0;
    this.#qBuffers = [];
    this.#qFences = [];
    this.#qLsns = [];
    this.#qHead = 0;
    this.#qBytes = 0;
  }

  /** Bodies whose store has caught up go back to the free lists (in order: one slow store holds the rest back). */
  #drainQuarantine(): void {
    while (this.#qHead < this.#qBuffers.length && this.#qFences[this.#qHead].durableLsn >= this.#qLsns[this.#qHead]) {
      const ab = this.#shift();
      this.#qBytes -= ab.byteLength;
      this.#putBack(ab);
    }
  }

  #shift(): ArrayBuffer {
    const i = this.#qHead++;
    const ab = this.#qBuffers[i];
    if (this.#qHead === this.#qBuffers.length) {
      this.#qBuffers.length = this.#qFences.length = this.#qLsns.length = 0;
      this.#qHead = 0;
    } else if (this.#qHead >= 1024) {
      this.#qBuffers = this.#qBuffers.slice(this.#qHead);
      this.#qFences = this.#qFences.slice(this.#qHead);
      this.#qLsns = this.#qLsns.slice(this.#qHead);
      this.#qHead = 0;
    }
    return ab;
  }

  #putBack(ab: ArrayBuffer): void {
    if (this.poison) new Uint8Array(ab).fill(POISON_BYTE);
    if (this.#freeBytes + ab.byteLength > this.maxFreeBytes) {
      this.stats.dropped++;
      return;
    }
    let list = this.#free.get(ab.byteLength);
    if (list === undefined) this.#free.set(ab.byteLength, (list = []));
    list.push(ab);
    this.#freeBytes += ab.byteLength;
    this.stats.recycled++;
  }
}

/** The process's pool: bodies move between connections, brokers of one process included. */
export const bodyPool = new BodyPool();
