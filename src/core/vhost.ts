import { randomBytes } from 'node:crypto';
import type { FieldTable } from '../codec/types.js';
import { bindingKey, type Binding, type Destination } from './binding.js';
import { accessRefused, BrokerError, notFound, preconditionFailed, resourceLocked } from './errors.js';
import { Exchange } from './exchange.js';
import { DefaultRouter } from './exchanges/default.js';
import { addDestination } from './exchanges/exchange-type.js';
import type { ExchangeTypeRegistry } from './exchanges/registry.js';
import { Message } from './message.js';
import { Scheduler } from './delivery/scheduler.js';
import { DIRECT_REPLY_PREFIX } from './delivery/direct-reply-to.js';
import type { DeadLetterReason, Queue } from './queues/queue.js';
import type { QueueHost } from './queues/queue-type.js';
import type { QueueTypeRegistry } from './queues/registry.js';
import { deadLetteredMessage, isDeadLetterCycle } from './delivery/dead-letter.js';
import { assertEquivalentArguments } from './queues/queue-arguments.js';
import type { ExchangeDeclareOptions, QueueDeclareOptions } from './api.js';
import type { Limits } from './limits.js';
import { effectivePolicy, mergePolicy, validatePolicy, type Policy } from './policies.js';
import { decodeProperties, encodeProperties } from '../codec/basic-properties.js';
import { DELAYED_TYPE } from './exchanges/delayed.js';
import { DelayedPublish, delayedHolder } from './exchanges/delayed-publish.js';
import { senderSelectedKeys, withoutBcc } from './exchanges/sender-selected.js';
import type { MessageStore } from '../store/message-store.js';
import type { MetadataStore } from '../store/metadata/metadata-store.js';
import type { StreamStore } from '../store/stream/stream-store.js';
import { DurabilityPoints } from './durability.js';

/** Where a vhost keeps its durable definitions and persistent messages. */
export interface VhostStore {
  meta: MetadataStore;
  /** the vhost's journal: persistent messages of its classic and quorum queues */
  messages: MessageStore;
  /** the node's stream logs (docs/streams.md) */
  streams?: StreamStore;
}
import type { DirectReplyTarget } from './delivery/direct-reply-to.js';

/** The exchanges every vhost starts with (AMQP 0-9-1 §3.1.3, plus RabbitMQ's amq.match alias). */
const STANDARD_EXCHANGES: [string, string][] = [
  ['amq.direct', 'direct'],
  ['amq.fanout', 'fanout'],
  ['amq.topic', 'topic'],
  ['amq.headers', 'headers'],
  ['amq.match', 'headers'],
];

const EMPTY: FieldTable = Object.freeze({}) as FieldTable;

/**
 * One virtual host: its exchanges, queues and bindings, and routing. Error texts and the
 * order of checks follow RabbitMQ's `rabbit_channel`, so clients see the same replies.
 * `connId` arguments identify the calling connection for exclusive-queue checks.
 */
export class VHost implements QueueHost {
  readonly name: string;
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  /** sessions consuming from the direct reply-to pseudo-queue, by their reply address */
  readonly directReplies = new Map<string, DirectReplyTarget>();
  readonly policies = new Map<string, Policy>();
  /** description, tags, default queue type … as operators set them (RabbitMQ vhost metadata) */
  metadata: Record<string, unknown> = {};
  /** null: nothing survives a restart (a library broker without a data directory) */
  store: VhostStore | null = null;
  /** the points of publishes made inside a publish (failure replies, dead-letters): filled, never read */
  readonly #nested = new DurabilityPoints();
  /** timers for delayed messages and redelivery back-off */
  readonly scheduler = new Scheduler();
  readonly #types: ExchangeTypeRegistry;
  readonly #queueTypes: QueueTypeRegistry;
  #epoch = 0;
  readonly #routed: Destination[] = [];

  readonly #limits: Limits | null;

