/** PINGREQ (MQTT 3.1.1 §3.12): answered with PINGRESP (MQTT-3.12.4-1); any packet resets the keep-alive clock. */
import type { MqttConnection } from '../connection.js';

export function handlePingreq(c: MqttConnection): void {
  c.send({ cmd: 'pingresp' });
}
