/**
 * Temp queues (rabbitmq.com/docs/stomp "Temp Queue Destinations"): `reply-to:/temp-queue/foo`
 * on a SEND makes a private, exclusive, auto-delete queue with a server-generated name
 * (`amq.gen-…`), subscribes the connection to it in auto-ack mode with the subscription id
 * `/temp-queue/foo`, and rewrites the header to the queue's name, so that an AMQP consumer
 * replies through the default exchange and a STOMP one sees /reply-queue/<name>.
 */
import type { StompConnection } from './connection.js';
import { parseDestination } from './destinations.js';
import { openSubscription } from './handlers/subscribe.js';

const NO_HEADERS: Record<string, string> = Object.freeze(Object.create(null));

/** The `reply-to` property for a SEND's `reply-to` header. */
export function resolveReplyTo(c: StompConnection, replyTo: string | undefined): string | undefined {
  if (replyTo === undefined || !replyTo.startsWith('/temp-queue/')) return replyTo;
  const dest = parseDestination(replyTo);
  if (dest.kind !== 'temp-queue') return replyTo;
  let queue = c.replyQueues.get(dest.name);
  if (queue === undefined) {
    queue = c.publisher!.declareQueue('', { durable: false, exclusive: true, autoDelete: true }).queue;
    openSubscription(c, '/temp-queue/' + dest.name, queue, 'auto', false, NO_HEADERS, true);
    c.replyQueues.set(dest.name, queue);
  }
  return queue;
}
