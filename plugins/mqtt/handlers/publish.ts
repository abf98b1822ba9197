/**
 * Inbound PUBLISH (MQTT 3.1.1 §3.3, MQTT 5 §3.3): topic alias and topic checks, retained
 * message update, and a core publish to the MQTT exchange. QoS 1 and 2 publishes carry a
 * confirm token; PUBACK / PUBREC go out only when the core confirms — for a stored message,
 * once every durability point of the publish is durable — and, for a retained publish, once
 * the retained store's write is durable too (publish-acks.ts).
 */
import type { IPublishPacket } from 'mqtt-packet';
import type { MqttConnection } from '../connection.js';
import type { StreamedPublish } from '../inbound-body.js';
import { MqttProtocolError, RC, reasonCodeOf } from '../errors.js';
import { toCoreMessage, type MqttPublish, type PublishProperties } from '../message.js';
import { retainPublish } from '../retained.js';
import { topicNameProblem, topicToRoutingKey } from '../topics.js';
import { QOS2_TOKEN } from '../publish-acks.js';
import { DurabilityPoints } from '../../../src/core/index.js';

export function handlePublish(c: MqttConnection, p: IPublishPacket): void {
  c.ctx.stats.publishReceived++;
  const session = c.session!;
  const state = c.sessionState!;
  const v5 = c.version === 5;
  const topic = resolveTopic(c, p);
  const properties = p.properties?.topicAlias !== undefined ? withoutAlias(p.properties) : p.properties;

  const id = p.messageId ?? 0;
  // MQTT-4.3.3-10: a QoS 2 PUBLISH seen before (PUBREL not come yet) is not published again;
  // its PUBREC waits for what the first copy wrote to be durable (its connection may have ended
  // before that copy's confirm, which then never came)
  const firstCopy = p.qos === 2 ? state.pendingInboundQos2.get(id) : undefined;
  if (firstCopy) {
    c.acks.pubrecWhenDurable(id, firstCopy);
    return;
  }

  const publish: MqttPublish = {
    routingKey: topicToRoutingKey(topic, c.ctx.settings.sparkplug),
    qos: p.qos,
    retain: p.retain,
    dup: p.dup,
    payload: typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload,
    properties: v5 ? properties : undefined,
    // a payload streamed to the journal as it arrived (inbound-body.ts)
    bodyRef: (p as StreamedPublish).bodyRef ?? null,
  };
  const message = toCoreMessage(c.ctx.settings.exchange, publish, c.ctx.settings.sparkplug);

  if (p.qos === 0) {
    // a refused QoS 0 publish ends the connection (there is no ack to carry the reason)
    session.publish(message, false);
    if (p.retain) retainPublish(c.ctx.retained, c.vhost, topic, publish, Date.now(), null);
    return;
  }
  const token = p.qos === 2 ? id | QOS2_TOKEN : id;
  // QoS 2 keeps the publish's durability points until PUBREL (one object per QoS 2 publish)
  const points = p.qos === 2 ? new DurabilityPoints() : undefined;
  if (points) state.pendingInboundQos2.set(id, points);
  const acks = c.acks;
  acks.publishingToken = token;
  // the ack of a retained publish also waits for the retained store's write to be durable
  if (p.retain) acks.awaitRetained(token);
  try {
    // MQTT 5 reports "no matching subscribers" (0x10): mandatory tells us when nothing matched
    session.publish(message, v5, token, points);
  } catch (e) {
    // MQTT 5: the reason goes back in the ack; 3.1.1 has no way to say no, so the connection
    // ends (as RabbitMQ does)
    state.pendingInboundQos2.delete(id);
    acks.forget(token);
    if (!v5) throw e;
    c.send({ cmd: p.qos === 2 ? 'pubrec' : 'puback', messageId: id, reasonCode: reasonCodeOf(e) });
    return;
  } finally {
    acks.publishingToken = -1;
  }
  if (!p.retain) return;
  acks.retainedPoints.clear();
  retainPublish(c.ctx.retained, c.vhost, topic, publish, Date.now(), acks.retainedPoints);
  points?.add(acks.retainedPoints);
  acks.retainedWritten(token);
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
  const firstCopy = p.qos === 2 ? c.sessionState!.pendingInboundQos2.get(id) : undefined;
  if (firstCopy) c.acks.pubrecWhenDurable(id, firstCopy);
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
