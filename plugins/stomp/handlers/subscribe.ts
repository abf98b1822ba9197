/**
 * SUBSCRIBE (STOMP 1.2 "SUBSCRIBE"): one consumer on its own core session per subscription,
 * with the ack mode (`auto`, `client`, `client-individual`) and `prefetch-count` (RabbitMQ's
 * extension; unlimited when absent) of the frame.
 */
import type { StompFrame } from '../frame.js';
import type { StompConnection } from '../connection.js';
import { StompError, missingHeader } from '../errors.js';
import { parseDestination } from '../destinations.js';
import { subscriptionQueue } from '../endpoints.js';
import { consumeArguments, isDurableSubscription } from '../queue-params.js';
import { Subscription, type AckMode } from '../subscription.js';
import { nonNegativeInteger, requireHeader } from './headers.js';

export function handleSubscribe(c: StompConnection, frame: StompFrame): void {
  const h = frame.headers;
  const destination = requireHeader(frame, 'destination');
  // STOMP 1.1+ require `id`; for 1.0 the destination stands in for it (as in RabbitMQ)
  if (h['id'] === undefined && c.version !== '1.0') throw missingHeader('SUBSCRIBE', 'id');
  const id = h['id'] ?? destination;
  if (id.startsWith('/temp-queue/')) throw new StompError('Invalid subscription id', `'${id}' is reserved for reply queues`);
  if (c.subscriptions.has(id)) {
    throw new StompError('Duplicated subscription identifier', `A subscription identified by '${id}' already exists`);
  }
  const ackMode = parseAckMode(h['ack']);
  const queue = subscriptionQueue(c.publisher!, parseDestination(destination), destination, h, h['id']);
  openSubscription(c, id, queue, ackMode, isDurableSubscription(h), h, false);
}

function parseAckMode(value: string | undefined): AckMode {
  if (value === undefined || value === 'auto') return 'auto';
  if (value === 'client' || value === 'client-individual') return value;
  throw new StompError('Invalid ack mode', `ack '${value}' is not one of auto, client, client-individual`);
}

/** Open the subscription's session and start consuming (deliveries may start at once). */
export function openSubscription(
  c: StompConnection,
  id: string,
  queue: string,
  ackMode: AckMode,
  durable: boolean,
  headers: Record<string, string>,
  internal: boolean,
): Subscription {
  const s = new Subscription(c, c.number, c.nextSubscriptionNumber++, id, ackMode, queue, durable, internal);
  s.session = c.coreConnection!.openSession(s);
  try {
    const prefetch = headers['prefetch-count'];
    if (prefetch !== undefined) s.session.qos(nonNegativeInteger('prefetch-count', prefetch), false);
    c.addSubscription(s);
    s.consumerTag = s.session.consume(queue, { noAck: ackMode === 'auto', arguments: consumeArguments(headers) });
  } catch (e) {
    c.subscriptions.delete(id);
    c.subscriptionsByNumber.delete(s.number);
    s.session.close();
    throw e;
  }
  return s;
}
