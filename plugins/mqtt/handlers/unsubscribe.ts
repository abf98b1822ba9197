/**
 * UNSUBSCRIBE (MQTT 3.1.1 §3.10, MQTT 5 §3.10): each filter's subscription goes (its binding
 * with it, unless another subscription of the queue still uses the key); UNSUBACK carries a
 * reason per filter in MQTT 5 (0x11 when there was no such subscription).
 */
import type { IUnsubscribePacket } from 'mqtt-packet';
import type { MqttConnection } from '../connection.js';
import { RC } from '../errors.js';

export function handleUnsubscribe(c: MqttConnection, p: IUnsubscribePacket): void {
  const granted: number[] = [];
  for (const filter of p.unsubscriptions) {
    granted.push(c.subscriptions!.remove(filter) ? RC.SUCCESS : RC.NO_SUBSCRIPTION_EXISTED);
  }
  if (c.version === 5) c.send({ cmd: 'unsuback', messageId: p.messageId ?? 0, granted });
  else c.send({ cmd: 'unsuback', messageId: p.messageId ?? 0, granted: [] });
}
