/**
 * Cuts the byte stream of a connection (after the protocol header) into frames
 * (AMQP 0-9-1 §4.2.3): type octet | channel uint16 | size uint32 | payload | 0xCE.
 *
 * Frames lying wholly inside one socket chunk are handed on as zero-copy subarrays of it. A
 * frame split across chunks is assembled in a buffer allocated once at its exact size (the
 * size is known from its header), so a large body is copied once, not re-concatenated per
 * chunk. A body frame split across chunks goes straight to where the sink wants its payload
 * (`bodyTarget`: the message's body buffer, at the frame's place in it), so a body of many
 * frames is copied once from the socket chunks into one buffer. Where the socket reads into
 * buffers of the broker's (src/frontend/owned-reads.ts), `readRoom` offers the unfilled part of
 * that frame to the next read, and between two body frames of one message an 8-byte room for
 * the frame-end octet and the next header, so the kernel writes the payloads in place and
 * they are not copied at all. No object is allocated per frame: the sink gets positional
 * arguments.
 *
 * Errors are BrokerError FRAME_ERROR (501): an unknown frame type, a frame larger than the
 * negotiated frame-max, a heartbeat with a payload, a missing frame-end octet. After one, the
 * stream cannot be resynchronised: the caller closes the connection and stops pushing.
 */
import { BrokerError } from '../../../src/core/index.js';
import { FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEADER_SIZE, FRAME_HEARTBEAT, FRAME_METHOD, FRAME_OVERHEAD } from './constants.js';

/**
 * A body frame at least this large, read in place, makes the next read a short one
 * (`shortReadDue`): such a frame never fits one 64 KiB read, so the reads per message stay
 * two, and the next body's bytes are read in place rather than copied out of a 64 KiB read.
 * Below it a full read may hold whole messages, and short reads would only add syscalls.
 */
const SHORT_READ_AFTER = 60 * 1024;

export interface FrameSink {
  onMethodFrame(channel: number, payload: Buffer): void;
  onHeaderFrame(channel: number, payload: Buffer): void;
  onBodyFrame(channel: number, payload: Buffer): void;
  onHeartbeatFrame(channel: number): void;
  /**
   * Where to assemble the `size` payload bytes of a body frame on `channel` that arrives in
   * pieces: exactly `size` bytes, handed back to `onBodyFrame` once the frame is complete; or
   * null for a buffer of the frame's own.
   */
  bodyTarget?(channel: number, size: number): Buffer | null;
  /** after the body frame last given a `bodyTarget`, more body frames are due on its channel */
  bodyFollows?(channel: number): boolean;
}

export class FrameReader {
  /** largest acceptable frame, overhead included (the negotiated frame-max); 0 = no limit */
  frameMax: number;
  readonly #sink: FrameSink;
  /** the first bytes of a frame header that arrived at the end of a chunk */
  readonly #head = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
  #headFilled = 0;
  /** a frame being assembled across chunks, allocated at its full size */
  #partial: Buffer | null = null;
  #partialFilled = 0;
  /** a body frame's payload being assembled where the sink asked (bodyTarget), and its channel */
  #direct: Buffer | null = null;
  #directFilled = 0;
  #directChannel = 0;
  /** more body frames follow the one assembled in place: the next read is for the frame's end and the next header only */
  #directMore = false;
  /** where that read goes: a frame-end octet and a frame header */
  #gap: Buffer | null = null;
  /** the last body frame was a large one read in place (SHORT_READ_AFTER) */
  #afterLargeBody = false;

  constructor(sink: FrameSink, frameMax: number) {
    this.#sink = sink;
    this.frameMax = frameMax;
  }

  /** true while part of a frame is buffered */
  get midFrame(): boolean {
    return this.#headFilled > 0 || this.#partial !== null || this.#direct !== null;
  }

