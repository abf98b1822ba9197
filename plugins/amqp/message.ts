/**
 * AMQP content ↔ core Message.
 *
 * Inbound, a publish is three parts (AMQP 0-9-1 §4.2.6): the basic.publish method, a content
 * header (class, body size, properties), and body frames until the announced size is reached
 * (none for an empty body). `ContentAssembler` follows that sequence for one channel and makes
 * the core `Message`, keeping the property bytes as received so deliveries resend them as-is.
 *
 * Outbound, deliveries write `message.encodedProperties` when the message came over AMQP, and
 * encode `message.properties` otherwise (nothing is cached on the shared message).
 */
import { decodeProperties, encodeProperties, CONTENT_HEADER_PROPERTIES_OFFSET, type MessageProperties } from '../../src/codec/index.js';
import { BodyPool, EMPTY_BODY, Message, bodyPool, validateExpiration, type LargeBodyWriter } from '../../src/core/index.js';
import { CLASS_BASIC } from './codec/constants.js';
import { checkContentHeader, contentHeaderBodySize, contentHeaderClassId } from './codec/content.js';
import { preconditionFailed, unexpectedFrame } from './errors.js';
import { isSharedReadBuffer } from '../../src/frontend/index.js';

export type ContentStage = 'idle' | 'header' | 'body';

export class ContentAssembler {
  /** what the channel expects next: a method ('idle'), the content header, or body frames */
  stage: ContentStage = 'idle';
  exchange = '';
  routingKey = '';
  mandatory = false;
  #properties: MessageProperties = {};
  #encodedProperties: Buffer | null = null;
  #size = 0;
  #received = 0;
  /** a body that came in one frame, kept as it arrived (see ownBody) */
  #first: Buffer | null = null;
  /** a body of several frames (or assembled in place): allocated once at its size, filled in order */
  #body: Buffer | null = null;
  /** the part of #body last handed to the frame reader to assemble a split body frame in */
  #target: Buffer | null = null;
  /** more body frames are due after the one last given a `bodyTarget` */
  bodyFollowsTarget = false;
  /** a body above the large-message threshold: written to the journal as it arrives, never held whole */
  writer: LargeBodyWriter | null = null;
  /** the body's buffer came from the body pool (src/core/body-pool.ts): the message may give it back */
  #pooled = false;

  /** basic.publish arrived: a content header must follow. */
  begin(exchange: string, routingKey: string, mandatory: boolean): void {
    this.exchange = exchange;
    this.routingKey = routingKey;
    this.mandatory = mandatory;
    this.stage = 'header';
  }

  /**
   * The content header. @returns true when the content is complete (an empty body).
   * Throws 505 for a wrong class, 406 for a body over `maxMessageSize`, 501 for bad properties.
   */
  header(payload: Buffer, maxMessageSize: number): boolean {
    checkContentHeader(payload);
    const classId = contentHeaderClassId(payload);
    if (classId !== CLASS_BASIC) throw unexpectedFrame(`expected content header for class ${CLASS_BASIC}, got one for class ${classId} instead`);
    const size = contentHeaderBodySize(payload);
    // checked at the header rather than after the body: an oversized body is never buffered
    if (size > maxMessageSize) throw preconditionFailed(`message size ${size} is larger than configured max size ${maxMessageSize}`);
    const properties = decodeProperties(payload, CONTENT_HEADER_PROPERTIES_OFFSET);
    const badExpiration = validateExpiration(properties.expiration);
    if (badExpiration) throw preconditionFailed(badExpiration);
    this.#properties = properties;
    // a copy: a queued message must not pin the socket chunk its header arrived in
    this.#encodedProperties = Buffer.from(payload.subarray(CONTENT_HEADER_PROPERTIES_OFFSET));
    this.#size = size;
    this.#received = 0;
    this.stage = 'body';
    return size === 0;
  }

