/**
 * Inbound PUBLISH (MQTT 3.1.1 §3.3, MQTT 5 §3.3): topic alias and topic checks, retained
 * message update, and a core publish to the MQTT exchange. QoS 1 and 2 publishes carry a
 * confirm token; PUBACK / PUBREC go out only when the core confirms (`publishConfirmed`),
 * which for persistent messages will mean "durable" once the store is in.
 */
import type { IPublishPacket } from 'mqtt-packet';
import type { MqttConnection } from '../connection.js';
import { MqttProtocolError, RC, reasonCodeOf } from '../errors.js';
import { toCoreMessage, type MqttPublish, type PublishProperties } from '../message.js';
import { retainPublish } from '../retained.js';
import { topicNameProblem, topicToRoutingKey } from '../topics.js';

/** Confirm tokens: the packet identifier, plus this bit for QoS 2 (PUBREC instead of PUBACK). */
const QOS2_TOKEN = 0x10000;

export function handlePublish(c: MqttConnection, p: IPublishPacket): void {
  const session = c.session!;
  const state = c.sessionState!;
  const v5 = c.version === 5;
  const topic = resolveTopic(c, p);
  const properties = p.properties?.topicAlias !== undefined ? withoutAlias(p.properties) : p.properties;

  const id = p.messageId ?? 0;
  // MQTT-4.3.3-10: a QoS 2 PUBLISH seen before (PUBREC sent, PUBREL not yet) is not published again
  if (p.qos === 2 && state.pendingInboundQos2.has(id)) {
    c.send({ cmd: 'pubrec', messageId: id });
    return;
  }

  const publish: MqttPublish = {
    routingKey: topicToRoutingKey(topic, c.ctx.settings.sparkplug),
    qos: p.qos,
    retain: p.retain,
    payload: typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload,
    properties: v5 ? properties : undefined,
  };
  const message = toCoreMessage(c.ctx.settings.exchange, publish, c.ctx.settings.sparkplug);

  if (p.qos === 0) {
    // a refused QoS 0 publish ends the connection (there is no ack to carry the reason)
    session.publish(message, false);
    if (p.retain) retainPublish(c.ctx.retained, c.vhost, topic, publish, Date.now());
    return;
  }
  const token = p.qos === 2 ? id | QOS2_TOKEN : id;
  if (p.qos === 2) state.pendingInboundQos2.add(id);
  c.publishingToken = token;
  try {
    // MQTT 5 reports "no matching subscribers" (0x10): mandatory tells us when nothing matched
    session.publish(message, v5, token);
  } catch (e) {
    // MQTT 5: the reason goes back in the ack; 3.1.1 has no way to say no, so the connection
    // ends (as RabbitMQ does)
    state.pendingInboundQos2.delete(id);
    if (!v5) throw e;
    c.send({ cmd: p.qos === 2 ? 'pubrec' : 'puback', messageId: id, reasonCode: reasonCodeOf(e) });
    return;
  } finally {
    c.publishingToken = -1;
  }
  if (p.retain) retainPublish(c.ctx.retained, c.vhost, topic, publish, Date.now());
}

/**
 * A PUBLISH held by a resource alarm past its deadline (MQTT 5): not published, and its
 * PUBACK / PUBREC says 0x97 Quota exceeded. Its topic alias still counts, so that later
 * publishes using the alias resolve. @returns false for QoS 0, which has no ack to say it
 */
export function refuseHeldPublish(c: MqttConnection, p: IPublishPacket, why: string): boolean {
  resolveTopic(c, p);
  if (p.qos === 0) return false;
  const id = p.messageId ?? 0;
  // a resent QoS 2 PUBLISH whose first copy was routed: that one stands (MQTT-4.3.3-10)
  if (p.qos === 2 && c.sessionState!.pendingInboundQos2.has(id)) c.send({ cmd: 'pubrec', messageId: id });
  else c.send({ cmd: p.qos === 2 ? 'pubrec' : 'puback', messageId: id, reasonCode: RC.QUOTA_EXCEEDED, properties: { reasonString: why.slice(0, 200) } });
  return true;
}

/**
 * The topic a PUBLISH is for, its topic alias applied (MQTT 5 §3.3.2.3.4: an alias with a
 * topic sets it, an alias alone uses it); throws when the topic or alias is invalid.
 */
function resolveTopic(c: MqttConnection, p: IPublishPacket): string {
  let topic = p.topic;
  const properties = p.properties;
  if (c.version === 5 && properties) {
    // MQTT-3.3.4-6: a client does not send Subscription Identifiers
    if (properties.subscriptionIdentifier !== undefined) throw new MqttProtocolError(RC.PROTOCOL_ERROR, 'subscription identifier in PUBLISH');
    const alias = properties.topicAlias;
    if (alias !== undefined) {
      if (!c.inboundAliases!.valid(alias)) throw new MqttProtocolError(RC.TOPIC_ALIAS_INVALID, `topic alias ${alias} out of range`);
      if (topic === '') {
        const known = c.inboundAliases!.get(alias);
        if (known === undefined) throw new MqttProtocolError(RC.PROTOCOL_ERROR, `unknown topic alias ${alias}`);
        topic = known;
      } else {
        c.inboundAliases!.set(alias, topic);
      }
    }
  }
  const problem = topicNameProblem(topic);
  if (problem) throw new MqttProtocolError(RC.TOPIC_NAME_INVALID, problem);
  return topic;
}

/** The properties a message keeps: the Topic Alias is the connection's, not the message's. */
function withoutAlias(properties: PublishProperties): PublishProperties | undefined {
  const rest = { ...properties };
  delete rest.topicAlias;
  return Object.keys(rest).length === 0 ? undefined : rest;
}

/** The core's verdict on a QoS ≥ 1 publish: the ack the client waits for. */
export function publishConfirmed(c: MqttConnection, token: number, ack: boolean): void {
  if (!c.open) return;
  const qos2 = token >= QOS2_TOKEN;
  const id = token & 0xffff;
  const unrouted = c.takeUnrouted(token);
  if (!ack && c.version !== 5) {
    // 3.1.1 cannot refuse a publish: close, so the client knows it was not taken (RabbitMQ's behaviour)
    c.protocolError(RC.QUOTA_EXCEEDED, 'publish refused by a queue');
    return;
  }
  // a queue refused it (x-overflow reject-publish): 0x97 Quota exceeded
  const reasonCode = !ack ? RC.QUOTA_EXCEEDED : unrouted ? RC.NO_MATCHING_SUBSCRIBERS : RC.SUCCESS;
  if (qos2 && reasonCode >= 0x80) c.sessionState!.pendingInboundQos2.delete(id);
  c.send({ cmd: qos2 ? 'pubrec' : 'puback', messageId: id, reasonCode });
}
