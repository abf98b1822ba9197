import { randomBytes } from 'node:crypto';
import type { FieldTable } from '../codec/types.js';
import { bindingKey, type Binding, type Destination } from './binding.js';
import { accessRefused, BrokerError, notFound, preconditionFailed, resourceLocked } from './errors.js';
import { Exchange } from './exchange.js';
import { DefaultRouter } from './exchanges/default.js';
import type { ExchangeTypeRegistry } from './exchanges/registry.js';
import type { DirectReplyTarget } from './delivery/direct-reply-to.js';
import type { Message } from './message.js';
import { Scheduler } from './delivery/scheduler.js';
import type { DeadLetterReason, Queue } from './queues/queue.js';
import type { QueueHost } from './queues/queue-type.js';
import type { QueueTypeRegistry } from './queues/registry.js';
import { assertEquivalentArguments } from './queues/queue-arguments.js';
import type { ExchangeDeclareOptions, QueueDeclareOptions } from './api.js';
import type { Limits } from './limits.js';
import { effectivePolicy, mergePolicy, validatePolicy, type Policy } from './policies.js';
import { DELAYED_TYPE } from './exchanges/delayed.js';
import { delayedHolder } from './exchanges/delayed-publish.js';
import type { MessageStore } from '../store/message-store.js';
import type { MetadataStore } from '../store/metadata/metadata-store.js';
import type { StreamStore } from '../store/stream/stream-store.js';
import type { DurabilityPoints } from './durability.js';
import type { MemoryPaging } from './queues/classic/queue-pager.js';
import { Publisher } from './publisher.js';
import { PublisherFlow } from './publisher-flow.js';

/** Where a vhost keeps its durable definitions and persistent messages. */
export interface VhostStore {
  meta: MetadataStore;
  /** the vhost's journal: persistent messages of its classic and quorum queues */
  messages: MessageStore;
  /** the node's stream logs (docs/streams.md) */
  streams?: StreamStore;
  /** the node's memory pressure: durable queues page everything new above it (queue-pager.ts) */
  memory?: MemoryPaging;
}

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
 * One virtual host: the registry of its exchanges, queues and bindings, and its policies.
 * Publishing (routing, enqueueing, delays, dead-letters, failure replies) is its `publisher`
 * (publisher.ts); bringing its definitions back at start is recovery.ts. Error texts and the
 * order of checks follow RabbitMQ's `rabbit_channel`, so clients see the same replies.
 * `connId` arguments identify the calling connection for exclusive-queue checks.
 */
export class VHost implements QueueHost {
  readonly name: string;
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  /** exclusive queues by owning connection id: what a closing connection deletes, found without a walk over every queue */
  readonly #exclusive = new Map<number, Queue[]>();
  /** sessions consuming from the direct reply-to pseudo-queue, by their reply address */
  readonly directReplies = new Map<string, DirectReplyTarget>();
  readonly policies = new Map<string, Policy>();
  /** description, tags, default queue type … as operators set them (RabbitMQ vhost metadata) */
  metadata: Record<string, unknown> = {};
  /** null: nothing survives a restart (a library broker without a data directory) */
  store: VhostStore | null = null;
  /** timers for delayed messages and redelivery back-off */
  readonly scheduler = new Scheduler();
  readonly exchangeTypes: ExchangeTypeRegistry;
  readonly queueTypes: QueueTypeRegistry;
  /** routes and enqueues what is published in this vhost */
  readonly publisher: Publisher;
  /** holds publishers of queues that fill memory faster than they drain (shared by the core's vhosts) */
  readonly flow: PublisherFlow;
  readonly #limits: Limits | null;

