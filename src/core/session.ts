import { randomBytes } from 'node:crypto';
import type { FieldTable } from '../codec/types.js';
import type { ConsumeOptions, DeliveryPosition, ExchangeDeclareOptions, GetResult, QueueDeclareOptions, QueueDeclareResult, Session, SessionHandler } from './api.js';
import { checkConsumable, Consumer, type ConsumerSession } from './delivery/consumer.js';
import { Unacked } from './delivery/unacked.js';
import { ConsumersByTag } from './delivery/consumers-by-tag.js';
import { dispatchQueuesOf, requeueEntries, settleEntries } from './delivery/settle.js';
import { HeldSettlements } from './delivery/held-settlements.js';
import { SessionStats } from './session-stats.js';
import { SessionTopology } from './session-topology.js';
import {
  DIRECT_REPLY_PREFIX, DIRECT_REPLY_TO, SessionReplies, deliverToReplyAddress, type DirectReplyTarget,
} from './delivery/direct-reply-to.js';
import { notAllowed } from './errors.js';
import type { Message } from './message.js';
import type { BodyFence } from './body-pool.js';
import type { Queue } from './queues/queue.js';
import type { QueueEntry } from './queues/queue-entry.js';
import type { VHost } from './vhost.js';
import type { Publisher } from './publisher.js';
import type { DurableListener } from '../store/message-store.js';
import type { Connection } from './connection.js';
import { DurabilityPoints, whenAllDurable } from './durability.js';
import { PublishGuard } from './publish-guard.js';
import { publishBatch } from './publish-batch.js';
import { senderSelectedKeys } from './exchanges/sender-selected.js';

const NO_ARGUMENTS: FieldTable = Object.freeze({}); // a consumer given no arguments shares these (read only)
let nextSessionId = 1;
const NO_COUNTS: Readonly<SessionStats> = Object.freeze(new SessionStats());
/** the fence of a vhost without a message store: nothing of ours writes its bodies */
const NO_STORE: BodyFence = Object.freeze({ durableLsn: 0 });
/**
 * The core side of one channel: the protocol-neutral operations of `Session`, the session's
 * consumers and its unacked deliveries. Checks and error texts follow RabbitMQ's channel.
 * Declaring, binding and deleting exchanges and queues is its base class's (session-topology.ts:
 * one object per session, not two).
 */
export class CoreSession extends SessionTopology implements Session, ConsumerSession, DirectReplyTarget, DurableListener {
  readonly id = nextSessionId++;
  readonly connection: Connection;
  readonly #vhost: VHost;
  readonly #publisher: Publisher;
  readonly #handler: SessionHandler;
  readonly #consumers = new ConsumersByTag();
  readonly #unacked = new Unacked();
  /** deliveries an open AMQP transaction acked, nacked or rejected; made by the first such */
  #held: HeldSettlements | null = null;
  /** prefetch given to consumers created from now on (basic.qos global=false) */
  #consumerPrefetch = 0;
  /** limit on unacked consumer deliveries across the session (basic.qos global=true) */
  #sessionPrefetch = 0;
  #flowActive = true;
  #writable = true;
  #closed = false;
  /** the session's direct reply-to consumer and address; made when first needed */
  #replies: SessionReplies | null = null;
  /** made by the first publish (a device that only subscribes never needs it) */
  #publishGuard: PublishGuard | null = null;
  /** counters for management's channel message_stats, made by the first thing counted */
  #stats: SessionStats | null = null;
  /**
   * the durability points of the publish being made, unless the caller keeps its own (reused:
   * publishes on a session do not nest); made by the first publish. What an idle session does
   * not use is not made: thousands of idle MQTT devices each hold one session.
   */
  #points: DurabilityPoints | null = null;

