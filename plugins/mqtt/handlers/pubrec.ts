/**
 * PUBREC from the client (MQTT 5 §3.5): it received a QoS 2 delivery. The core delivery is
 * acked now (the client owns the message), the identifier stays taken until PUBCOMP, and
 * that state outlives the connection in a persistent session (PUBREL is resent on resume, MQTT-4.4.0-1).
 */
import type { IPubrecPacket } from 'mqtt-packet';
import type { MqttConnection } from '../connection.js';
import { RC } from '../errors.js';
import { AWAITING_PUBCOMP } from '../packet-ids.js';

export function handlePubrec(c: MqttConnection, p: IPubrecPacket): void {
  const id = p.messageId ?? 0;
  const tag = c.packetIds.get(id);
  if (tag === undefined) {
    // MQTT 5 §3.6.2.1: PUBREL 0x92 Packet Identifier not found
    c.send({ cmd: 'pubrel', messageId: id, reasonCode: RC.PACKET_IDENTIFIER_NOT_FOUND });
    return;
  }
  if (tag > 0) c.session!.ack(tag, false);
  if (p.reasonCode !== undefined && p.reasonCode >= 0x80) {
    // MQTT 5 §4.3.3: a PUBREC with a failure code ends the flow; the client refused the message
    c.packetIds.release(id);
    return;
  }
  c.packetIds.set(id, AWAITING_PUBCOMP);
  c.sessionState!.pendingPubrel.add(id);
  c.send({ cmd: 'pubrel', messageId: id, reasonCode: RC.SUCCESS }); // the 4-byte form in every version (codec.ts encodeAck)
}
