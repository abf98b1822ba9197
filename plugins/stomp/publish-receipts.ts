/**
 * RECEIPTs that wait for publisher confirms (RabbitMQ: a SEND's receipt follows its
 * confirm), so for a persistent message a receipt means "on disk".
 *
 * Publishes made with a receipt to follow get increasing confirm tokens. The core confirms
 * each when every durability point of that publish is durable — not in publish order: a
 * transient or unroutable message is confirmed at once, a persistent one after the fdatasync.
 * So a receipt for token t waits until *every* token up to t is confirmed (a watermark over
 * out-of-order confirms), which is what a COMMIT receipt needs: it names the last SEND of the
 * transaction and covers them all.
 */
import { StompError } from './errors.js';

export interface ReceiptSink {
  sendReceipt(receiptId: string): void;
  /**
   * A publish was refused or could not be made durable. STOMP 1.2 "SEND": a message the server
   * cannot process is an ERROR, then the connection closes; the ERROR carries the receipt id
   * that waited for it, if any.
   */
  publishFailed(error: StompError, receiptId: string | undefined): void;
}

export class PublishReceipts {
  readonly #sink: ReceiptSink;
  #nextToken = 1;
  /** every token up to here is confirmed */
  #confirmedUpTo = 0;
  /** tokens confirmed beyond `#confirmedUpTo + 1` (their turn has not come) */
  readonly #confirmedAhead = new Set<number>();
  /** receipt ids by the token they wait for, in increasing token order */
  readonly #waiting = new Map<number, string>();
  /** the first publish that failed (the connection is ending), 0 if none */
  #failedToken = 0;

  constructor(sink: ReceiptSink) {
    this.#sink = sink;
  }

  /** whether a publish failed: the connection is about to end with an ERROR */
  get failed(): boolean {
    return this.#failedToken !== 0;
  }

  /** A confirm token for a publish whose fate a receipt will follow. */
  issue(): number {
    return this.#nextToken++;
  }

  /** Send RECEIPT `receiptId` once every publish up to `token` is confirmed (the newest token issued). */
  after(token: number, receiptId: string): void {
    if (token <= this.#confirmedUpTo && !this.#coversFailure(token)) this.#sink.sendReceipt(receiptId);
    else this.#waiting.set(token, receiptId);
  }

  /** The core's confirm of `token` (`error`: the store could not make it durable). */
  confirmed(token: number, ack: boolean, error: Error | null): void {
    if (!ack && this.#failedToken === 0) {
      this.#failedToken = token;
      // not from inside the core: after the current frame, which may still attach its receipt
      queueMicrotask(() => this.#sink.publishFailed(failureOf(error), this.#firstWaitingFrom(token)));
    }
    if (token === this.#confirmedUpTo + 1) {
      this.#confirmedUpTo = token;
      while (this.#confirmedAhead.delete(this.#confirmedUpTo + 1)) this.#confirmedUpTo++;
    } else if (token > this.#confirmedUpTo) {
      this.#confirmedAhead.add(token);
      return;
    }
    if (this.#waiting.size === 0) return;
    for (const [t, receiptId] of this.#waiting) {
      if (t > this.#confirmedUpTo || this.#coversFailure(t)) break;
      this.#waiting.delete(t);
      this.#sink.sendReceipt(receiptId);
    }
  }

  clear(): void {
    this.#waiting.clear();
    this.#confirmedAhead.clear();
  }

  /** a receipt for `token` would vouch for a failed publish */
  #coversFailure(token: number): boolean {
    return this.#failedToken !== 0 && token >= this.#failedToken;
  }

  #firstWaitingFrom(token: number): string | undefined {
    for (const [t, receiptId] of this.#waiting) if (t >= token) return receiptId;
    return undefined;
  }
}

function failureOf(error: Error | null): StompError {
  if (error === null) return new StompError('Message rejected', 'the broker refused the message (a full queue with x-overflow reject-publish?)');
  return new StompError('Message not stored', `the broker could not make the message durable: ${error.message}`);
}