  constructor(name: string, types: ExchangeTypeRegistry, queueTypes: QueueTypeRegistry, limits: Limits | null = null, flow = new PublisherFlow()) {
    this.name = name;
    this.flow = flow;
    this.exchangeTypes = types;
    this.queueTypes = queueTypes;
    this.#limits = limits;
    this.publisher = new Publisher(this);
    const flags = { durable: true, autoDelete: false, internal: false, arguments: EMPTY };
    this.exchanges.set('', new Exchange('', 'direct', flags, new DefaultRouter(this.queues)));
    for (const [name, type] of STANDARD_EXCHANGES) {
      this.exchanges.set(name, new Exchange(name, type, flags, this.exchangeTypes.get(type)!.create(EMPTY, this.exchangeTypes)));
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
    const xType = this.exchangeTypes.get(type);
    // RabbitMQ checks the type before anything else; 3.13+ refuses an unknown one with a
    // channel error (rabbit_exchange:check_type, precondition_failed), 3.10 closed the connection
    if (!xType) throw preconditionFailed(`unknown exchange type '${type}'`);
    let x = this.exchanges.get(name);
    if (!x) {
      if (name.startsWith('amq.')) throw accessRefused(`exchange name '${name}' contains reserved prefix 'amq.*'`);
      xType.validate?.(o.arguments ?? EMPTY, this.exchangeTypes);
      x = new Exchange(
        name,
        type,
        {
          durable: !!o.durable,
          autoDelete: !!o.autoDelete,
          internal: !!o.internal,
          arguments: o.arguments ?? EMPTY,
        },
        xType.create(o.arguments ?? EMPTY, this.exchangeTypes),
      );
      this.adoptExchange(x);
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
      const kindKeys = this.queueTypes.get(existing.type)?.argumentKeys ?? [];
      assertEquivalentArguments(existing.arguments, args, name, this.name, kindKeys);
      existing.redeclared();
      return existing;
    }
    // the type (x-queue-type) validates, adopts the queue and saves its definition
    const flags = { durable: !!o.durable, exclusive: !!o.exclusive, autoDelete: !!o.autoDelete, serverNamed, ownerId };
    return this.queueTypes.forArguments(args).declare(this, name, flags, args);
  }

  /** QueueHost: the vhost's queue limit (limits.ts). */
  checkQueueLimit(queue: string): void {
    this.#limits?.checkQueue(this.name, queue, this.queues.size);
  }

  /** An exchange joins the vhost, under the policy that matches it (declared or restored). */
  adoptExchange(x: Exchange): void {
    this.exchanges.set(x.name, x);
    this.#applyExchangePolicy(x);
  }

  /** QueueHost: a queue its type created joins the vhost, under the policy that matches it. */
  adoptQueue(q: Queue): void {
    this.queues.set(q.name, q);
    if (q.ownerId !== 0) {
      const owned = this.#exclusive.get(q.ownerId);
      if (owned === undefined) this.#exclusive.set(q.ownerId, [q]);
      else owned.push(q);
    }
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
    if (q.ownerId !== 0) this.#forgetExclusive(q);
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

  /** Delete the exclusive queues of connection `connId`, which has closed (AMQP 0-9-1 queue.declare "exclusive"). */
  removeExclusiveQueues(connId: number): void {
    const owned = this.#exclusive.get(connId);
    if (owned === undefined) return;
    this.#exclusive.delete(connId);
    for (const q of owned) this.removeQueue(q);
  }

  #forgetExclusive(q: Queue): void {
    const owned = this.#exclusive.get(q.ownerId);
    const at = owned?.indexOf(q) ?? -1;
    if (at < 0) return;
    if (owned!.length === 1) this.#exclusive.delete(q.ownerId);
    else owned!.splice(at, 1);
  }

  // ---- bindings --------------------------------------------------------------------------

  bind(source: string, destination: Destination, routingKey: string, args: FieldTable | undefined): void {
    const x = this.exchange(source);
    const xType = this.exchangeTypes.get(x.type);
    xType?.validateBinding?.(routingKey, args ?? EMPTY);
    const b = this.link(x, destination, routingKey, args);
    if (b !== null && isDurableBinding(b)) this.store?.meta.saveBinding(bindingDefinition(this.name, b));
  }

  /** Add a binding, unsaved (bind saves it; recovery restores saved ones). @returns it, or null when it exists */
  link(x: Exchange, destination: Destination, routingKey: string, args: FieldTable | undefined): Binding | null {
    const key = bindingKey(destination, routingKey, args);
    if (x.bindings.has(key)) return null;
    const b: Binding = { source: x, destination, routingKey, arguments: args ?? EMPTY, key };
    x.bindings.set(key, b);
    destination.inbound.add(b);
    x.router.bind(b);
    return b;
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

  // ---- what queues ask of their vhost (QueueLifecycle) -------------------------------------

  queueExpired(q: Queue): void {
    this.removeQueue(q);
  }

  /** the publisher routes it (publisher.ts) */
  deadLetter(q: Queue, message: Message, reason: DeadLetterReason, points?: DurabilityPoints): boolean {
    return this.publisher.deadLetter(q, message, reason, points);
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
