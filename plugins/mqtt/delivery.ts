/**
 * Outbound PUBLISH: a core delivery (or a retained message) becomes a PUBLISH to the client.
 *
 * QoS is the lower of the message's and the best matching subscription's (MQTT-3.8.4-8);
 * QoS ≥ 1 deliveries take a packet identifier bound to the core delivery tag, settled by
 * PUBACK (QoS 1) or PUBREC (QoS 2); a QoS 0 delivery from an acked queue is acked at once.
 * The dup flag follows the core's `redelivered` (MQTT-3.3.1-1).
 */
import type { IPublishPacket, QoS } from 'mqtt-packet';
import type { LargeBody, Message } from '../../src/core/index.js';
import { encode, encodePublish } from './codec.js';
import type { MqttConnection } from './connection.js';
import { publishedQos, publishedRetained, publishPropertiesOf, remainingExpirySeconds, type PublishProperties } from './message.js';

export type { PublishProperties };
import { UNTRACKED } from './packet-ids.js';
import type { RetainedMessage } from './retained.js';
import { deliveryKey, type SessionState, type Subscription } from './session-state.js';
import { routingKeyToTopic } from './topics.js';
import { streamedHead } from './streamed-publish.js';

/**
 * The last routing key → topic translation, shared by every connection (not two fields each):
 * a message fanned out to many devices is translated once.
 */
const lastTopic = { key: '\u0000', sparkplug: false, topic: '' };

export function deliverToClient(c: MqttConnection, consumerTag: string, tag: number, redelivered: boolean, message: Message): void {
  const subs = c.subscriptions;
  const group = subs?.group(consumerTag);
  if (!subs || !group || !c.open) return; // the core requeues what a closing session held
  subs.match(group, message, c.core!.id);
  const sparkplug = c.ctx.settings.sparkplug;
  let topic: string;
  if (message.routingKey === lastTopic.key && sparkplug === lastTopic.sparkplug) topic = lastTopic.topic;
  else {
    topic = routingKeyToTopic(message.routingKey, sparkplug);
    lastTopic.key = message.routingKey;
    lastTopic.sparkplug = sparkplug;
    lastTopic.topic = topic;
  }
  // not for this client (no-local, '$' topic under a root wildcard), or no valid topic name
  if (subs.matchQos < 0 || topic === '') {
    if (!group.noAck) c.session!.ack(tag, false);
    return;
  }
  const published = publishedQos(message);
  const qos = (published < subs.matchQos ? published : subs.matchQos) as QoS;
  let properties: PublishProperties | undefined;
  if (c.version === 5) {
    properties = publishPropertiesOf(message, c.ctx.settings.sparkplug);
    const expiry = remainingExpirySeconds(message, Date.now());
    const ids = subs.matchIds;
    if (expiry !== undefined || ids.length > 0) {
      properties = { ...properties };
      if (expiry !== undefined) properties.messageExpiryInterval = expiry;
      if (ids.length > 0) properties.subscriptionIdentifier = ids.length === 1 ? ids[0] : ids.slice();
    }
  }
  const retain = subs.matchRetainAsPublished && publishedRetained(message);
  let id = 0;
  if (qos > 0) {
    const state = c.sessionState;
    id = c.packetIds.allocate(tag, state !== null && state.resendIds !== null ? resendId(c, state, tag) : 0);
    if (id === 0) {
      // 65535 identifiers in flight: give the message back for later (cannot happen below the prefetch)
      c.session!.nack(tag, false, true);
      return;
    }
  }
  const sent = sendPublish(c, topic, message.body, qos, redelivered && qos > 0, retain, id, properties, message.bodyRef);
  if (!sent) {
    c.ctx.stats.publishDropped++;
    if (id !== 0) c.packetIds.release(id);
  }
  // a QoS 0 delivery is settled once written; one too large for the client is dropped (MQTT-3.1.2-25)
  if ((qos === 0 || !sent) && !group.noAck) c.session!.ack(tag, false);
}

