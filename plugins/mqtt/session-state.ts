/**
 * What an MQTT session keeps between network connections (MQTT 5 §4.1): its subscriptions
 * and the QoS 2 packet identifiers still in flight. Queued messages are not here: they wait
 * in the session's queues in the core (`mqtt-subscription-<client id>qos0/1`).
 *
 * Parked sessions live in a `SessionStore` (memory); what a persistent session needs after a
 * restart beyond its queues and bindings is written behind to its record (session-records.ts),
 * which `changed()` tells (through `recorder`) about every change.
 */
import type { DurabilityPoints } from '../../src/core/index.js';
import type { QoS } from 'mqtt-packet';
import type { FieldTable } from '../../src/codec/index.js';
import { BindingMatcher } from './topics.js';
import { SmallMap } from '../../src/util/index.js';
import type { StreamSubscription } from './stream-filters.js';
import type { MqttConnection } from './connection.js';

/** The queue of a session's subscriptions of one QoS class: qos0 (no acks) or qos1 (QoS 1 and 2), as RabbitMQ names them. */
export const sessionQueueName = (clientId: string, qos: number): string =>
  `mqtt-subscription-${clientId}qos${qos > 0 ? 1 : 0}`;

/**
 * One subscription of a session, as granted; it is its own matcher (one object per
 * subscription, not two: thousands of idle devices each hold one).
 */
export class Subscription extends BindingMatcher {
  /** the filter as the client sent it (with any `$share/group/` prefix): the subscription's identity */
  readonly filter: string;
  /** the filter without the share prefix */
  readonly topicFilter: string;
  /** share name of a shared subscription (MQTT 5 §4.8.2), else null */
  readonly shareGroup: string | null;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  /** Subscription Identifier (MQTT 5 §3.8.2.1.2), 0 = none */
  identifier: number;
  /** the queue it is bound on */
  queue: string;
  /** the arguments of its binding (session-recovery.ts); undefined for a shared subscription */
  bindingArgs: FieldTable | undefined;
  /** a `$stream/…` subscription consumes that stream queue directly (stream-filters.ts); else null */
  stream: StreamSubscription | null;

  constructor(filter: string, topicFilter: string, shareGroup: string | null, bindingKey: string, qos: QoS, queue: string) {
    super(bindingKey);
    this.filter = filter;
    this.topicFilter = topicFilter;
    this.shareGroup = shareGroup;
    this.qos = qos;
    this.noLocal = false;
    this.retainAsPublished = false;
    this.identifier = 0;
    this.queue = queue;
    this.bindingArgs = undefined;
    this.stream = null;
  }

  /** which topics it matches (BindingMatcher: the subscription itself) */
  get matcher(): BindingMatcher {
    return this;
  }
}

/**
 * A session's subscriptions by filter are the state object itself (it extends SmallMap: one
 * object less per device; most have one subscription, held without a Map), read and written
 * through `subscriptions`.
 */
export class SessionState extends SmallMap<string, Subscription> {
  readonly vhost: string;
  readonly clientId: string;
  /** the user the session belongs to (operations after the connection is gone use its rights) */
  user: string;
  /** by filter (this object: see the class comment) */
  get subscriptions(): SmallMap<string, Subscription> {
    return this;
  }
  // QoS 2 state and resend ids are made on first use: most sessions never need them
  #pendingPubrel: Set<number> | null = null;
  #pendingInboundQos2: Map<number, DurabilityPoints> | null = null;
  #acceptedInboundQos2: Set<number> | null = null;
  /**
   * QoS ≥ 1 deliveries unacknowledged when the last connection ended: their place in their
   * queue (`deliveryKey`) → packet identifier, so that their redelivery reuses the original
   * identifier (MQTT-4.4.0-1), also after a restart (a stored message keeps its place).
   */
  resendIds: Map<string, number> | null = null;
  /** while connected: its connection, whose in-flight deliveries are what `resendIds` will hold (session-end.ts inFlightPositions) */
  live: MqttConnection | null = null;
  /** ms since the epoch when its last connection ended; 0 while connected */
  disconnectedAt = 0;
  /** whether it has a record in session-records.ts (written once, or read at start) */
  recorded = false;
  /**
   * told after a change a persistent session's record keeps (session-records.ts); null = none.
   * An object with a method, not a closure per session (an idle device costs less).
   */
  recorder: { touch(state: SessionState): void } | null = null;
  /** seconds the session outlives its connection; 0 = it ends with the connection */
  expirySeconds: number;
  /** whether its subscription queues were declared durable (a persistent session) */
  durableQueues: boolean;

