/**
 * UNSUBSCRIBE (STOMP 1.2 "UNSUBSCRIBE"): the consumer stops; messages already delivered may
 * still be acknowledged (RabbitMQ cancels the consumer, not the channel). With `durable:true`
 * (or `persistent:true`) a durable subscription's queue is deleted too.
 */
import type { StompFrame } from '../frame.js';
import type { StompConnection } from '../connection.js';
import { StompError, missingHeader } from '../errors.js';
import { isDurableSubscription } from '../queue-params.js';

export function handleUnsubscribe(c: StompConnection, frame: StompFrame): void {
  const h = frame.headers;
  // 1.0 may name the subscription by its destination
  const id = h['id'] ?? (c.version === '1.0' ? h['destination'] : undefined);
  if (id === undefined) throw missingHeader('UNSUBSCRIBE', 'id');
  const s = c.subscriptions.get(id);
  if (!s) throw new StompError('Bad subscription', `Subscription to '${id}' not found`);
  c.subscriptions.delete(id);
  s.retired = true;
  s.session.cancel(s.consumerTag);
  if (s.durable && isDurableSubscription(h)) {
    c.subscriptionsByNumber.delete(s.number);
    s.session.close();
    c.publisher!.deleteQueue(s.queue, false, false);
    return;
  }
  c.releaseIfSettled(s);
}
