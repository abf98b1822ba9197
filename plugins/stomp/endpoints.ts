/**
 * The queue a SUBSCRIBE consumes from, declared and bound as RabbitMQ's STOMP plugin does
 * (rabbitmq.com/docs/stomp "Destinations", "Durable Topic Subscriptions"):
 *
 *   /queue/q           queue q declared (durable by default; `durable:false` makes it exclusive
 *                      and auto-delete unless those headers say otherwise, as in RabbitMQ)
 *   /amq/queue/q       queue q must exist (passive)
 *   /topic/k           a queue of the subscription's own bound to amq.topic with key k;
 *                      with `durable:true` and an `id`: a shared queue named after (destination, id)
 *   /exchange/x/k      the same on exchange x (which must exist), key k or ''
 *
 * Subscription queues are named `stomp-subscription-…` unless `x-queue-name` says otherwise.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Session } from '../../src/core/index.js';
import { StompError } from './errors.js';
import { TOPIC_EXCHANGE, type Destination } from './destinations.js';
import {
  DURABLE_SUBSCRIPTION_DEFAULTS,
  EXCHANGE_SUBSCRIPTION_DEFAULTS,
  isDurableSubscription,
  QUEUE_DESTINATION_DEFAULTS,
  queueDeclareOptions,
  TOPIC_SUBSCRIPTION_DEFAULTS,
  type QueueDefaults,
} from './queue-params.js';

/**
 * @param id the subscription's `id` header, undefined when the frame had none (1.0)
 * @returns the queue to consume from
 */
export function subscriptionQueue(
  session: Session,
  dest: Destination,
  destination: string,
  headers: Record<string, string>,
  id: string | undefined,
): string {
  switch (dest.kind) {
    case 'queue':
      session.declareQueue(dest.name, queueDeclareOptions(headers, QUEUE_DESTINATION_DEFAULTS));
      return dest.name;
    case 'amqqueue':
    case 'reply-queue':
      session.declareQueue(dest.name, { passive: true });
      return dest.name;
    case 'topic':
      return boundQueue(session, TOPIC_EXCHANGE, dest.key, destination, headers, id, TOPIC_SUBSCRIPTION_DEFAULTS);
    case 'exchange':
      session.declareExchange(dest.exchange, '', { passive: true });
      return boundQueue(session, dest.exchange, dest.key ?? '', destination, headers, id, EXCHANGE_SUBSCRIPTION_DEFAULTS);
    case 'temp-queue':
      throw new StompError(
        'Invalid destination',
        '/temp-queue destinations cannot be subscribed to: use them in reply-to, their subscription is made automatically',
      );
  }
}

function boundQueue(
  session: Session,
  exchange: string,
  routingKey: string,
  destination: string,
  headers: Record<string, string>,
  id: string | undefined,
  transientDefaults: QueueDefaults,
): string {
  const durable = isDurableSubscription(headers);
  if (durable && id === undefined) {
    throw new StompError('Missing header', 'a durable subscription needs an id header: it names the subscription queue');
  }
  const name = headers['x-queue-name'] ?? subscriptionQueueName(destination, durable ? id! : null);
  session.declareQueue(name, queueDeclareOptions(headers, durable ? DURABLE_SUBSCRIPTION_DEFAULTS : transientDefaults));
  session.bindQueue(name, exchange, routingKey);
  return name;
}

/** Stable for a durable subscription (same destination and id → same queue), random otherwise. */
export function subscriptionQueueName(destination: string, id: string | null): string {
  const suffix =
    id === null
      ? randomBytes(16).toString('base64url')
      : createHash('md5').update(JSON.stringify([destination, id])).digest('base64url');
  return 'stomp-subscription-' + suffix;
}
