/**
 * A connection's subscriptions in the core, as RabbitMQ lays them out: one queue per client
 * and QoS class, `mqtt-subscription-<client id>qos0` (consumed without acks) and
 * `mqtt-subscription-<client id>qos1` (QoS 1 and 2 subscriptions, acked), each bound to the
 * MQTT exchange once per subscription, with the subscription in the binding's arguments (so
 * that a restart can rebuild it: session-recovery.ts). A shared subscription
 * `$share/<group>/<filter>` (MQTT 5 §4.8.2, which RabbitMQ lacks) is one queue per group and
 * filter that every member consumes from, so the queue round-robins its messages.
 *
 * A queue holds one copy of a message whatever number of its bindings matched, so at
 * delivery `match` works out which subscriptions did: the highest QoS among them, their
 * Subscription Identifiers, no-local and retain-as-published, and the rule that wildcards
 * at the root do not match '$' topics (MQTT-4.7.2-1).
 *
 * Overlapping subscriptions of different QoS classes (`a/#` at QoS 0, `a/+` at QoS 1) bind
 * both session queues, so each gets a copy; the client gets one, as from Mosquitto: at the
 * highest QoS granted among the matching subscriptions, with all their Subscription
 * Identifiers (MQTT 5 §3.3.4), from the queue of that QoS class, the other copy being dropped
 * at delivery. Shared subscriptions are apart: each group gets its own copy (MQTT 5 §4.8.2).
 */
import { type QueueDeclareOptions, type Session, isBrokerError, type Message } from '../../src/core/index.js';
import { bindingArgsOf, sameBinding } from './session-recovery.js';
import { sessionQueueName, type SessionState, type Subscription } from './session-state.js';
import { routingKeyWords } from './topics.js';
import { streamConsumeArguments, streamConsumerTag } from './stream-filters.js';

/** The subscriptions served by one consumer on one queue. */
export class QueueGroup {
  constructor(
    /** its subscriptions (a fresh array: pushing into an empty literal reserves 17 slots, ~180 bytes) */
    readonly subs: Subscription[],
    readonly queue: string,
    /** one consumer per queue per connection */
    readonly tag: string,
    readonly noAck: boolean,
    /** deliver only messages a subscription's filter matches (a `$stream/` subscription reads a whole stream) */
    readonly strict = false,
    /** one of the session's own queues (qos0 or qos1), whose subscriptions are matched together */
    readonly sessionQueue = false,
  ) {}

  get maxQos(): number {
    let q = 0;
    for (const s of this.subs) if (s.qos > q) q = s.qos;
    return q;
  }
}

export const sharedQueueName = (group: string, topicFilter: string): string => `mqtt-shared/${group}/${topicFilter}`;

const SHARED_QUEUE: QueueDeclareOptions = { durable: false, autoDelete: true };
// shared empty arrays until a connection has something to keep (an idle device costs less)
const NO_GROUPS: readonly QueueGroup[] = Object.freeze([]) as readonly QueueGroup[];
const NO_WORDS: readonly string[] = Object.freeze([]) as readonly string[];

/**
 * The results of the last `match`, shared by every connection: a delivery reads them right
 * after its own `match`, on the same turn (no allocation per delivery, and no six fields and an
 * array per idle device). The words of the last routing key are kept too: a message fanned out
 * to many devices is split once.
 */
const scratch = { qos: -1, retainAsPublished: false, ids: [] as number[], excluded: false, key: '', words: NO_WORDS as string[] };

export class Subscriptions {
  /** the consumers of this connection: a handful (qos0, qos1, shared ones), so an array searched by tag or queue */
  #groups = NO_GROUPS as QueueGroup[];
  readonly #state: SessionState;
  readonly #session: Session;
  readonly #exchange: string;
  readonly #sessionQueue: QueueDeclareOptions;

