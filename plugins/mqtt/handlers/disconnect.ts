/**
 * DISCONNECT from the client (MQTT 3.1.1 §3.14, MQTT 5 §3.14): a normal end, so the will is
 * discarded (MQTT-3.14.4-3) unless MQTT 5 reason 0x04 asks for it. MQTT 5 may change the
 * Session Expiry Interval here, but not from 0 to more (MQTT-3.14.2-2).
 */
import type { IDisconnectPacket } from 'mqtt-packet';
import type { MqttConnection } from '../connection.js';
import { MqttProtocolError, RC } from '../errors.js';

export function handleDisconnect(c: MqttConnection, p: IDisconnectPacket): void {
  const state = c.sessionState!;
  const expiry = p.properties?.sessionExpiryInterval;
  if (c.version === 5 && expiry !== undefined) {
    if (state.expirySeconds === 0 && expiry > 0) throw new MqttProtocolError(RC.PROTOCOL_ERROR, 'session expiry set in DISCONNECT after 0 in CONNECT');
    state.expirySeconds = Math.min(expiry, c.ctx.settings.maxSessionExpirySeconds);
  }
  c.clientDisconnected(c.version === 5 && p.reasonCode === RC.DISCONNECT_WITH_WILL);
}