  constructor(name: string, types: ExchangeTypeRegistry, queueTypes: QueueTypeRegistry, limits: Limits | null = null) {
    this.name = name;
    this.#types = types;
    this.#queueTypes = queueTypes;
    this.#limits = limits;
    const flags = { durable: true, autoDelete: false, internal: false, arguments: EMPTY };
    this.exchanges.set('', new Exchange('', 'direct', flags, new DefaultRouter(this.queues)));
    for (const [name, type] of STANDARD_EXCHANGES) {
      this.exchanges.set(name, new Exchange(name, type, flags, this.#types.get(type)!.create(EMPTY, this.#types)));
    }
  }

  // ---- exchanges -------------------------------------------------------------------------

  exchange(name: string): Exchange {
    const x = this.exchanges.get(name);
    if (!x) throw notFound('exchange', name, this.name);
    return x;
  }

  declareExchange(name: string, type: string, o: ExchangeDeclareOptions): Exchange {
    if (name === '') throw accessRefused('operation not permitted on the default exchange');
    if (o.passive) return this.exchange(name);
    const xType = this.#types.get(type);
    // RabbitMQ checks the type before anything else; 3.13+ refuses an unknown one with a
    // channel error (rabbit_exchange:check_type, precondition_failed), 3.10 closed the connection
    if (!xType) throw preconditionFailed(`unknown exchange type '${type}'`);
    let x = this.exchanges.get(name);
    if (!x) {
      if (name.startsWith('amq.')) throw accessRefused(`exchange name '${name}' contains reserved prefix 'amq.*'`);
      xType.validate?.(o.arguments ?? EMPTY, this.#types);
      x = new Exchange(
        name,
        type,
        {
          durable: !!o.durable,
          autoDelete: !!o.autoDelete,
          internal: !!o.internal,
          arguments: o.arguments ?? EMPTY,
        },
        xType.create(o.arguments ?? EMPTY, this.#types),
      );
      this.exchanges.set(name, x);
      this.#applyExchangePolicy(x);
      if (x.durable && this.store) {
        this.store.meta.saveExchange(exchangeDefinition(this.name, x));
        if (x.type === DELAYED_TYPE) x.delayStoreId = this.store.meta.saveQueue(delayedHolder(this.name, x.name));
      }
      return x;
    }
    const what = `exchange '${name}' in vhost '${this.name}'`;
    assertField(what, 'type', x.type, type);
    assertField(what, 'durable', x.durable, !!o.durable);
    assertField(what, 'auto_delete', x.autoDelete, !!o.autoDelete);
    assertField(what, 'internal', x.internal, !!o.internal);
    assertField(what, 'alternate-exchange', x.arguments['alternate-exchange'], o.arguments?.['alternate-exchange']);
    return x;
  }

  deleteExchange(name: string, ifUnused: boolean): void {
    if (name === '') throw accessRefused('operation not permitted on the default exchange');
    if (name.startsWith('amq.')) throw accessRefused(`deletion of system exchange '${name}' in vhost '${this.name}' not allowed`);
    const x = this.exchanges.get(name);
    if (!x) return; // idempotent, as RabbitMQ 3.x
    if (ifUnused && x.bindings.size > 0) throw preconditionFailed(`exchange '${name}' in vhost '${this.name}' in use`);
    this.#removeExchange(x);
  }

  // ---- queues ----------------------------------------------------------------------------

  /** Look a queue up for an operation by connection `connId` (404 missing, 405 someone else's exclusive queue). */
  queue(name: string, connId: number): Queue {
    const q = this.queues.get(name);
    if (!q) throw notFound('queue', name, this.name);
    if (q.ownerId !== 0 && q.ownerId !== connId) throw lockedError(q);
    return q;
  }

  declareQueue(name: string, o: QueueDeclareOptions, connId: number): Queue {
    if (o.passive) return this.queue(name, connId);
    const serverNamed = name === '';
    if (name === '') name = `amq.gen-${randomBytes(16).toString('base64url')}`;
    else if (name.startsWith('amq.')) throw accessRefused(`queue name '${name}' contains reserved prefix 'amq.*'`);
    const args = o.arguments ?? EMPTY;
    const ownerId = o.exclusive ? connId : 0;
    const existing = this.queues.get(name);
    if (existing) {
      // strict exclusivity: the owner must match exactly (RabbitMQ check_exclusive_access/3 strict)
      if (existing.ownerId !== ownerId) throw lockedError(existing);
      const what = `queue '${name}' in vhost '${this.name}'`;
      assertField(what, 'durable', existing.durable, !!o.durable);
      assertField(what, 'auto_delete', existing.autoDelete, !!o.autoDelete);
      const kindKeys = this.#queueTypes.get(existing.type)?.argumentKeys ?? [];
      assertEquivalentArguments(existing.arguments, args, name, this.name, kindKeys);
      existing.redeclared();
      return existing;
    }
    // the type (x-queue-type) validates, adopts the queue and saves its definition
    const flags = { durable: !!o.durable, exclusive: !!o.exclusive, autoDelete: !!o.autoDelete, serverNamed, ownerId };
    return this.#queueTypes.forArguments(args).declare(this, name, flags, args);
  }

  /** QueueHost: the vhost's queue limit (limits.ts). */
  checkQueueLimit(queue: string): void {
    this.#limits?.checkQueue(this.name, queue, this.queues.size);
  }

  /** QueueHost: a queue its type created joins the vhost, under the policy that matches it. */
  adoptQueue(q: Queue): void {
    this.queues.set(q.name, q);
    this.#applyQueuePolicy(q);
  }

  /** @returns the number of ready messages the queue held */
  deleteQueue(name: string, connId: number, ifUnused: boolean, ifEmpty: boolean): number {
    const q = this.queues.get(name);
    if (!q) return 0; // idempotent, as RabbitMQ 3.x
    if (q.ownerId !== 0 && q.ownerId !== connId) throw lockedError(q);
    if (ifUnused && q.consumerCount > 0) throw preconditionFailed(`queue '${name}' in vhost '${this.name}' in use`);
    if (ifEmpty && q.messageCount > 0) throw preconditionFailed(`queue '${name}' in vhost '${this.name}' not empty`);
    const count = q.messageCount;
    this.removeQueue(q);
    return count;
  }

  /** Delete a queue: its consumers are cancelled (and told), its bindings removed, its messages dropped. */
  removeQueue(q: Queue): void {
    if (q.deleted) return;
    q.deleted = true;
    this.queues.delete(q.name);
    if (q.storeId !== 0 && this.store) {
      // the definition first: recovery drops journal records of queue ids SQLite no longer has
      this.store.meta.deleteQueue(this.name, q.name);
      this.store.messages.deleteQueue(q.storeId);
    }
    for (const c of q.consumers.splice(0)) c.session.cancelledByServer(c);
    for (const b of [...q.inbound]) this.#removeBinding(b);
    q.destroy();
  }

  queueUnused(q: Queue): void {
    this.removeQueue(q);
  }

  // ---- bindings --------------------------------------------------------------------------

  bind(source: string, destination: Destination, routingKey: string, args: FieldTable | undefined): void {
    const x = this.exchange(source);
    const xType = this.#types.get(x.type);
    xType?.validateBinding?.(routingKey, args ?? EMPTY);
    const key = bindingKey(destination, routingKey, args);
    if (x.bindings.has(key)) return;
    const b: Binding = { source: x, destination, routingKey, arguments: args ?? EMPTY, key };
    x.bindings.set(key, b);
    destination.inbound.add(b);
    x.router.bind(b);
    if (isDurableBinding(b)) this.store?.meta.saveBinding(bindingDefinition(this.name, b));
  }

  /** A missing source exchange or binding is not an error (RabbitMQ 3.x answers unbind-ok). */
  unbind(source: string, destination: Destination, routingKey: string, args: FieldTable | undefined): void {
    const b = this.exchanges.get(source)?.bindings.get(bindingKey(destination, routingKey, args));
    if (b) this.#removeBinding(b);
  }

  /** Checks shared by queue and exchange (un)binding, in RabbitMQ's order. */
  checkBindable(source: string, destinationExchange?: string): void {
    if (source === '' || destinationExchange === '') throw accessRefused('operation not permitted on the default exchange');
  }

  // ---- routing ---------------------------------------------------------------------------

  /**
   * The queues a message published to `x` reaches: its routing key plus any `CC`/`BCC` header
   * keys (RabbitMQ's sender-selected distribution), following exchange-to-exchange bindings.
   * An exchange whose own bindings match nothing hands the message to its alternate exchange
   * (RabbitMQ's rabbit_exchange:route applies AEs per exchange in the graph, not only to the
   * one published to). Returns a scratch array owned by the vhost: read it before routing again.
   */
  route(x: Exchange, message: Message): Queue[] {
    const epoch = ++this.#epoch;
    const out = this.#routed;
    out.length = 0;
    const headers = message.properties.headers;
    const extraKeys = headers && (headers.CC !== undefined || headers.BCC !== undefined) ? senderSelectedKeys(headers) : null;
    x.routeMark = epoch;
    this.#routeOne(x, message, extraKeys, out, epoch);
    // expand exchanges (bound downstream or alternates) as they appear, compacting queues to the front
    let queues = 0;
    for (let i = 0; i < out.length; i++) {
      const d = out[i];
      if (d.kind === 'exchange') this.#routeOne(d, message, extraKeys, out, epoch);
      else out[queues++] = d;
    }
    out.length = queues;
    return out as Queue[];
  }

  /** One exchange's own routing; when it matches nothing, its alternate exchange joins the work list. */
  #routeOne(x: Exchange, message: Message, extraKeys: string[] | null, out: Destination[], epoch: number): void {
    let matched = x.router.route(message, message.routingKey, out, epoch);
    if (extraKeys) for (const k of extraKeys) if (x.router.route(message, k, out, epoch)) matched = true;
    if (matched) return;
    const aeName = x.effectiveArguments['alternate-exchange'];
    const ae = typeof aeName === 'string' ? this.exchanges.get(aeName) : undefined;
    if (ae) addDestination(out, ae, epoch); // the epoch mark also stops AE cycles
  }

  // ---- publishing ------------------------------------------------------------------------

  /**
   * Route a message from `x` and enqueue it everywhere it goes. `points` (cleared first) gets
   * this publish's durability points — its journal record, its stream appends — and only
   * its own: publishes made meanwhile (a failure reply, a dead-letter) fill their own.
   * @returns 'unroutable' when no queue took it, 'rejected' when a queue refused it
   * (x-overflow reject-publish), else 'routed'
   */
  publish(x: Exchange, message: Message, points: DurabilityPoints = this.#nested): PublishOutcome {
    points.clear();
    const queues = this.route(x, message);
    const n = queues.length;
    if (n === 0) return 'unroutable';
    x.publishOut += n;
    // BCC keys route but are never shown to consumers (RabbitMQ sender-selected distribution)
    if (message.properties.headers?.BCC !== undefined) message = withoutBcc(message);
    if (this.store && (message.persistent || anyStoresEveryMessage(queues))) return this.#enqueuePersistent(message, queues.slice(), points);
    if (n === 1) return queues[0].enqueue(message, points) ? 'routed' : 'rejected';
    // enqueueing may deliver or dead-letter, which reuses the scratch array: copy first
    const targets = queues.slice();
    let outcome: PublishOutcome = 'routed';
    for (let i = 0; i < n; i++) if (!targets[i].enqueue(message, points)) outcome = 'rejected';
    return outcome;
  }

  /**
   * Hold a message for `delay` ms, then publish it from `x` (the delayed-message exchange).
   * Routability is checked now, so a mandatory publish can still be returned at once.
   * `points` (cleared first) gets the held record's LSN when the exchange keeps it durably.
   */
  publishLater(x: Exchange, message: Message, delay: number, points: DurabilityPoints): PublishOutcome {
    points.clear();
    if (this.route(x, message).length === 0) return 'unroutable';
    const dueAt = Date.now() + delay;
    let seq = 0;
    if (message.persistent && x.delayStoreId !== 0 && this.store) {
      // held durably: the journal keeps it (due time as its expiry) until it is routed
      seq = ++x.delaySeq;
      const props = message.encodedProperties ?? encodeProperties(message.properties);
      const store = this.store.messages;
      points.noteJournal(store, store.appendMessage(message, props, dueAt, [x.delayStoreId], [seq], 1));
    }
    this.scheduler.schedule(dueAt, new DelayedPublish(this, x, message, seq));
    return 'routed';
  }

  /** Re-arm the held messages of a durable delayed exchange after a restart (overdue ones fire at once). */
  restoreDelayed(exchange: string, storeId: number): void {
    const x = this.exchanges.get(exchange);
    const store = this.store?.messages;
    if (!x || !store) return;
    x.delayStoreId = storeId;
    x.delaySeq = store.nextSeq(storeId) - 1;
    const count = store.queueLength(storeId);
    if (count === 0) return;
    store.read({ queueId: storeId, afterSeq: 0, maxCount: count }, {
      onMessages: (_token, messages) => {
        for (const sm of messages) {
          const message = new Message(sm.exchange, sm.routingKey, decodeProperties(sm.properties), sm.body, sm.properties, sm.publishedAt);
          this.scheduler.schedule(sm.expiresAt, new DelayedPublish(this, x, message, sm.seq));
        }
      },
    }, 0);
  }

  /**
   * Beyond RabbitMQ: a request that asked for it (header or queue argument
   * `x-reply-on-failure: true`) and carries a reply address gets an empty reply with header
   * `x-failure` = the reason when it is unroutable, expires or is dead-lettered, so the caller
   * fails fast instead of waiting for its timeout.
   */
  failureReply(message: Message, reason: string, queue: Queue | null): void {
    const replyTo = message.properties.replyTo;
    if (!replyTo) return;
    const optIn = message.properties.headers?.['x-reply-on-failure'] === true || queue?.arguments['x-reply-on-failure'] === true;
    if (!optIn) return;
    const headers: FieldTable = { 'x-failure': reason };
    if (queue) headers['x-failure-queue'] = queue.name;
    const props = { headers, ...(message.properties.correlationId !== undefined ? { correlationId: message.properties.correlationId } : {}) };
    const reply = new Message('', replyTo, props, Buffer.alloc(0));
    if (replyTo.startsWith(DIRECT_REPLY_PREFIX)) this.directReplies.get(replyTo)?.deliverReply(reply);
    else this.publish(this.exchanges.get('') as Exchange, reply, this.#nested);
  }

  /**
   * A persistent message: written once to the journal for every durable target (body once,
   * RabbitMQ's shared message store idea), then enqueued everywhere; its points go to `points`.
   * A transient one comes here when a quorum queue takes it: stored for those queues only.
   */
  #enqueuePersistent(message: Message, targets: Queue[], points: DurabilityPoints): PublishOutcome {
    let outcome: PublishOutcome = 'routed';
    const admitted: Queue[] = [];
    const ids: number[] = [];
    const seqs: number[] = [];
    for (const q of targets) {
      if (!q.admit(message)) {
        outcome = 'rejected';
        continue;
      }
      admitted.push(q);
      if (q.storeId !== 0 && (message.persistent || q.storesEveryMessage)) {
        ids.push(q.storeId);
        seqs.push(q.reserveSeq());
      }
    }
    if (ids.length > 0) {
      const store = (this.store as VhostStore).messages;
      const props = message.encodedProperties ?? encodeProperties(message.properties);
      const expiresAt = message.ttl >= 0 ? message.publishedAt + message.ttl : 0;
      points.noteJournal(store, store.appendMessage(message, props, expiresAt, ids, seqs, ids.length));
    }
    let k = 0;
    // admitted once above: a push appends without asking again
    for (const q of admitted) {
      if (q.storeId !== 0 && (message.persistent || q.storesEveryMessage)) q.push(message, seqs[k++], true, points);
      else q.push(message, q.reserveSeq(), false, points);
    }
    return outcome;
  }

  // ---- recovery ----------------------------------------------------------------------------

  /** Recreate a durable exchange from its saved definition (no write back). */
  restoreExchange(name: string, type: string, autoDelete: boolean, internal: boolean, args: FieldTable): void {
    const xType = this.#types.get(type);
    if (!xType || this.exchanges.has(name)) return;
    const x = new Exchange(name, type, { durable: true, autoDelete, internal, arguments: args }, xType.create(args, this.#types));
    this.exchanges.set(name, x);
    this.#applyExchangePolicy(x);
  }

  /** Recreate a durable queue with its journal id; its stored messages become its backlog. */
  restoreQueue(id: number, name: string, autoDelete: boolean, args: FieldTable): void {
    if (this.queues.has(name) || !this.store) return;
    this.#queueTypes.forArguments(args).restore(this, id, name, autoDelete, args);
  }

  /** Recreate a durable binding (no write back). */
  restoreBinding(source: string, kind: 'queue' | 'exchange', destination: string, routingKey: string, args: FieldTable): void {
    const x = this.exchanges.get(source);
    const dest = kind === 'queue' ? this.queues.get(destination) : this.exchanges.get(destination);
    if (!x || !dest) return;
    const key = bindingKey(dest, routingKey, args);
    if (x.bindings.has(key)) return;
    const b: Binding = { source: x, destination: dest, routingKey, arguments: args, key };
    x.bindings.set(key, b);
    dest.inbound.add(b);
    x.router.bind(b);
  }

  // ---- dead-lettering and expiry (QueueLifecycle) ----------------------------------------

  queueExpired(q: Queue): void {
    this.removeQueue(q);
  }

  deadLetter(q: Queue, message: Message, reason: DeadLetterReason, points: DurabilityPoints = this.#nested): boolean {
    points.clear();
    this.failureReply(message, reason, q);
    const dlx = q.settings.deadLetterExchange;
    if (dlx === null) return true;
    const x = this.exchanges.get(dlx);
    if (!x) return false; // at most once, RabbitMQ drops the message when the DLX does not exist
    const dead = deadLetteredMessage(message, q, reason, dlx, q.settings.deadLetterRoutingKey);
    q.stats.deadLettered++;
    const routed = this.route(x, dead);
    if (routed.length === 0) return false;
    // copy: enqueueing can dead-letter again (length limits), which reuses the scratch array;
    // a cycle back into a queue it died in is dropped on purpose
    const targets = routed.filter((t) => !isDeadLetterCycle(dead, t));
    if (targets.length === 0) return true;
    // the broker's own publish: only an at-least-once source waits for its points (it keeps
    // the message until they are durable); otherwise they go to the vhost's scratch
    if (this.store && (dead.persistent || anyStoresEveryMessage(targets))) return this.#enqueuePersistent(dead, targets, points) === 'routed';
    let taken = true;
    for (const target of targets) if (!target.enqueue(dead, points)) taken = false;
    return taken;
  }

  /** The broker is stopping: stop every timer (delays, back-offs, queue expiry and TTL). */
  stopTimers(): void {
    this.scheduler.clear();
    for (const q of this.queues.values()) q.stopTimers();
  }

  // ---- policies --------------------------------------------------------------------------

  setPolicy(p: Policy): void {
    validatePolicy(p);
    this.policies.set(p.name, { ...p, vhost: this.name });
    this.#reapplyPolicies();
  }

  clearPolicy(name: string): boolean {
    const had = this.policies.delete(name);
    if (had) this.#reapplyPolicies();
    return had;
  }

  #reapplyPolicies(): void {
    for (const q of this.queues.values()) this.#applyQueuePolicy(q);
    for (const x of this.exchanges.values()) this.#applyExchangePolicy(x);
  }

  #applyQueuePolicy(q: Queue): void {
    const p = effectivePolicy(this.policies.values(), 'queue', q.name);
    if (!p && q.policy === null) return;
    q.applySettings(mergePolicy('queue', q.arguments, p), p?.name ?? null);
  }

  #applyExchangePolicy(x: Exchange): void {
    if (x.name === '') return;
    const p = effectivePolicy(this.policies.values(), 'exchange', x.name);
    x.effectiveArguments = mergePolicy('exchange', x.arguments, p);
    x.policy = p?.name ?? null;
  }

  // ---- internals -------------------------------------------------------------------------

  #removeBinding(b: Binding): void {
    const x = b.source;
    if (!x.bindings.delete(b.key)) return;
    b.destination.inbound.delete(b);
    x.router.unbind(b);
    if (isDurableBinding(b)) this.store?.meta.deleteBinding(bindingDefinition(this.name, b));
    // auto-delete: an exchange goes when its last binding (as source) goes (AMQP 0-9-1 exchange.declare)
    if (x.autoDelete && x.bindings.size === 0 && !x.deleted) this.#removeExchange(x);
  }

  #removeExchange(x: Exchange): void {
    x.deleted = true;
    this.exchanges.delete(x.name);
    if (x.durable) this.store?.meta.deleteExchange(this.name, x.name);
    if (x.delayStoreId !== 0 && this.store) {
      this.store.meta.deleteQueue(this.name, delayedHolder(this.name, x.name).name);
      this.store.messages.deleteQueue(x.delayStoreId);
    }
    for (const b of [...x.bindings.values()]) this.#removeBinding(b);
    for (const b of [...x.inbound]) this.#removeBinding(b);
  }
}

