/**
 * PUBACK from the client (MQTT 3.1.1 §3.4, MQTT 5 §3.4): it took a QoS 1 delivery, so the
 * core delivery is acked and the packet identifier is free again (MQTT-4.3.2-1).
 */
import type { IPubackPacket } from 'mqtt-packet';
import type { MqttConnection } from '../connection.js';
import { AWAITING_PUBCOMP } from '../packet-ids.js';

export function handlePuback(c: MqttConnection, p: IPubackPacket): void {
  const id = p.messageId ?? 0;
  const tag = c.packetIds.get(id);
  // an unknown identifier, or one in a QoS 2 flow: nothing to settle (a PUBACK has no reply)
  if (tag === undefined || tag === AWAITING_PUBCOMP) return;
  c.packetIds.release(id);
  if (tag > 0) c.session!.ack(tag, false);
}
