import type { FieldTable } from '../codec/types.js';
import { encodeProperties } from '../codec/basic-properties.js';
import type { Destination } from './binding.js';
import { deadLetteredMessage, isDeadLetterCycle } from './delivery/dead-letter.js';
import { DIRECT_REPLY_PREFIX } from './delivery/direct-reply-to.js';
import { DurabilityPoints } from './durability.js';
import type { Exchange } from './exchange.js';
import { DelayedPublish } from './exchanges/delayed-publish.js';
import { addDestination } from './exchanges/exchange-type.js';
import { senderSelectedKeys, withoutBcc } from './exchanges/sender-selected.js';
import { Message } from './message.js';
import type { DeadLetterReason, Queue } from './queues/queue.js';
import type { VHost, VhostStore } from './vhost.js';

/** 'unroutable': no queue took it; 'rejected': a queue refused it (x-overflow reject-publish); else 'routed' */
export type PublishOutcome = 'routed' | 'unroutable' | 'rejected';

/**
 * A vhost's publish path: route a message through its exchanges, enqueue it everywhere it
 * goes (a persistent one written to the journal once for all its durable queues), hold a
 * delayed one, dead-letter what a queue gives up, and send failure replies. Each publish
 * returns its outcome and fills the caller's `DurabilityPoints` with what it wrote — nothing
 * about a publish is left here for a caller to read afterwards (durability.ts).
 */
export class Publisher {
  readonly vhost: VHost;
  /** the points of publishes made inside a publish (failure replies, dead-letters): filled, never read */
  readonly #nested = new DurabilityPoints();
  #epoch = 0;
  readonly #routed: Destination[] = [];

  constructor(vhost: VHost) {
    this.vhost = vhost;
  }

  /**
   * The queues a message published to `x` reaches: its routing key plus any `CC`/`BCC` header
   * keys (RabbitMQ's sender-selected distribution), following exchange-to-exchange bindings.
   * An exchange whose own bindings match nothing hands the message to its alternate exchange
   * (RabbitMQ's rabbit_exchange:route applies AEs per exchange in the graph, not only to the
   * one published to). Returns a scratch array owned by the publisher: read it before routing again.
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
    const ae = typeof aeName === 'string' ? this.vhost.exchanges.get(aeName) : undefined;
    if (ae) addDestination(out, ae, epoch); // the epoch mark also stops AE cycles
  }

  /**
   * Route a message from `x` and enqueue it everywhere it goes. `points` (cleared first) gets
   * this publish's durability points — its journal record, its stream appends — and only
   * its own: publishes made meanwhile (a failure reply, a dead-letter) fill their own.
   */
  publish(x: Exchange, message: Message, points: DurabilityPoints = this.#nested): PublishOutcome {
    points.clear();
    const queues = this.route(x, message);
    const n = queues.length;
    if (n === 0) return 'unroutable';
    // a pooled body is reused after an ack only where that ack ends the message (body-pool.ts)
    if (message.pooled && (n !== 1 || !queues[0].recyclesBodies)) message.pooled = false;
    x.publishOut += n;
    // BCC keys route but are never shown to consumers (RabbitMQ sender-selected distribution)
    if (message.properties.headers?.BCC !== undefined) message = withoutBcc(message);
    const store = this.vhost.store;
    if (store && (message.persistent || anyStoresEveryMessage(queues))) return this.#enqueuePersistent(store, message, queues.slice(), points);
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
    const journal = this.vhost.store?.messages;
    if (message.persistent && x.delayStoreId !== 0 && journal) {
      // held durably: the journal keeps it (due time as its expiry) until it is routed
      seq = ++x.delaySeq;
      const props = message.encodedProperties ?? encodeProperties(message.properties);
      points.noteJournal(journal, (message.journalLsn = journal.appendMessage(message, props, dueAt, [x.delayStoreId], [seq], 1)));
    }
    this.vhost.scheduler.schedule(dueAt, new DelayedPublish(this, x, message, seq));
    return 'routed';
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
    if (replyTo.startsWith(DIRECT_REPLY_PREFIX)) this.vhost.directReplies.get(replyTo)?.deliverReply(reply);
    else this.publish(this.vhost.exchanges.get('') as Exchange, reply, this.#nested);
  }

  /** QueueLifecycle.deadLetter (queue.ts): route a message `q` gave up to its dead-letter exchange. */
  deadLetter(q: Queue, message: Message, reason: DeadLetterReason, points: DurabilityPoints = this.#nested): boolean {
    points.clear();
    this.failureReply(message, reason, q);
    const dlx = q.settings.deadLetterExchange;
    if (dlx === null) return true;
    const x = this.vhost.exchanges.get(dlx);
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
    // the message until they are durable); otherwise they go to the publisher's scratch
    const store = this.vhost.store;
    if (store && (dead.persistent || anyStoresEveryMessage(targets))) return this.#enqueuePersistent(store, dead, targets, points) === 'routed';
    let taken = true;
    for (const target of targets) if (!target.enqueue(dead, points)) taken = false;
    return taken;
  }

  /**
   * A persistent message: written once to the journal for every durable target (body once,
   * RabbitMQ's shared message store idea), then enqueued everywhere; its points go to `points`.
   * A transient one comes here when a quorum queue takes it: stored for those queues only.
   */
  #enqueuePersistent(vhostStore: VhostStore, message: Message, targets: Queue[], points: DurabilityPoints): PublishOutcome {
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
      const store = vhostStore.messages;
      const props = message.encodedProperties ?? encodeProperties(message.properties);
      const expiresAt = message.ttl >= 0 ? message.publishedAt + message.ttl : 0;
      points.noteJournal(store, (message.journalLsn = store.appendMessage(message, props, expiresAt, ids, seqs, ids.length)));
    }
    // admitted once above: a push appends without asking again
    let k = 0;
    for (const q of admitted) {
      if (q.storeId !== 0 && (message.persistent || q.storesEveryMessage)) q.push(message, seqs[k++], true, points);
      else q.push(message, q.reserveSeq(), false, points);
    }
    return outcome;
  }
}

function anyStoresEveryMessage(queues: Queue[]): boolean {
  for (let i = 0; i < queues.length; i++) if (queues[i].storesEveryMessage) return true;
  return false;
}
