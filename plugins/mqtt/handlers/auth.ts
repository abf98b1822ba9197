/**
 * AUTH (MQTT 5 §3.15): enhanced authentication is not supported, and CONNECT without an
 * Authentication Method never starts it, so an AUTH packet is a protocol error (MQTT-4.12.0-1 … 4.12.0-2).
 */
import type { MqttConnection } from '../connection.js';
import { MqttProtocolError, RC } from '../errors.js';

export function handleAuth(_c: MqttConnection): void {
  throw new MqttProtocolError(RC.PROTOCOL_ERROR, 'AUTH without enhanced authentication');
}
