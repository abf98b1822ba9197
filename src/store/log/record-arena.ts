import { sealRecord } from '../format.js';

const ARENA_SIZE = 256 * 1024;
/**
 * Small properties (and then small bodies) are copied next to the record header: one
 * checksum call and one iovec instead of three costs less than the copy (docs/store.md
 * decision 2). Large ones are never copied: they go to writev as they came.
 */
const INLINE_PROPERTIES = 256;
const INLINE_BODY = 512;

/**
 * Record framing for a log: each record's header and fixed fields are encoded into a shared
 * arena (no buffer per record), small properties and bodies copied beside them, and the
 * masked CRC sealed over all its parts. Both logs frame their records through one of these,
 * with their own layouts written between `begin` and `finish`. Not reentrant: one record at a
 * time, its parts valid until the next `begin`.
 */
export class RecordArena {
  #arena = Buffer.allocUnsafe(ARENA_SIZE);
  #used = 0;
  #inlineProps = false;
  #inlineBody = false;
  /** where the record being framed starts in the buffer `begin` returned */
  start = 0;
  /** the finished record: header, fixed fields and inline parts … */
  head: Buffer = this.#arena.subarray(0, 0);
  /** … then properties and body when not inline */
  tail1: Buffer | undefined = undefined;
  tail2: Buffer | undefined = undefined;

  /**
   * Make room for a record whose header and fixed fields take at most `prefixBound` bytes.
   * @returns the buffer to write them into, from `start`
   */
  begin(prefixBound: number, properties: Buffer, body: Buffer): Buffer {
    const inlineProps = properties.length <= INLINE_PROPERTIES;
    const inlineBody = inlineProps && body.length <= INLINE_BODY;
    this.#inlineProps = inlineProps;
    this.#inlineBody = inlineBody;
    const bound = prefixBound + (inlineProps ? properties.length : 0) + (inlineBody ? body.length : 0);
    if (this.#used + bound > this.#arena.length) {
      this.#arena = Buffer.allocUnsafe(Math.max(ARENA_SIZE, bound));
      this.#used = 0;
    }
    this.start = this.#used;
    return this.#arena;
  }

  /**
   * The fixed fields end at `end`: add properties and body, seal the CRC — unless `seal` is
   * false (the journal seals a record it may never write when its round is taken).
   * @returns the record's length
   */
  finish(end: number, properties: Buffer, body: Buffer, seal = true): number {
    const arena = this.#arena;
    if (this.#inlineProps) end += properties.copy(arena, end);
    if (this.#inlineBody) end += body.copy(arena, end);
    this.#used = end;
    const head = (this.head = arena.subarray(this.start, end));
    const tail1 = (this.tail1 = this.#inlineProps ? undefined : properties);
    const tail2 = (this.tail2 = this.#inlineBody ? undefined : body);
    if (seal) sealRecord(head, tail1, tail2);
    return head.length + (tail1 ? tail1.length : 0) + (tail2 ? tail2.length : 0);
  }

  /** Add the finished record's parts to a gather write. */
  pushTo(buffers: Buffer[]): void {
    buffers.push(this.head);
    if (this.tail1 !== undefined && this.tail1.length > 0) buffers.push(this.tail1);
    if (this.tail2 !== undefined && this.tail2.length > 0) buffers.push(this.tail2);
  }
}