  /** the counters, to count into */
  get stats(): SessionStats {
    return (this.#stats ??= new SessionStats());
  }

  /** the counters, to read (an idle session's are the shared zeros) */
  get counters(): Readonly<SessionStats> {
    return this.#stats ?? NO_COUNTS;
  }

  constructor(connection: Connection, vhost: VHost, handler: SessionHandler) {
    super(connection.access, vhost, connection.id);
    this.connection = connection;
    this.#vhost = vhost;
    this.#publisher = vhost.publisher;
    this.#handler = handler;
  }

  get #guard(): PublishGuard {
    return (this.#publishGuard ??= new PublishGuard(this.connection.access, this.#vhost));
  }

  get #ownPoints(): DurabilityPoints {
    return (this.#points ??= new DurabilityPoints());
  }

  get #replyConsumer(): SessionReplies {
    return (this.#replies ??= new SessionReplies(this.#vhost.directReplies, this));
  }

  get closed(): boolean {
    return this.#closed;
  }

  get consumerCount(): number {
    return this.#consumers.size;
  }

  get unackedCount(): number {
    return this.#unacked.size;
  }

  /** whether a consumer of this session waits for acks (publisher-flow.ts never holds its connection) */
  hasAckingConsumer(): boolean {
    for (const c of this.#consumers.values()) if (!c.noAck) return true;
    return false;
  }

  /** prefetch given to new consumers (basic.qos global=false), for operators */
  get prefetchCount(): number {
    return this.#consumerPrefetch;
  }

  /** session-wide prefetch (basic.qos global=true), for operators */
  get globalPrefetchCount(): number {
    return this.#sessionPrefetch;
  }

  // ---- publishing ------------------------------------------------------------------------

  publish(message: Message, mandatory: boolean, confirmToken?: number, points: DurabilityPoints = this.#ownPoints): void {
    const x = this.#guard.check(message);
    message.publisherId = this.connection.id;
    this.stats.publish++;
    x.publishIn++;
    if (message.properties.replyTo === DIRECT_REPLY_TO) message = this.#replyConsumer.rewriteRequest(message);
    let accepted = true;
    points.clear();
    const flow = this.#vhost.flow;
    flow.pressed = null;
    if (message.exchange === '' && message.routingKey.startsWith(DIRECT_REPLY_PREFIX)) {
      if (!deliverToReplyAddress(this.#vhost.directReplies, message)) this.#unroutable(message, mandatory);
    } else {
      const delay = x.router.delayOf?.(message) ?? 0;
      const outcome = delay > 0 ? this.#publisher.publishLater(x, message, delay, points) : this.#publisher.publish(x, message, points);
      if (outcome === 'unroutable') {
        this.#unroutable(message, mandatory);
        this.#publisher.failureReply(message, 'unroutable', null);
      } else if (outcome === 'rejected') {
        accepted = false;
      }
    }
    // a queue this filled past its flow mark holds the connection (publisher-flow.ts)
    if (flow.pressed !== null) flow.afterPublish(this.connection);
    if (confirmToken === undefined) return;
    // a confirm is a promise that everything this publish wrote survives a power cut: it waits
    // for every durability point (journal record, stream appends), at once when there are none
    if (accepted) whenAllDurable(points, this, confirmToken);
    else this.#handler.confirmed(confirmToken, false, null);
  }

  publishBatch(messages: readonly Message[], confirmToken?: number): void {
    const points = this.#ownPoints;
    const flow = this.#vhost.flow;
    flow.pressed = null;
    const outcome = publishBatch({ stats: this.stats, publisherId: this.connection.id, guard: this.#guard, vhost: this.#vhost }, messages, points);
    if (flow.pressed !== null) flow.afterPublish(this.connection);
    if (confirmToken !== undefined && outcome !== 'rejected') whenAllDurable(points, this, confirmToken);
    else if (confirmToken !== undefined) this.#handler.confirmed(confirmToken, false, null);
  }

  checkPublish(message: Message): void {
    this.#guard.check(message);
    const h = message.properties.headers;
    if (h !== undefined && (h.CC !== undefined || h.BCC !== undefined)) senderSelectedKeys(h);
  }

  #unroutable(message: Message, mandatory: boolean): void {
    if (mandatory) {
      this.stats.returnUnroutable++;
      this.#handler.returned(message, 312, 'NO_ROUTE');
    } else this.stats.dropUnroutable++;
  }

  // ---- consuming -------------------------------------------------------------------------

  qos(prefetchCount: number, global: boolean): void {
    if (global) {
      this.#sessionPrefetch = prefetchCount;
      this.#resume();
    } else {
      this.#consumerPrefetch = prefetchCount;
    }
  }

  consume(queue: string, o: ConsumeOptions): string {
    let tag = o.consumerTag ?? '';
    if (tag === '') tag = `amq.ctag-${randomBytes(16).toString('base64url')}`;
    else if (this.#consumers.has(tag) || this.#replies?.tag === tag) {
      throw notAllowed(`attempt to reuse consumer tag '${tag}'`);
    }
    if (queue === DIRECT_REPLY_TO) return this.#replyConsumer.start(tag, !!o.noAck);
    const q = this.readable(queue);
    checkConsumable(q, !!o.exclusive, this.#sessionPrefetch);
    const c = new Consumer(tag, q, this, !!o.noAck, !!o.exclusive, this.#consumerPrefetch, o.arguments ?? NO_ARGUMENTS);
    q.validateConsumer(c);
    this.#consumers.set(c);
    q.addConsumer(c);
    // its acks come in on this connection's socket: flow must not stop reading it (publisher-flow.ts)
    if (!c.noAck && this.connection.flowHeld) this.#vhost.flow.exempt(this.connection);
    return tag;
  }

  cancel(consumerTag: string): void {
    if (this.#replies !== null && this.#replies.tag === consumerTag) return this.#replies.stop();
    const c = this.#consumers.get(consumerTag);
    if (!c) return; // unknown tags are not an error (AMQP 0-9-1 basic.cancel)
    this.#consumers.delete(consumerTag);
    c.queue.removeConsumer(c);
  }

  get(queue: string, noAck: boolean): GetResult | null {
    const q = this.readable(queue);
    const entry = q.take();
    if (!entry) {
      this.stats.getEmpty++;
      return null;
    }
    const deliveryTag = this.#unacked.nextTag();
    if (entry.redelivered) this.stats.redeliver++;
    if (noAck) this.stats.getNoAck++;
    else {
      this.stats.get++;
      q.trackUnacked(entry);
      entry.deliveryTag = deliveryTag;
      this.#unacked.add(entry);
    }
    return { deliveryTag, redelivered: entry.redelivered, message: entry.message, messageCount: q.messageCount };
  }

  // ---- settling --------------------------------------------------------------------------

  ack(deliveryTag: number, multiple: boolean): void {
    this.#settle(this.#unacked.take(deliveryTag, multiple), null);
  }

  nack(deliveryTag: number, multiple: boolean, requeue: boolean): void {
    this.#settle(this.#unacked.take(deliveryTag, multiple), requeue);
  }

  holdSettlement(deliveryTag: number, multiple: boolean, requeue: boolean | null): void {
    (this.#held ??= new HeldSettlements()).hold(this.#unacked.take(deliveryTag, multiple), requeue);
  }

  commitSettlements(): void {
    if (this.#held === null) return;
    for (const h of this.#held.takeAll()) this.#settle(h.entries, h.requeue);
  }

  rollbackSettlements(): void {
    if (this.#held !== null) this.#unacked.restore(this.#held.takeEntries());
  }

  /** requeue null: an ack */
  #settle(entries: QueueEntry[], requeue: boolean | null): void {
    if (requeue === null) this.stats.ack += entries.length;
    settleEntries(entries, requeue);
    if (requeue === null && this.#handler.bodyDone !== undefined) this.#offerBodies(entries);
    this.#afterSettle(entries);
  }

  /**
   * Acked entries whose message ended with this ack: a pooled body (the publisher pinned it
   * unless its one queue recycles bodies), delivered once and never given back, goes to the
   * front-end to release after its writes (body-pool.ts, rules 2-4).
   */
  #offerBodies(entries: QueueEntry[]): void {
    const fence = this.#vhost.store?.messages ?? NO_STORE;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const m = e.message;
      if (!m.pooled || e.redelivered || e.deliveryCount !== 0) continue;
      m.pooled = false; // offered once
      this.#handler.bodyDone!(m.body, fence, m.journalLsn);
    }
  }

  reject(deliveryTag: number, requeue: boolean): void {
    this.nack(deliveryTag, false, requeue);
  }

  deliveryPosition(deliveryTag: number): DeliveryPosition | null {
    return this.#unacked.position(deliveryTag);
  }

  recover(_requeue: boolean): void {
    // RabbitMQ gives unacked messages back to the queue in both cases (requeue=false would
    // mean redelivery to the same consumer only, which it does not implement either).
    const entries = this.#unacked.takeAll();
    requeueEntries(entries);
    this.#afterSettle(entries);
  }

  // ---- flow ------------------------------------------------------------------------------

  setFlow(active: boolean): void {
    this.#flowActive = active;
    if (active) this.#resume();
  }

  setWritable(writable: boolean): void {
    if (this.#writable === writable) return;
    this.#writable = writable;
    if (writable) this.#resume();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // detach consumers first, so that requeued messages are not handed straight back to them
    const queues: Queue[] = [];
    for (const c of this.#consumers.values()) {
      c.queue.removeConsumer(c, false);
      queues.push(c.queue);
    }
    this.#consumers.clear();
    const entries = [...this.#unacked.takeAll(), ...(this.#held?.takeEntries() ?? [])];
    requeueEntries(entries);
    this.#afterSettle(entries);
    for (const q of queues) q.checkUnused();
    this.#replies?.stop();
    this.connection.sessionClosed(this);
  }

  // ---- ConsumerSession -------------------------------------------------------------------

  canDeliver(): boolean {
    return (
      this.#writable &&
      this.#flowActive &&
      !this.#closed &&
      (this.#sessionPrefetch === 0 || this.#unacked.consumerCount + (this.#held?.consumerCount ?? 0) < this.#sessionPrefetch)
    );
  }

  deliver(consumer: Consumer, entry: QueueEntry): void {
    const tag = this.#unacked.nextTag();
    if (entry.redelivered) this.stats.redeliver++;
    if (consumer.noAck) this.stats.deliverNoAck++;
    else {
      this.stats.deliver++;
      entry.deliveryTag = tag;
      this.#unacked.add(entry);
    }
    this.#handler.deliver(consumer.tag, tag, entry.redelivered, entry.message);
  }

  /** Every durability point of a publish is durable, or one failed: a negative confirm, never a positive one. */
  onDurable(token: number, error: Error | null): void {
    if (this.#closed) return;
    if (error === null) this.stats.confirm++;
    this.#handler.confirmed(token, error === null, error);
  }

  deliverReply(message: Message): void {
    const tag = this.#replies?.tag;
    if (this.#closed || tag === undefined) return;
    this.stats.deliverNoAck++;
    this.#handler.deliver(tag, this.#unacked.nextTag(), false, message);
  }

  cancelledByServer(consumer: Consumer): void {
    if (this.#consumers.get(consumer.tag) !== consumer) return;
    this.#consumers.delete(consumer.tag);
    if (!this.#closed) this.#handler.consumerCancelled(consumer.tag);
  }

  // ---- internals -------------------------------------------------------------------------

  /** Settled deliveries free credit: let the queues involved dispatch again. */
  #afterSettle(entries: QueueEntry[]): void {
    dispatchQueuesOf(entries);
    if (this.#sessionPrefetch > 0) this.#resume();
  }

  /** Deliveries may flow again: ask every queue this session consumes from to dispatch. */
  #resume(): void {
    if (!this.canDeliver()) return;
    for (const c of this.#consumers.values()) c.queue.dispatch();
  }
}