function lockedError(q: Queue): BrokerError {
  return resourceLocked(
    `cannot obtain exclusive access to locked queue '${q.name}' in vhost '${q.vhost}'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
  );
}

function assertField(what: string, field: string, current: unknown, received: unknown): void {
  if (current === received) return;
  throw preconditionFailed(
    `inequivalent arg '${field}' for ${what}: received ${fmt(received)} but current is ${fmt(current)}`,
  );
}

const fmt = (v: unknown) => (v === undefined ? 'none' : `'${String(v)}'`);

export type PublishOutcome = 'routed' | 'unroutable' | 'rejected';

function anyStoresEveryMessage(queues: Queue[]): boolean {
  for (let i = 0; i < queues.length; i++) if (queues[i].storesEveryMessage) return true;
  return false;
}

/** A binding survives a restart when both ends do (RabbitMQ: durable source and destination). */
function isDurableBinding(b: Binding): boolean {
  if (!b.source.durable || b.source.name === '') return false;
  const d = b.destination;
  return d.kind === 'exchange' ? d.durable : d.durable && !d.exclusive;
}

function bindingDefinition(vhost: string, b: Binding) {
  return {
    vhost,
    source: b.source.name,
    destinationKind: b.destination.kind,
    destination: b.destination.name,
    routingKey: b.routingKey,
    arguments: b.arguments,
  };
}

function exchangeDefinition(vhost: string, x: Exchange) {
  return { vhost, name: x.name, type: x.type, autoDelete: x.autoDelete, internal: x.internal, arguments: x.arguments };
}
