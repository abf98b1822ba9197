/**
 * Persistent sessions across a broker restart, the way RabbitMQ's MQTT plugin keeps them
 * (since 3.12): a persistent session *is* its durable queues and their bindings. Nothing
 * else is saved. Each subscription's binding to the MQTT exchange carries the subscription
 * in its arguments, so the store's durable bindings hold everything needed to rebuild it:
 *
 *   x-mqtt-filter                 the filter as the client sent it (its identity)
 *   x-mqtt-qos                    the granted QoS (0, 1 or 2)
 *   x-mqtt-no-local               true, only when set (MQTT 5)
 *   x-mqtt-retain-as-published    true, only when set (MQTT 5)
 *   x-mqtt-subscription-id        the Subscription Identifier, only when set (MQTT 5)
 *
 * A binding's identity includes its arguments, so every subscription has a binding of its
 * own, and changing a subscription's options is "bind the new one, then unbind the old".
 *
 * The parked sessions in `SessionStore` live in memory only; after a restart a CONNECT that
 * finds none asks `recoverSession`, which looks for the session's durable queues
 * (`mqtt-subscription-<client id>qos0/qos1`) and reads their bindings back. What is not
 * rebuilt: shared subscriptions (their queues are not durable), packet identifiers of
 * deliveries in flight (they are resent with new ones, dup set) and PUBRELs not yet completed.
 */
import type { QoS } from 'mqtt-packet';
import type { FieldTable } from '../../src/codec/index.js';
import type { ProtocolCore } from '../../src/core/index.js';
import { SessionState, sessionQueueName, Subscription } from './session-state.js';
import { routingKeyToTopic } from './topics.js';

const FILTER = 'x-mqtt-filter';
const QOS = 'x-mqtt-qos';
const NO_LOCAL = 'x-mqtt-no-local';
const RETAIN_AS_PUBLISHED = 'x-mqtt-retain-as-published';
const SUBSCRIPTION_ID = 'x-mqtt-subscription-id';

/** The arguments of a (non-shared) subscription's binding: the subscription, as above. */
export function bindingArgsOf(sub: Subscription): FieldTable {
  const args: FieldTable = { [FILTER]: sub.filter, [QOS]: sub.qos };
  if (sub.noLocal) args[NO_LOCAL] = true;
  if (sub.retainAsPublished) args[RETAIN_AS_PUBLISHED] = true;
  if (sub.identifier !== 0) args[SUBSCRIPTION_ID] = sub.identifier;
  return args;
}

/** Whether two subscriptions are served by the same binding (same queue, key and arguments). */
export function sameBinding(a: Subscription, b: Subscription): boolean {
  return (
    a.queue === b.queue &&
    a.bindingKey === b.bindingKey &&
    a.shareGroup === b.shareGroup &&
    (a.shareGroup !== null ||
      (a.qos === b.qos && a.noLocal === b.noLocal && a.retainAsPublished === b.retainAsPublished && a.identifier === b.identifier))
  );
}

/**
 * The session of `clientId` as its durable queues left it, or undefined when it has none
 * (it never subscribed, it expired, or it was a clean session).
 */
export function recoverSession(
  core: ProtocolCore,
  vhost: string,
  clientId: string,
  user: string,
  expirySeconds: number,
  exchange: string,
  sparkplug: boolean,
): SessionState | undefined {
  if (!core.hasVhost(vhost)) return undefined;
  let state: SessionState | undefined;
  for (const queueQos of [0, 1] as const) {
    const name = sessionQueueName(clientId, queueQos);
    const queue = core.queue(vhost, name);
    if (!queue || !queue.durable || queue.exclusive) continue;
    state ??= new SessionState(vhost, clientId, user, expirySeconds);
    for (const b of core.queueBindings(vhost, name)) {
      if (b.source !== exchange) continue;
      const sub = subscriptionOf(b.arguments, b.routingKey, queueQos, name, sparkplug);
      state.subscriptions.set(sub.filter, sub);
    }
  }
  if (state) state.durableQueues = true;
  return state;
}

/** A subscription back from its binding; a binding without our arguments (bound by hand) gets its filter from the key. */
function subscriptionOf(args: FieldTable, bindingKey: string, queueQos: 0 | 1, queue: string, sparkplug: boolean): Subscription {
  const filterArg = args[FILTER];
  const filter = typeof filterArg === 'string' ? filterArg : routingKeyToTopic(bindingKey, sparkplug);
  const qosArg = args[QOS];
  const qos = (typeof qosArg === 'number' && qosArg >= 0 && qosArg <= 2 ? qosArg : queueQos) as QoS;
  const sub = new Subscription(filter, filter, null, bindingKey, qos, queue);
  sub.noLocal = args[NO_LOCAL] === true;
  sub.retainAsPublished = args[RETAIN_AS_PUBLISHED] === true;
  const id = args[SUBSCRIPTION_ID];
  sub.identifier = typeof id === 'number' ? id : 0;
  // the binding as it is, so that unsubscribing removes exactly it
  sub.bindingArgs = args;
  return sub;
}
