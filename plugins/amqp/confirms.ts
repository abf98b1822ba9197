/**
 * Publisher confirms for one channel in confirm mode (RabbitMQ's extension: confirm.select,
 * then basic.ack / basic.nack from the broker per publish, numbered from 1).
 *
 * Coalescing: acks that arrive in order are not written one by one; the channel writes one
 * basic.ack with multiple=true for the highest of them when the connection flushes its batch
 * (once per event-loop turn). That is only correct while every publish up to that tag has been
 * confirmed, so the tracker keeps a watermark: all sequence numbers up to it are confirmed.
 * A confirm above the watermark (persistent and transient messages may settle out of order)
 * or any nack is written on its own, with multiple=false, and remembered until the watermark
 * passes it.
 */
import { writeConfirmFrame, CONFIRM_FRAME_SIZE } from './codec/methods.js';

export class ConfirmTracker {
  /** sequence number of the next publish (the delivery tag its confirm will carry) */
  nextSeq = 1;
  /** every publish up to here is confirmed (written, or in the pending coalesced ack) */
  #watermark = 0;
  /** the coalesced ack not yet written covers up to here (0: none pending) */
  #pendingAckUpTo = 0;
  /** the first sequence number the pending ack stands for */
  #pendingAckFrom = 0;
  /** confirmed above the watermark, already written individually */
  readonly #outOfOrder = new Set<number>();
  readonly #channel: number;

  constructor(channel: number) {
    this.#channel = channel;
  }

  get hasPending(): boolean {
    return this.#pendingAckUpTo !== 0;
  }

  /**
   * Record a confirm. In-order acks are only noted (written by `flush`, coalesced); anything
   * else is appended to `out` right away.
   */
  confirm(seq: number, ack: boolean, out: Buffer[]): void {
    if (ack && seq === this.#watermark + 1) {
      if (this.#pendingAckUpTo === 0) this.#pendingAckFrom = seq;
      this.#advance(seq);
      this.#pendingAckUpTo = this.#watermark;
      return;
    }
    out.push(frame(this.#channel, seq, false, ack));
    if (seq === this.#watermark + 1) this.#advance(seq);
    else this.#outOfOrder.add(seq);
  }

  /** Write the coalesced ack, if any. */
  flush(out: Buffer[]): void {
    if (this.#pendingAckUpTo === 0) return;
    // multiple=true re-covers tags confirmed individually earlier: harmless, they are settled
    out.push(frame(this.#channel, this.#pendingAckUpTo, this.#pendingAckUpTo > this.#pendingAckFrom, true));
    this.#pendingAckUpTo = 0;
  }

  #advance(seq: number): void {
    this.#watermark = seq;
    if (this.#outOfOrder.size === 0) return;
    while (this.#outOfOrder.delete(this.#watermark + 1)) this.#watermark++;
  }
}

function frame(channel: number, tag: number, multiple: boolean, ack: boolean): Buffer {
  const buf = Buffer.allocUnsafe(CONFIRM_FRAME_SIZE);
  writeConfirmFrame(buf, 0, channel, tag, multiple, ack);
  return buf;
}
