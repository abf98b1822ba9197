import { randomBytes } from 'node:crypto';
import { preconditionFailed } from '../errors.js';
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
