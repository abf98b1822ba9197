/**
 * A connection's reader of one partition stream: a stream consumer (its own session, so a
 * multiple ack settles only its own deliveries) started at the offset a fetch asked for,
 * whose deliveries wait in a buffer until a fetch takes them. Acks only return credit on a
 * stream: while the buffer holds less than `READ_AHEAD_BYTES` deliveries are acknowledged as
 * they arrive (every `ACK_EVERY`), so the stream reads ahead of the next fetch instead of
 * waiting for it; past that the credit window (`PREFETCH`) stops it until a fetch takes some.
 * A fetch at another offset (a seek, a rewind) starts the consumer again there.
 */
import type { Session, SessionHandler, Message } from '../../src/core/index.js';
import type { KafkaConnection } from './connection.js';

const PREFETCH = 2000;
/** how much a reader buffers ahead of the fetches (Kafka's default max.partition.fetch.bytes is 1 MiB) */
const READ_AHEAD_BYTES = 4 * 1024 * 1024;
const ACK_EVERY = 128;

export class PartitionReader implements SessionHandler {
  readonly stream: string;
  /** the offset the next fetch is expected at (one past the last one handed out) */
  expected: number;
  readonly #c: KafkaConnection;
  #session: Session | null = null;
  readonly #buffer: { message: Message; tag: number }[] = [];
  #head = 0;
  #bytes = 0;
  /** the highest delivery tag acknowledged (a multiple ack covers every tag up to it) */
  #ackedTo = 0;
  /** told when a delivery arrives (a waiting fetch) */
  onData: (() => void) | null = null;
  #cancelled = false;

  constructor(c: KafkaConnection, stream: string, offset: number) {
    this.#c = c;
    this.stream = stream;
    this.expected = offset;
    this.#start(offset);
  }

  get bufferedBytes(): number {
    return this.#bytes;
  }
  get cancelled(): boolean {
    return this.#cancelled;
  }

  #start(offset: number): void {
    const session = this.#c.coreConnection().openSession(this);
    this.#session = session;
    session.qos(PREFETCH, false);
    session.consume(this.stream, { arguments: { 'x-stream-offset': offset } });
  }

  /** Read from `offset` from now on (a fetch that is not where the last one ended). */
  seek(offset: number): void {
    this.close();
    this.#buffer.length = 0;
    this.#head = 0;
    this.#bytes = 0;
    this.#ackedTo = 0;
    this.#cancelled = false;
    this.expected = offset;
    this.#start(offset);
  }

  /**
   * Messages from `offset` on, up to `maxBytes` (at least one, as KIP-74 asks, so a record
   * larger than the limit still moves), taken out of the buffer and acknowledged.
   */
  take(offset: number, maxBytes: number): Message[] {
    const out: Message[] = [];
    let bytes = 0;
    let lastTag = -1;
    const buf = this.#buffer;
    while (this.#head < buf.length) {
      const e = buf[this.#head]!;
      const size = e.message.body.length + 64;
      if (out.length > 0 && bytes + size > maxBytes) break;
      this.#head++;
      this.#bytes -= size;
      lastTag = e.tag;
      if (offsetOf(e.message) < offset) continue;
      out.push(e.message);
      bytes += size;
    }
    if (this.#head > 1024 && this.#head * 2 > buf.length) {
      buf.splice(0, this.#head);
      this.#head = 0;
    }
    if (lastTag > this.#ackedTo) this.#ack(lastTag);
    if (out.length > 0) this.expected = offsetOf(out[out.length - 1]!) + 1;
    return out;
  }

  deliver(_tag: string, deliveryTag: number, _redelivered: boolean, message: Message): void {
    this.#buffer.push({ message, tag: deliveryTag });
    this.#bytes += message.body.length + 64;
    if (deliveryTag - this.#ackedTo >= ACK_EVERY && this.#bytes < READ_AHEAD_BYTES) this.#ack(deliveryTag);
    this.onData?.();
  }

  #ack(tag: number): void {
    this.#ackedTo = tag;
    this.#session?.ack(tag, true);
  }

  consumerCancelled(_tag: string): void {
    // the stream was deleted
    this.#cancelled = true;
    this.onData?.();
  }
  returned(): void {}
  confirmed(): void {}

  close(): void {
    const s = this.#session;
    this.#session = null;
    if (s !== null) {
      try {
        s.close();
      } catch {
        // the connection is closing anyway
      }
    }
  }
}

export function offsetOf(m: Message): number {
  const v = m.properties.headers?.['x-stream-offset'];
  return typeof v === 'number' ? v : Number((v as { value?: unknown })?.value ?? v);
}