/** The packet identifier a delivery had before the session's last connection ended (MQTT-4.4.0-1), or 0. */
function resendId(c: MqttConnection, state: SessionState, tag: number): number {
  const resend = state.resendIds!;
  const p = c.session!.deliveryPosition(tag);
  if (p === null) return 0;
  const key = deliveryKey(p.queue, p.seq);
  const id = resend.get(key) ?? 0;
  if (id !== 0 && resend.delete(key) && resend.size === 0) state.resendIds = null;
  return id;
}

/**
 * Retained messages for a new subscription (MQTT-3.3.1-6): sent with the retain flag set
 * (MQTT-3.3.1-8), outside the core's tracking (a PUBACK for them settles nothing).
 */
export function sendRetained(c: MqttConnection, sub: Subscription, messages: RetainedMessage[], now: number): void {
  for (const m of messages) {
    const qos = (m.qos < sub.qos ? m.qos : sub.qos) as QoS;
    let properties: PublishProperties | undefined;
    if (c.version === 5) {
      properties = m.properties ? { ...m.properties } : {};
      if (m.expiresAt !== 0) properties.messageExpiryInterval = Math.max(1, Math.ceil((m.expiresAt - now) / 1000));
      if (sub.identifier !== 0) properties.subscriptionIdentifier = sub.identifier;
    }
    let id = 0;
    if (qos > 0) {
      id = c.packetIds.allocate(UNTRACKED);
      if (id === 0) return;
    }
    if (!sendPublish(c, m.topic, m.payload, qos, false, true, id, properties) && id !== 0) c.packetIds.release(id);
  }
}

function sendPublish(
  c: MqttConnection,
  topic: string,
  payload: Buffer,
  qos: QoS,
  dup: boolean,
  retain: boolean,
  messageId: number,
  properties: PublishProperties | undefined,
  bodyRef: LargeBody | null = null,
): boolean {
  if (properties === undefined && c.outboundAliases === null) {
    // the common case, encoded without a packet object
    const bytes = encodePublish(topic, payload, qos, dup, retain, messageId, c.version);
    if (!(bodyRef === null ? c.sendBytes(bytes) : sendStreamed(c, bytes, bodyRef))) return false;
    c.ctx.stats.publishSent++;
    return true;
  }
  const packet: IPublishPacket = { cmd: 'publish', topic, payload, qos, dup, retain };
  if (messageId !== 0) packet.messageId = messageId;
  let newAlias = false;
  if (c.outboundAliases) {
    // MQTT 5 §3.3.2.3.4: the topic goes once with its alias, then the alias alone
    const alias = c.outboundAliases.aliasFor(topic);
    if (alias !== 0) {
      // the converted properties of a message are shared (frozen): copy before adding the alias
      properties = properties === undefined ? {} : Object.isFrozen(properties) ? { ...properties } : properties;
      properties.topicAlias = alias > 0 ? alias : -alias;
      if (alias > 0) packet.topic = '';
      else newAlias = true;
    }
  }
  if (properties !== undefined) packet.properties = properties;
  let sent: boolean;
  if (bodyRef === null) sent = c.send(packet);
  else {
    const bytes = encode(packet, c.version);
    sent = bytes !== null && sendStreamed(c, bytes, bodyRef);
  }
  if (sent) c.ctx.stats.publishSent++;
  else if (newAlias) c.outboundAliases!.forget(topic);
  return sent;
}

/** A PUBLISH encoded with an empty payload, sent with its payload streamed from the journal (streamed-publish.ts). */
function sendStreamed(c: MqttConnection, encoded: Buffer, body: LargeBody): boolean {
  const head = streamedHead(encoded, body.size, c.clientMaxPacketSize);
  if (head === null) return false; // larger than the client's Maximum Packet Size (MQTT-3.1.2-25)
  c.sendStreamed(head, body);
  return true;
}

/** A QoS 0 PUBLISH of the broker's own ($SYS topics): not tracked, properties for MQTT 5 only. */
export function sendPlain(c: MqttConnection, topic: string, payload: Buffer, retain: boolean, properties: PublishProperties | undefined): void {
  sendPublish(c, topic, payload, 0, false, retain, 0, c.version === 5 ? properties : undefined);
}
