import { randomBytes } from 'node:crypto';
import { notFound, preconditionFailed } from '../errors.js';
import type { QueueDeclareResult } from '../api.js';
import type { Message } from '../message.js';

/**
 * RabbitMQ's direct reply-to (https://www.rabbitmq.com/docs/direct-reply-to): a client
 * consumes from the pseudo-queue `amq.rabbitmq.reply-to` in no-ack mode and publishes
 * requests with `reply-to: amq.rabbitmq.reply-to`; the broker rewrites that to an address
 * naming the requesting channel, and replies published to it over the default exchange go
 * straight to that channel's consumer, with no queue in between.
 */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';
export const DIRECT_REPLY_PREFIX = 'amq.rabbitmq.reply-to.';

/** A session that consumes replies. */
export interface DirectReplyTarget {
  deliverReply(message: Message): void;
}

/** One session's side of direct reply-to: its consumer tag and its reply address. */
export class DirectReplyConsumer {
  readonly tag: string;
  readonly address: string;

  constructor(tag: string, noAck: boolean, existing: DirectReplyConsumer | null) {
    if (!noAck) throw preconditionFailed('reply consumer cannot acknowledge');
    if (existing) throw preconditionFailed('reply consumer already set');
    this.tag = tag;
    this.address = DIRECT_REPLY_PREFIX + randomBytes(18).toString('base64url');
  }

  /** The request as published, with its reply-to rewritten to this session's address. */
  rewriteRequest(message: Message): Message {
    return message.withProperties({ ...message.properties, replyTo: this.address });
  }
}

/** A request asked for direct reply-to without consuming from the pseudo-queue first. */
export const noReplyConsumer = () => preconditionFailed('fast reply consumer does not exist');

/** Whether a queue name is the pseudo-queue or a reply address. */
export function isDirectReplyName(name: string): boolean {
  return name === DIRECT_REPLY_TO || name.startsWith(DIRECT_REPLY_PREFIX);
}

/**
 * A passive queue.declare of the pseudo-queue or a reply address. RabbitMQ (rabbit_channel
 * declare_fast_reply_to): the pseudo-queue exists with one consumer, and a reply address exists
 * while its channel still consumes replies (so a server can check that the caller is still there).
 */
export function declareReplyPassive(
  name: string,
  directReplies: ReadonlyMap<string, DirectReplyTarget>,
  vhostName: string,
): QueueDeclareResult {
  if (name !== DIRECT_REPLY_TO && !directReplies.has(name)) throw notFound('queue', name, vhostName);
  return { queue: name, messageCount: 0, consumerCount: 1 };
}

/** A reply published to a reply address goes to that address's session; false when none has it. */
export function deliverToReplyAddress(directReplies: ReadonlyMap<string, DirectReplyTarget>, message: Message): boolean {
  const target = directReplies.get(message.routingKey);
  if (target === undefined) return false;
  target.deliverReply(message);
  return true;
}

/**
 * One session's direct reply-to: at most one reply consumer, whose address is registered in
 * the vhost's `directReplies` for as long as it consumes.
 */
export class SessionReplies {
  readonly #directReplies: Map<string, DirectReplyTarget>;
  readonly #target: DirectReplyTarget;
  #consumer: DirectReplyConsumer | null = null;

  constructor(directReplies: Map<string, DirectReplyTarget>, target: DirectReplyTarget) {
    this.#directReplies = directReplies;
    this.#target = target;
  }

  /** the reply consumer's tag, if the session consumes replies */
  get tag(): string | undefined {
    return this.#consumer?.tag;
  }

  /** basic.consume from the pseudo-queue (refused when one reply consumer exists already); returns the tag */
  start(tag: string, noAck: boolean): string {
    this.#consumer = new DirectReplyConsumer(tag, noAck, this.#consumer);
    this.#directReplies.set(this.#consumer.address, this.#target);
    return tag;
  }

  /** The reply consumer is cancelled or its session closes: its address stops existing. */
  stop(): void {
    if (!this.#consumer) return;
    this.#directReplies.delete(this.#consumer.address);
    this.#consumer = null;
  }

  /** A request with `reply-to: amq.rabbitmq.reply-to`, rewritten to this session's address. */
  rewriteRequest(message: Message): Message {
    if (!this.#consumer) throw noReplyConsumer();
    return this.#consumer.rewriteRequest(message);
  }
}
