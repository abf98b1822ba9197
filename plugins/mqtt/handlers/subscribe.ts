/**
 * SUBSCRIBE (MQTT 3.1.1 §3.8, MQTT 5 §3.8): each filter is checked, bound through
 * `Subscriptions`, and answered in one SUBACK with a code per filter (MQTT-3.8.4-6);
 * retained messages matching new subscriptions follow the SUBACK (MQTT-3.3.1-6), as the
 * MQTT 5 Retain Handling option allows (§3.8.3.1). A persistent session's subscriptions are
 * durable bindings, made durable by an fdatasync shared with the other sessions subscribing
 * meanwhile (write-batch.ts); in a cluster its SUBACK waits until they are on every in-sync node, as a
 * PUBACK waits for the message (and with too few in sync past the deadline, every filter is
 * answered 0x80); the server may deliver matching messages before the SUBACK (MQTT 3.1.1 §3.8.4).
 */
import type { ISubscribePacket, ISubscription } from 'mqtt-packet';
import { isBrokerError } from '../../../src/core/index.js';
import type { MqttConnection } from '../connection.js';
import { sendRetained } from '../delivery.js';
import { holdForMetadata } from '../write-batch.js';
import { MqttProtocolError, RC, reasonCodeOf, SUBACK_FAILURE } from '../errors.js';
import type { RetainedMessage } from '../retained.js';
import { Subscription } from '../session-state.js';
import { filterToBindingKey, parseSharedFilter, topicFilterProblem } from '../topics.js';
import { parseStreamFilter } from '../stream-filters.js';
import { isSysFilter } from '../sys-topics.js';

export function handleSubscribe(c: MqttConnection, p: ISubscribePacket): void {
  const v5 = c.version === 5;
  const identifier = v5 ? p.properties?.subscriptionIdentifier : undefined;
  // MQTT 5 §3.8.2.1.2: an identifier of 0 is a protocol error
  if (identifier === 0) throw new MqttProtocolError(RC.PROTOCOL_ERROR, 'subscription identifier 0');
  const granted: number[] = [];
  const retained: [Subscription, RetainedMessage[]][] = [];
  const sys: [Subscription, boolean][] = [];
  const now = Date.now();
  const subscribeAll = (): void => subscribeEach(c, p, identifier ?? 0, v5, now, granted, retained, sys);
  const durable = c.sessionState?.durableQueues === true;
  // a persistent session's queues and bindings are saved without an fdatasync each; one shared
  // with the other sessions created meanwhile makes them durable before its writes leave
  if (durable) {
    c.ctx.core.deferMetadataSync(subscribeAll);
    holdForMetadata(c);
  } else {
    subscribeAll();
  }
  const answer = (): void => {
    c.send({ cmd: 'suback', messageId: p.messageId ?? 0, granted });
    for (const [sub, messages] of retained) sendRetained(c, sub, messages, now);
    for (const [sub, sendCurrent] of sys) c.ctx.sys?.subscribed(c, sub, sendCurrent);
  };
  if (!durable) return answer();
  c.ctx.core.afterMetadataReplicated((refusal) => {
    if (!c.open) return;
    if (refusal === null) return answer();
    c.log.warn('SUBACK refused: subscriptions not replicated', { error: refusal.message });
    c.send({ cmd: 'suback', messageId: p.messageId ?? 0, granted: granted.map(() => SUBACK_FAILURE) });
  });
}

function subscribeEach(
  c: MqttConnection,
  p: ISubscribePacket,
  identifier: number,
  v5: boolean,
  now: number,
  granted: number[],
  retained: [Subscription, RetainedMessage[]][],
  sys: [Subscription, boolean][],
): void {
  for (const s of p.subscriptions) {
    const result = subscribeOne(c, s, identifier, v5, v5 ? p.properties?.userProperties : undefined);
    if (typeof result === 'number') {
      granted.push(result);
      continue;
    }
    granted.push(result.sub.qos);
    if (isSysFilter(result.sub.topicFilter) && result.sub.shareGroup === null) sys.push([result.sub, result.sendRetained]);
    if (result.sendRetained) {
      const messages = c.ctx.retained.match(c.vhost, result.sub.topicFilter, now);
      if (messages.length > 0) retained.push([result.sub, messages]);
    }
  }
}

/** @returns the subscription and whether retained messages are due, or a failure reason code */
function subscribeOne(
  c: MqttConnection,
  s: ISubscription,
  identifier: number,
  v5: boolean,
  userProperties: Record<string, string | string[]> | undefined,
): { sub: Subscription; sendRetained: boolean } | number {
  const failure = (v5Code: number) => (v5 ? v5Code : SUBACK_FAILURE);
  // `$stream/<stream>/<filter>`: replay a stream queue from an offset (stream-filters.ts)
  const stream = parseStreamFilter(s.topic, userProperties);
  if (typeof stream === 'string') return failure(RC.TOPIC_FILTER_INVALID);
  const shared = stream ? null : parseSharedFilter(s.topic);
  if (typeof shared === 'string') return failure(RC.TOPIC_FILTER_INVALID);
  const topicFilter = stream ? stream.topicFilter : shared ? shared.filter : s.topic;
  if (topicFilterProblem(topicFilter)) return failure(RC.TOPIC_FILTER_INVALID);
  // MQTT-3.8.3-4: No Local on a shared subscription is a protocol error
  if (shared && s.nl) throw new MqttProtocolError(RC.PROTOCOL_ERROR, 'no local on a shared subscription');
  const qos = s.qos;
  const subs = c.subscriptions!;
  const group = shared ? shared.group : null;
  const bindingKey = filterToBindingKey(topicFilter, c.ctx.settings.sparkplug);
  const queue = stream ? stream.stream : subs.queueFor({ shareGroup: group, topicFilter, qos });
  const sub = new Subscription(s.topic, topicFilter, group, bindingKey, qos, queue);
  if (stream) sub.stream = { stream: stream.stream, offset: stream.offset, prefetch: c.ctx.settings.prefetch };
  if (v5) {
    sub.noLocal = !!s.nl;
    sub.retainAsPublished = !!s.rap;
    sub.identifier = identifier;
  }
  let isNew: boolean;
  try {
    isNew = subs.add(sub);
  } catch (e) {
    if (!isBrokerError(e)) throw e;
    c.log.info('subscription refused', { filter: s.topic, error: e.message });
    return failure(queueLimitReached(c, sub.queue) ? RC.QUOTA_EXCEEDED : reasonCodeOf(e));
  }
  // Retain Handling: 0 always, 1 only for a new subscription, 2 never; never for a shared one (MQTT 5 §4.8.2)
  const handling = v5 ? (s.rh ?? 0) : 0;
  return { sub, sendRetained: !shared && !stream && (handling === 0 || (handling === 1 && isNew)) };
}

/**
 * Whether a refused subscription needed a new queue that the vhost's queue limit (max-queues)
 * does not allow: MQTT 5 says so with 0x97 Quota exceeded. Decided from the limit and the
 * queue count, not from the error's text.
 */
function queueLimitReached(c: MqttConnection, queue: string): boolean {
  const core = c.ctx.core;
  const max = core.vhostLimits(c.vhost).maxQueues;
  return max >= 0 && core.hasVhost(c.vhost) && core.queue(c.vhost, queue) === undefined && core.queueCount(c.vhost) >= max;
}