  /** the body size the content header announced */
  get size(): number {
    return this.#size;
  }

  /** The body goes to the journal as it arrives (`writer`), not into memory. */
  streamTo(writer: LargeBodyWriter): void {
    this.writer = writer;
  }

  /**
   * Where the frame reader should assemble a body frame of `size` bytes that arrives in pieces:
   * its place in the body buffer, so the bytes are copied once, from the socket chunks into
   * the message's body. Null when no body is expected or it would overrun the announced size
   * (the frame then comes through `body`, which says why it is wrong).
   */
  bodyTarget(size: number): Buffer | null {
    if (this.stage !== 'body' || this.#received + size > this.#size) return null;
    this.bodyFollowsTarget = this.#received + size < this.#size;
    if (this.writer !== null) return this.writer.target(size);
    this.#body ??= this.#newBody(this.#size);
    this.#target = this.#body.subarray(this.#received, this.#received + size);
    return this.#target;
  }

  /** One body frame. @returns true when the announced size is reached. */
  body(payload: Buffer): boolean {
    const received = this.#received + payload.length;
    if (received > this.#size) throw unexpectedFrame(`content body of ${received} octets exceeds the ${this.#size} announced in its header`);
    if (this.writer !== null) {
      this.writer.append(payload); // copied into the part being filled, unless assembled there
    } else if (payload === this.#target) {
      this.#target = null; // assembled in place
    } else if (this.#body === null && received === this.#size) {
      this.#first = payload; // the whole body in one frame: no copy unless it pins a larger chunk
    } else {
      this.#body ??= this.#newBody(this.#size);
      payload.copy(this.#body, this.#received);
    }
    this.#received = received;
    return received === this.#size;
  }

  /** The complete message; the assembler is ready for the next publish. */
  take(): Message {
    if (this.writer !== null) {
      const bodyRef = this.writer.finish();
      this.writer = null;
      const m = new Message(this.exchange, this.routingKey, this.#properties, EMPTY_BODY, this.#encodedProperties, Date.now(), bodyRef);
      this.reset();
      return m;
    }
    let body: Buffer;
    if (this.#body !== null) body = this.#body;
    else if (this.#first !== null) body = this.#ownBody(this.#first);
    else body = EMPTY;
    const m = new Message(this.exchange, this.routingKey, this.#properties, body, this.#encodedProperties);
    m.pooled = this.#pooled;
    this.reset();
    return m;
  }

  reset(): void {
    this.writer?.abort(); // given up mid-body: its parts are garbage
    this.writer = null;
    this.stage = 'idle';
    this.#first = null;
    this.#body = null;
    this.#target = null;
    this.#pooled = false; // a body given up mid-way is left to the GC: a socket read may still target it
    this.#encodedProperties = null;
    this.#properties = {};
  }

  /** A body's buffer: from the body pool when large, else fresh. */
  #newBody(size: number): Buffer {
    if (!BodyPool.pools(size)) return Buffer.allocUnsafe(size);
    this.#pooled = true;
    return bodyPool.take(size);
  }

  /**
   * A body that arrived in one frame is a view of a socket chunk (or of the frame reader's
   * assembly buffer). Keep the view when the body is most of that memory; copy it when the
   * view would pin a much larger chunk (a 100-byte message in a 64 KiB read), and always when
   * the chunk is the read buffer every socket shares (the next read overwrites it).
   */
  #ownBody(payload: Buffer): Buffer {
    if (payload.length * 2 >= payload.buffer.byteLength && !isSharedReadBuffer(payload)) return payload;
    const copy = this.#newBody(payload.length);
    payload.copy(copy);
    return copy;
  }
}

const EMPTY = Buffer.alloc(0);

/** The property bytes of a delivery: as received over AMQP, or encoded from the canonical form. */
export function encodedPropertiesOf(message: Message): Buffer {
  return message.encodedProperties ?? encodeProperties(message.properties);
}