  /**
   * Where the next bytes from the socket may be read to: the unfilled part of the body frame
   * being assembled in place, or null (read them anywhere and `push` them). Reading there and
   * calling `pushRead` saves copying them.
   */
  readRoom(): Buffer | null {
    const target = this.#direct;
    if (target === null) return null;
    if (this.#directFilled < target.length) return target.subarray(this.#directFilled);
    // between two body frames of one message: read just the end octet and the next header, so
    // that the next payload is read in place too rather than copied out of a larger read
    return this.#directMore ? (this.#gap ??= Buffer.allocUnsafe(1 + FRAME_HEADER_SIZE)) : null;
  }

  /**
   * When `readRoom` offers nothing: whether the next read should be a short one (a few KiB),
   * because the last body frame was large and read in place — the next message is likely
   * alike, and what a short read leaves of its body is then read in place.
   */
  get shortReadDue(): boolean {
    const target = this.#direct;
    if (target !== null) return !this.#directMore && this.#directFilled === target.length && target.length >= SHORT_READ_AFTER;
    return this.#afterLargeBody && this.#partial === null;
  }

  /** `n` bytes were read into the start of `buf`: a room `readRoom` gave (taken as they are), or any other chunk (`push`). */
  pushRead(buf: Buffer, n: number): void {
    const target = this.#direct;
    if (target !== null && buf.buffer === target.buffer && buf.byteOffset === target.byteOffset + this.#directFilled && this.#directFilled + n <= target.length) {
      this.#directFilled += n; // the frame-end octet comes with the next read
      return;
    }
    this.push(buf, n);
  }

  /** The next `len` bytes of the stream (all of `chunk` unless told). */
  push(chunk: Buffer, len = chunk.length): void {
    let pos = 0;

    if (this.#headFilled > 0) {
      const take = Math.min(FRAME_HEADER_SIZE - this.#headFilled, len);
      chunk.copy(this.#head, this.#headFilled, 0, take);
      this.#headFilled += take;
      pos = take;
      if (this.#headFilled < FRAME_HEADER_SIZE) return;
      this.#headFilled = 0;
      this.#startPartial(this.#head, 0, FRAME_HEADER_SIZE);
    }

    if (this.#direct !== null) {
      pos = this.#fillDirect(chunk, pos, len);
      if (this.#direct !== null) return;
    }

    if (this.#partial !== null) {
      const partial = this.#partial;
      const take = Math.min(partial.length - this.#partialFilled, len - pos);
      chunk.copy(partial, this.#partialFilled, pos, pos + take);
      this.#partialFilled += take;
      pos += take;
      if (this.#partialFilled < partial.length) return;
      this.#partial = null;
      this.#dispatch(partial, 0, partial.length - FRAME_OVERHEAD);
    }

    while (len - pos >= FRAME_HEADER_SIZE) {
      const size = this.#checkHeader(chunk, pos);
      if (len - pos < size + FRAME_OVERHEAD) break;
      this.#dispatch(chunk, pos, size);
      pos += size + FRAME_OVERHEAD;
    }

    const rest = len - pos;
    if (rest === 0) return;
    if (rest < FRAME_HEADER_SIZE) {
      chunk.copy(this.#head, 0, pos, len);
      this.#headFilled = rest;
    } else {
      this.#startPartial(chunk, pos, rest);
    }
  }

  /** Validate the header at `pos`; returns the payload size. */
  #checkHeader(buf: Buffer, pos: number): number {
    const type = buf[pos];
    const size = buf.readUInt32BE(pos + 3);
    if (type !== FRAME_METHOD && type !== FRAME_HEADER && type !== FRAME_BODY && type !== FRAME_HEARTBEAT) {
      throw new BrokerError('FRAME_ERROR', `FRAME_ERROR - unknown frame type ${type}`);
    }
    // frame-max counts the whole frame, overhead included (RabbitMQ compares the payload with frame_max - 8)
    if (this.frameMax > 0 && size > this.frameMax - FRAME_OVERHEAD) {
      throw new BrokerError('FRAME_ERROR', `FRAME_ERROR - frame of type ${type} too large: payload ${size} > ${this.frameMax - FRAME_OVERHEAD} (frame_max ${this.frameMax})`);
    }
    // AMQP 0-9-1 §4.2.7: a heartbeat frame has an empty payload
    if (type === FRAME_HEARTBEAT && size !== 0) {
      throw new BrokerError('FRAME_ERROR', `FRAME_ERROR - heartbeat frame with a ${size}-octet payload`);
    }
    return size;
  }

  /** Begin assembling a frame whose first `n` bytes (header complete) are at `buf[pos]`. */
  #startPartial(buf: Buffer, pos: number, n: number): void {
    const size = this.#checkHeader(buf, pos);
    if (buf[pos] === FRAME_BODY && size > 0 && this.#sink.bodyTarget !== undefined) {
      const channel = buf.readUInt16BE(pos + 1);
      const target = this.#sink.bodyTarget(channel, size);
      if (target !== null && target.length === size) {
        // n < size + FRAME_OVERHEAD: what came of the payload fits the target
        this.#directFilled = buf.copy(target, 0, pos + FRAME_HEADER_SIZE, pos + n);
        this.#direct = target;
        this.#directChannel = channel;
        this.#directMore = this.#sink.bodyFollows?.(channel) ?? false;
        return;
      }
    }
    const frame = Buffer.allocUnsafe(size + FRAME_OVERHEAD);
    buf.copy(frame, 0, pos, pos + n);
    this.#partial = frame;
    this.#partialFilled = n;
  }

  /** Copy the next payload bytes of the body frame being assembled in place; dispatch it at its frame-end octet. @returns the position after what was used */
  #fillDirect(chunk: Buffer, pos: number, len: number): number {
    const target = this.#direct as Buffer;
    if (this.#directFilled < target.length) {
      const take = Math.min(target.length - this.#directFilled, len - pos);
      chunk.copy(target, this.#directFilled, pos, pos + take);
      this.#directFilled += take;
      pos += take;
      if (this.#directFilled < target.length) return pos;
    }
    if (pos === len) return pos; // the frame-end octet comes with the next chunk
    if (chunk[pos] !== FRAME_END) {
      throw new BrokerError('FRAME_ERROR', `FRAME_ERROR - frame-end octet 0x${chunk[pos].toString(16)} instead of 0xce`);
    }
    this.#direct = null;
    this.#afterLargeBody = target.length >= SHORT_READ_AFTER;
    this.#sink.onBodyFrame(this.#directChannel, target);
    return pos + 1;
  }

  #dispatch(buf: Buffer, pos: number, size: number): void {
    const payloadStart = pos + FRAME_HEADER_SIZE;
    const endAt = payloadStart + size;
    if (buf[endAt] !== FRAME_END) {
      throw new BrokerError('FRAME_ERROR', `FRAME_ERROR - frame-end octet 0x${buf[endAt].toString(16)} instead of 0xce`);
    }
    const channel = buf.readUInt16BE(pos + 1);
    switch (buf[pos]) {
      case FRAME_METHOD:
        this.#sink.onMethodFrame(channel, buf.subarray(payloadStart, endAt));
        break;
      case FRAME_HEADER:
        this.#sink.onHeaderFrame(channel, buf.subarray(payloadStart, endAt));
        break;
      case FRAME_BODY:
        this.#afterLargeBody = false;
        this.#sink.onBodyFrame(channel, buf.subarray(payloadStart, endAt));
        break;
      default:
        this.#sink.onHeartbeatFrame(channel);
    }
  }
}