  /** @param sessionQueue how the session's own queues are declared (exclusive, or durable with x-expires) */
  constructor(state: SessionState, session: Session, exchange: string, sessionQueue: QueueDeclareOptions) {
    this.#state = state;
    this.#session = session;
    this.#exchange = exchange;
    this.#sessionQueue = sessionQueue;
  }

  /** the highest QoS among the subscriptions the last `match` found (-1: none, drop the message) */
  get matchQos(): number {
    return scratch.qos;
  }
  /** their Subscription Identifiers (valid until the next `match`) */
  get matchIds(): readonly number[] {
    return scratch.ids;
  }
  get matchRetainAsPublished(): boolean {
    return scratch.retainAsPublished;
  }

  queueFor(sub: Pick<Subscription, 'shareGroup' | 'topicFilter' | 'qos'>): string {
    return sub.shareGroup !== null ? sharedQueueName(sub.shareGroup, sub.topicFilter) : sessionQueueName(this.#state.clientId, sub.qos);
  }

  group(consumerTag: string): QueueGroup | undefined {
    const groups = this.#groups;
    for (let i = 0; i < groups.length; i++) if (groups[i].tag === consumerTag) return groups[i];
    return undefined;
  }

  /** the newest group consuming `queue` (stream subscriptions' groups are found by tag) */
  #groupOf(queue: string): QueueGroup | undefined {
    return this.#groups.findLast((g) => g.queue === queue && !g.strict);
  }

  #addGroup(group: QueueGroup): void {
    if (this.#groups.length === 0) this.#groups = [group];
    else this.#groups.push(group);
  }