  /** outbound QoS 2: packet identifiers we sent PUBREL for and still await PUBCOMP for (MQTT 5 §4.3.3) */
  get pendingPubrel(): Set<number> {
    return (this.#pendingPubrel ??= new Set());
  }

  /**
   * inbound QoS 2: packet identifiers routed and awaiting PUBREL (MQTT-4.3.3-10), with the
   * durability points of what the first copy wrote: a resent PUBLISH's PUBREC waits for them
   */
  get pendingInboundQos2(): Map<number, DurabilityPoints> {
    return (this.#pendingInboundQos2 ??= new Map());
  }

  /**
   * inbound QoS 2: the identifiers of `pendingInboundQos2` whose PUBREC was sent (the message
   * is in the queues): what a restart keeps, so that a resent PUBLISH is not routed again
   */
  get acceptedInboundQos2(): Set<number> {
    return (this.#acceptedInboundQos2 ??= new Set());
  }

  changed(): void {
    if (this.recorder !== null) this.recorder.touch(this);
  }

  /** whether any QoS 2 flow of the session is open (without making the sets) */
  get hasPendingPubrel(): boolean {
    return (this.#pendingPubrel?.size ?? 0) > 0;
  }

  /** whether any inbound QoS 2 flow was accepted (without making the set) */
  get hasAcceptedInboundQos2(): boolean {
    return (this.#acceptedInboundQos2?.size ?? 0) > 0;
  }

  /**
   * The session's own queues (not shared ones): those of its subscriptions, and for a
   * persistent session both of its durable queues, which may outlive their last subscription.
   */
  ownQueues(): Set<string> {
    const queues = new Set<string>();
    // not shared queues, nor the stream queues `$stream/` subscriptions read
    for (const s of this.subscriptions.values()) if (s.shareGroup === null && s.stream === null) queues.add(s.queue);
    if (this.durableQueues) {
      queues.add(sessionQueueName(this.clientId, 0));
      queues.add(sessionQueueName(this.clientId, 1));
    }
    return queues;
  }

  constructor(vhost: string, clientId: string, user: string, expirySeconds: number) {
    super();
    this.vhost = vhost;
    this.clientId = clientId;
    this.user = user;
    this.expirySeconds = expirySeconds;
    this.durableQueues = expirySeconds > 0;
  }
}

/** Session Expiry Interval 0xFFFFFFFF: the session does not expire (MQTT 5 §3.1.2.11.2). */
export const NEVER_EXPIRES = 0xffffffff;

const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SessionStore {
  /** Take a parked session out (its expiry timer stops): the caller resumes or discards it. */
  take(vhost: string, clientId: string): SessionState | undefined;
  /** Keep a session whose connection ended until it expires (at `deadline`, ms since the epoch, when given). */
  park(state: SessionState, deadline?: number): void;
  /** number of parked sessions (for operators and tests) */
  readonly size: number;
  close(): void;
}

/** Parked sessions in memory, each with a timer that forgets it when it expires. */
export class MemorySessionStore implements SessionStore {
  readonly #parked = new Map<string, { state: SessionState; timer: NodeJS.Timeout | null }>();
  readonly #onExpired: (state: SessionState) => void;

  /** @param onExpired called when a parked session expires (to clean up what it left in the core) */
  constructor(onExpired: (state: SessionState) => void = () => {}) {
    this.#onExpired = onExpired;
  }

  get size(): number {
    return this.#parked.size;
  }

  take(vhost: string, clientId: string): SessionState | undefined {
    const key = sessionKey(vhost, clientId);
    const entry = this.#parked.get(key);
    if (!entry) return undefined;
    this.#parked.delete(key);
    if (entry.timer) clearTimeout(entry.timer);
    return entry.state;
  }

  park(state: SessionState, deadline = Date.now() + state.expirySeconds * 1000): void {
    const key = sessionKey(state.vhost, state.clientId);
    const old = this.#parked.get(key);
    if (old?.timer) clearTimeout(old.timer);
    const entry: { state: SessionState; timer: NodeJS.Timeout | null } = { state, timer: null };
    this.#parked.set(key, entry);
    if (state.expirySeconds === NEVER_EXPIRES) return;
    // timers hold at most 2^31-1 ms (~24.8 days): longer expiries re-arm until the deadline
    const arm = (): void => {
      entry.timer = setTimeout(() => {
        if (this.#parked.get(key) !== entry) return;
        if (Date.now() < deadline) return arm();
        this.#parked.delete(key);
        this.#onExpired(state);
      }, Math.min(deadline - Date.now(), MAX_TIMER_MS));
      entry.timer.unref();
    };
    arm();
  }

  close(): void {
    for (const e of this.#parked.values()) if (e.timer) clearTimeout(e.timer);
    this.#parked.clear();
  }
}

/** The key of a client in a vhost: MQTT client identifiers are unique per vhost, as in RabbitMQ. */
export const sessionKey = (vhost: string, clientId: string): string => `${vhost}\u0000${clientId}`;

/** Where a delivery sits in the core (`Session.deliveryPosition`), as a key of `resendIds`. */
export const deliveryKey = (queue: string, seq: number): string => `${queue}\u0000${seq}`;
