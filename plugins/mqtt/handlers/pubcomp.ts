/** PUBCOMP from the client (MQTT 5 §3.7): the outbound QoS 2 flow is over, the identifier free. */
import type { IPubcompPacket } from 'mqtt-packet';
import type { MqttConnection } from '../connection.js';
import { AWAITING_PUBCOMP } from '../packet-ids.js';

export function handlePubcomp(c: MqttConnection, p: IPubcompPacket): void {
  const id = p.messageId ?? 0;
  if (c.packetIds.get(id) !== AWAITING_PUBCOMP) return;
  c.packetIds.release(id);
  c.sessionState!.pendingPubrel.delete(id);
}