  #forget(group: QueueGroup): void {
    const i = this.#groups.indexOf(group);
    if (i >= 0) this.#groups.splice(i, 1);
  }

  /**
   * Add or replace a subscription (MQTT-3.8.4-3: a new subscription to an existing filter
   * replaces it). Throws a `BrokerError` when the core refuses (permissions …), leaving the
   * previous subscription in place. @returns whether the filter was new to the session
   */
  add(sub: Subscription): boolean {
    const previous = this.#state.subscriptions.get(sub.filter);
    if (sub.stream !== null) {
      // same filter again: the new subscription replaces it (its consumer tag is the filter's)
      if (previous) this.#detach(previous, false);
      this.#consumeStream(sub);
      this.#state.subscriptions.set(sub.filter, sub);
      this.#state.changed();
      return previous === undefined;
    }
    if (sub.shareGroup === null) sub.bindingArgs = bindingArgsOf(sub);
    this.#ensureQueue(sub);
    // the new binding before the old one goes: no message published meanwhile is missed
    this.#session.bindQueue(sub.queue, this.#exchange, sub.bindingKey, sub.bindingArgs);
    // joined before the previous subscription leaves, so a shared queue never loses its last consumer
    this.#join(sub.queue, sub.qos === 0, [sub]);
    if (previous) this.#detach(previous, !sameBinding(previous, sub));
    this.#state.subscriptions.set(sub.filter, sub);
    this.#state.changed();
    return previous === undefined;
  }

  /** @returns false when the session had no such subscription */
  remove(filter: string): boolean {
    const sub = this.#state.subscriptions.get(filter);
    if (!sub) return false;
    this.#state.subscriptions.delete(filter);
    this.#detach(sub, true);
    this.#state.changed();
    return true;
  }

  /** A resumed session: consume its queues again (declaring and binding what went away, e.g. shared queues). */
  resume(): void {
    const byQueue = new Map<string, Subscription[]>();
    for (const sub of [...this.#state.subscriptions.values()]) {
      if (sub.stream !== null) {
        try {
          this.#consumeStream(sub); // a named consumer: it resumes after its stored offset
        } catch (e) {
          if (!isBrokerError(e)) throw e;
          this.#state.subscriptions.delete(sub.filter);
        }
        continue;
      }
      try {
        this.#ensureQueue(sub);
        this.#session.bindQueue(sub.queue, this.#exchange, sub.bindingKey, sub.bindingArgs);
      } catch (e) {
        if (!isBrokerError(e)) throw e;
        this.#state.subscriptions.delete(sub.filter); // no longer allowed: the subscription lapses
        continue;
      }
      const list = byQueue.get(sub.queue);
      if (list) list.push(sub);
      else byQueue.set(sub.queue, [sub]);
    }
    // every subscription of a queue is in place before its consumer starts
    for (const [queue, subs] of byQueue) {
      const noAck = subs[0].qos === 0;
      try {
        this.#join(queue, noAck, subs.filter((s) => (s.qos === 0) === noAck));
        const other = subs.filter((s) => (s.qos === 0) !== noAck);
        if (other.length > 0) this.#join(queue, !noAck, other);
      } catch (e) {
        if (!isBrokerError(e)) throw e;
        for (const s of subs) this.#state.subscriptions.delete(s.filter);
      }
    }
  }

  /** The core cancelled a consumer (its queue was deleted): forget the group. */
  dropGroup(consumerTag: string): void {
    const group = this.group(consumerTag);
    if (group) this.#forget(group);
  }

  /** Delete the session's own queues (the session ends). */
  deleteSessionQueues(): void {
    for (const q of this.#state.ownQueues()) {
      try {
        this.#session.deleteQueue(q, false, false);
      } catch {
        // already gone or owned elsewhere: nothing left to clean up here
      }
    }
  }

  /**
   * Which of a group's subscriptions a delivered message matches; results in `matchQos`
   * (-1: none, drop the message), `matchIds` and `matchRetainAsPublished`.
   */
  match(group: QueueGroup, message: Message, ownConnectionId: number): void {
    scratch.qos = -1;
    scratch.retainAsPublished = false;
    scratch.ids.length = 0;
    const key = message.routingKey;
    if (key !== scratch.key || scratch.words.length === 0) {
      scratch.key = key;
      scratch.words = routingKeyWords(key);
    }
    scratch.excluded = false;
    if (!group.sessionQueue) {
      this.#matchSubs(group.subs, message, ownConnectionId);
    } else {
      // the session's queues together: a message both got is delivered once (the class comment)
      let sessionGroups = 0;
      const groups = this.#groups;
      for (let i = 0; i < groups.length; i++) {
        if (!groups[i].sessionQueue) continue;
        sessionGroups++;
        this.#matchSubs(groups[i].subs, message, ownConnectionId);
      }
      // the copy in the other class's queue carries it (qos1 for QoS ≥ 1, qos0 for QoS 0)
      if (sessionGroups > 1 && scratch.qos >= 0 && (scratch.qos > 0) === group.noAck) {
        scratch.qos = -1;
        return;
      }
    }
    // a message that reached the queue some other way (an AMQP client publishing to it
    // directly, a dead-letter) matches no binding: deliver it as the queue's subscriptions allow
    if (scratch.qos < 0 && !scratch.excluded && !group.strict) scratch.qos = group.maxQos;
  }

  #matchSubs(subs: Subscription[], message: Message, ownConnectionId: number): void {
    const words = scratch.words;
    const dollar = scratch.key.startsWith('$');
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i];
      if (!s.matcher.matches(words)) continue;
      // MQTT-4.7.2-1, and MQTT-3.8.3-3 (no local: not to the connection that published it)
      if ((dollar && s.matcher.wildcardRoot) || (s.noLocal && message.publisherId === ownConnectionId)) {
        scratch.excluded = true;
        continue;
      }
      if (s.qos > scratch.qos) scratch.qos = s.qos;
      if (s.identifier !== 0) scratch.ids.push(s.identifier);
      if (s.retainAsPublished) scratch.retainAsPublished = true;
    }
  }

  #ensureQueue(sub: Subscription): void {
    if (sub.shareGroup !== null) {
      this.#session.declareQueue(sub.queue, SHARED_QUEUE);
      return;
    }
    try {
      this.#session.declareQueue(sub.queue, this.#sessionQueue);
    } catch (e) {
      // the queue of a resumed session was declared with other settings (an earlier
      // connection's session expiry): use it as it is
      if (!isBrokerError(e) || (e.kind !== 'PRECONDITION_FAILED' && e.kind !== 'RESOURCE_LOCKED')) throw e;
      this.#session.declareQueue(sub.queue, { passive: true });
    }
  }

  /**
   * Join `subs` to the queue's consumer, consuming when there is none yet. The subscriptions
   * are in the group before `consume`, which may deliver queued messages at once.
   */
  #join(queue: string, noAck: boolean, subs: Subscription[]): void {
    const group = this.#groupOf(queue);
    if (group && group.noAck === noAck) {
      for (const s of subs) group.subs.push(s);
      return;
    }
    if (!group) {
      this.#consume(queue, noAck, queue, subs);
      return;
    }
    // a shared subscription changed between QoS 0 and QoS ≥ 1: consume again in the other
    // mode, before cancelling, so the auto-delete queue never loses its last consumer
    // the old consumer stays known until cancelled: the queue may still hand it a message meanwhile
    this.#consume(queue, noAck, group.tag === queue ? `${queue}#` : queue, [...group.subs, ...subs]);
    this.#session.cancel(group.tag);
    this.#forget(group);
  }

  #consume(queue: string, noAck: boolean, tag: string, subs: Subscription[]): void {
    const group = new QueueGroup(subs.slice(), queue, tag, noAck, false, subs[0]?.shareGroup === null);
    // registered before consume: consume may deliver queued messages at once
    this.#addGroup(group);
    try {
      this.#session.consume(queue, { consumerTag: tag, noAck });
    } catch (e) {
      this.#forget(group);
      throw e;
    }
  }

  /**
   * A `$stream/` subscription's own consumer on the stream queue: acknowledged deliveries (a
   * stream refuses no-ack; QoS 0 ones are acked once written), with a per-consumer prefetch,
   * named after the client and filter when the session is persistent, so its offset is stored.
   */
  #consumeStream(sub: Subscription): void {
    const stream = sub.stream!;
    const tag = streamConsumerTag(sub.filter);
    const group = new QueueGroup([sub], sub.queue, tag, false, true);
    this.#addGroup(group);
    const name = this.#state.expirySeconds > 0 ? `mqtt/${this.#state.clientId}/${sub.filter}` : null;
    try {
      this.#session.qos(stream.prefetch, false);
      this.#session.consume(sub.queue, { consumerTag: tag, noAck: false, arguments: streamConsumeArguments(stream, name) });
    } catch (e) {
      this.#forget(group);
      throw e;
    } finally {
      this.#session.qos(0, false);
    }
  }

  /** Take a subscription out of its group, and unbind its binding (its own: the arguments name it). */
  #detach(sub: Subscription, unbind: boolean): void {
    if (sub.stream !== null) {
      const g = this.group(streamConsumerTag(sub.filter));
      if (g) {
        this.#forget(g);
        this.#session.cancel(g.tag);
      }
      return;
    }
    const group = this.#groupOf(sub.queue);
    if (group) {
      const i = group.subs.indexOf(sub);
      if (i >= 0) group.subs.splice(i, 1);
    }
    // a shared queue's binding belongs to the whole group: it goes with the queue (auto-delete)
    if (unbind && sub.shareGroup === null) {
      try {
        this.#session.unbindQueue(sub.queue, this.#exchange, sub.bindingKey, sub.bindingArgs);
      } catch {
        // the queue is gone already: nothing is bound
      }
    }
    if (group && group.subs.length === 0 && sub.shareGroup !== null) {
      // leave the share: the group's queue auto-deletes when its last member goes
      this.#forget(group);
      this.#session.cancel(group.tag);
    }
  }
}
