/**
 * One AMQP channel: its core `Session`, its state machine, the content being assembled, and
 * the `SessionHandler` through which the core hands it deliveries, returns and confirms.
 *
 * States (AMQP 0-9-1 §2.2.4 and channel.close):
 *   open     methods are dispatched to handlers/; basic.publish moves the content assembler
 *            through header → body frames, and no other method may interleave (505).
 *   closing  the broker sent channel.close after an error: everything the client sends on the
 *            channel is dropped except channel.close and channel.close-ok, which free it.
 *   closed   the slot is free; a late confirm or delivery for it is dropped.
 */
import type { BodyFence, CoreConnection, Session, SessionHandler, Message } from '../../src/core/index.js';
import { writeDeliver, writeReturn } from './codec/content.js';
import { CLASS_CONNECTION } from './codec/constants.js';
import { M, encodeMethodFrame, methodName, type AmqpMethod } from './codec/methods.js';
import type { ConfirmTracker } from './confirms.js';
import type { AmqpTransaction } from './transaction.js';
import type { AmqpConnection } from './connection.js';
import { closeReasonOf, commandInvalid, unexpectedFrame } from './errors.js';
import { HANDLERS } from './handlers/index.js';
import { ContentAssembler, encodedPropertiesOf } from './message.js';
import { keepUpWithJournal } from '../../src/frontend/index.js';

export type ChannelState = 'open' | 'closing' | 'closed';

const NO_FRAME = Buffer.alloc(0);

export class AmqpChannel implements SessionHandler {
  readonly id: number;
  readonly conn: AmqpConnection;
  readonly session: Session;
  state: ChannelState = 'open';
  readonly content = new ContentAssembler();
  /** set by confirm.select */
  confirms: ConfirmTracker | null = null;
  /** set by tx.select (never together with confirms: RabbitMQ refuses switching modes) */
  tx: AmqpTransaction | null = null;
  /** queued with the connection for a coalesced confirm at the next flush */
  confirmFlushQueued = false;

  constructor(conn: AmqpConnection, id: number, core: CoreConnection) {
    this.conn = conn;
    this.id = id;
    this.session = core.openSession(this);
  }

  // ---- frames from the connection ------------------------------------------------------

  onMethod(m: AmqpMethod): void {
    if (this.state === 'closing') {
      // channel.close §: after sending close, discard everything but close and close-ok
      if (m.id === M.channelClose) this.send({ id: M.channelCloseOk });
      if (m.id === M.channelClose || m.id === M.channelCloseOk) this.conn.releaseChannel(this);
      return;
    }
    if (this.content.stage !== 'idle') {
      const expected = this.content.stage === 'header' ? 'content header for class 60' : 'content body';
      this.conn.fail(unexpectedFrame(`expected ${expected}, got non content frame instead`), M.basicPublish);
      return;
    }
    const handler = HANDLERS.get(m.id);
    if (handler === undefined) {
      // a method a client may not send here (connection.* on a channel, basic.deliver …): RabbitMQ's 503
      const text = m.id >>> 16 === CLASS_CONNECTION ? 'unimplemented method' : `unimplemented method ${methodName(m.id)}`;
      this.conn.fail(commandInvalid(text), m.id);
      return;
    }
    try {
      handler(this, m);
    } catch (e) {
      this.fail(e, m.id);
    }
  }

  onHeader(payload: Buffer): void {
    if (this.state !== 'open') return;
    if (this.content.stage !== 'header') {
      this.conn.fail(unexpectedFrame(this.content.stage === 'idle' ? 'expected method frame, got non method frame instead' : 'expected content body, got content header instead'), M.basicPublish);
      return;
    }
    try {
      const core = this.conn.core;
      if (this.content.header(payload, core.maxMessageSize)) this.#publish();
      else if (this.content.size > core.largeMessageThreshold) {
        const writer = core.beginLargeBody(this.conn.vhost, this.content.size);
        if (writer !== null) this.content.streamTo(writer);
      }
    } catch (e) {
      this.fail(e, M.basicPublish);
    }
  }

  onBody(payload: Buffer): void {
    if (this.state !== 'open') return;
    if (this.content.stage !== 'body') {
      this.conn.fail(unexpectedFrame(this.content.stage === 'idle' ? 'expected method frame, got non method frame instead' : 'expected content header for class 60, got content body instead'), M.basicPublish);
      return;
    }
    try {
      if (this.content.body(payload)) this.#publish();
      else if (this.content.writer !== null) keepUpWithJournal(this.conn, this.content.writer, this.conn.core.alarms);
    } catch (e) {
      this.fail(e, M.basicPublish);
    }
  }

