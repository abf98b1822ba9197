/**
 * PUBREL from the client (MQTT 5 §3.6): the second half of an inbound QoS 2 flow. The
 * message was published on PUBLISH (MQTT 5 §4.3.3 method A); now the identifier may be used
 * again (MQTT-4.3.3-11) and PUBCOMP tells the client so.
 */
import type { IPubrelPacket } from 'mqtt-packet';
import type { MqttConnection } from '../connection.js';
import { RC } from '../errors.js';

export function handlePubrel(c: MqttConnection, p: IPubrelPacket): void {
  const id = p.messageId ?? 0;
  const state = c.sessionState!;
  const known = state.pendingInboundQos2.delete(id);
  if (state.acceptedInboundQos2.delete(id)) state.changed();
  c.send({ cmd: 'pubcomp', messageId: id, reasonCode: known ? RC.SUCCESS : RC.PACKET_IDENTIFIER_NOT_FOUND });
}