  #publish(): void {
    const mandatory = this.content.mandatory;
    const message = this.content.take();
    const seq = this.confirms === null ? -1 : this.confirms.nextSeq++;
    // a resource alarm blocks publishers: hold it, and stop reading the socket
    const conn = this.conn;
    if (conn.core.alarms.blocked || conn.gate.holding) conn.gate.hold({ channel: this, message, mandatory, seq }, conn.core.alarms.settings.publishDeadlineMs);
    else this.publishNow(message, mandatory, seq);
  }

  /** Hand a complete publish to the core (seq: the confirm sequence number, or -1). */
  publishNow(message: Message, mandatory: boolean, seq: number): void {
    if (this.state !== 'open') return;
    try {
      if (this.tx !== null) return this.tx.publish(this, message, mandatory); // applied by tx.commit
      if (seq < 0) this.session.publish(message, mandatory);
      else this.session.publish(message, mandatory, seq);
    } catch (e) {
      this.fail(e, M.basicPublish);
    }
  }

  // ---- replies and errors --------------------------------------------------------------

  send(method: AmqpMethod): void {
    this.conn.writer.write(encodeMethodFrame(this.id, method));
  }

  /**
   * Keep a place for a reply in the write batch, to fill once the core call that may deliver
   * synchronously has returned (basic.consume-ok must precede the consumer's first delivery).
   */
  reserveReply(): number {
    this.conn.writer.out.push(NO_FRAME);
    return this.conn.writer.out.length - 1;
  }

  fillReply(slot: number, method: AmqpMethod): void {
    this.conn.writer.out[slot] = encodeMethodFrame(this.id, method);
    this.conn.writer.scheduleFlush();
  }

  /** An error from handling `methodId`: close this channel (soft error) or the connection. */
  fail(error: unknown, methodId: number): void {
    const reason = closeReasonOf(error);
    if (reason.scope === 'connection' || this.state !== 'open') {
      this.conn.fail(error, methodId);
      return;
    }
    this.conn.log.info('channel error', { channel: this.id, method: methodName(methodId), replyCode: reason.replyCode, reason: reason.replyText });
    this.flushConfirms();
    this.state = 'closing';
    this.content.reset();
    this.session.close();
    this.send({ id: M.channelClose, replyCode: reason.replyCode, replyText: reason.replyText, classId: methodId >>> 16, methodId: methodId & 0xffff });
  }

  /** The client's channel.close: end the session, answer close-ok, free the slot. */
  closeByClient(): void {
    this.flushConfirms();
    this.session.close();
    this.send({ id: M.channelCloseOk });
    this.conn.releaseChannel(this);
  }

  /** The connection is going away: end the session without a word on the wire. */
  drop(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.content.reset(); // a body being streamed in is given up
    this.session.close();
  }

  flushConfirms(): void {
    this.confirms?.flush(this.conn.writer.out);
  }

  // ---- SessionHandler: what the core sends to the client -------------------------------

  deliver(consumerTag: string, deliveryTag: number, redelivered: boolean, message: Message): void {
    if (this.state !== 'open') return;
    const w = this.conn.writer;
    try {
      writeDeliver(w.out, this.id, this.conn.frameMax, consumerTag, deliveryTag, redelivered, message.exchange, message.routingKey, encodedPropertiesOf(message), message.body, message.size);
      if (message.bodyRef !== null) w.writeBody(message.bodyRef, this.id, this.conn.frameMax);
    } catch (e) {
      this.conn.failLater(e);
      return;
    }
    w.scheduleFlush();
  }

  consumerCancelled(consumerTag: string): void {
    // RabbitMQ sends basic.cancel only to clients that announced consumer_cancel_notify
    if (this.state !== 'open' || !this.conn.capabilities.consumerCancelNotify) return;
    this.send({ id: M.basicCancel, consumerTag, noWait: true });
  }

  returned(message: Message, replyCode: number, replyText: string): void {
    if (this.state !== 'open') return;
    const w = this.conn.writer;
    try {
      writeReturn(w.out, this.id, this.conn.frameMax, replyCode, replyText, message.exchange, message.routingKey, encodedPropertiesOf(message), message.body, message.size);
      if (message.bodyRef !== null) w.writeBody(message.bodyRef, this.id, this.conn.frameMax);
    } catch (e) {
      this.conn.failLater(e);
      return;
    }
    w.scheduleFlush();
  }

  /** the ack ended a pooled body's message: back to the pool once its delivery is written (src/core/body-pool.ts) */
  bodyDone(body: Buffer, fence: BodyFence, lsn: number): void {
    const w = this.conn.writer;
    if (w.bodies.add(body, fence, lsn)) w.scheduleFlush();
  }

  confirmed(token: number, ack: boolean): void {
    if (this.tx !== null) {
      if (this.state === 'open') this.tx.confirmed(this, token, ack);
      return;
    }
    const confirms = this.confirms;
    if (confirms === null || this.state !== 'open') return;
    confirms.confirm(token, ack, this.conn.writer.out);
    if (confirms.hasPending && !this.confirmFlushQueued) {
      this.confirmFlushQueued = true;
      this.conn.queueConfirmFlush(this);
    }
    this.conn.writer.scheduleFlush();
  }
}
