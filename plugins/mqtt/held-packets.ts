/**
 * MQTT's side of the publish gate (src/frontend/publish-gate.ts): during a resource alarm
 * (RabbitMQ's memory and disk alarms, `core.alarms`) a connection's next PUBLISH waits there,
 * and so does everything read after it, in order, while the connection stops reading; when
 * the alarm clears they are handled as usual. What is held past `alarms.publish_deadline`
 * fails explicitly, here.
 */
import type { Packet } from './codec.js';
import type { MqttConnection } from './connection.js';
import { RC } from './errors.js';
import { dispatchPacket } from './handlers/index.js';
import { refuseHeldPublish } from './handlers/publish.js';

/** The alarm cleared: handle a held packet as usual. @returns false once the connection closed */
export function handleHeldPacket(c: MqttConnection, packet: Packet): boolean {
  if (c.closed) return false;
  try {
    dispatchPacket(c, packet);
  } catch (e) {
    c.handlerFailed(e);
  }
  return !c.closed;
}

/**
 * Held past the alarm deadline. MQTT 5: each held QoS ≥ 1 PUBLISH gets PUBACK / PUBREC 0x97
 * Quota exceeded, the other packets are handled, and reading resumes (a later publish may be
 * held again); a held QoS 0 PUBLISH has no ack to say it was refused, so the connection
 * ends with DISCONNECT 0x97. MQTT 3.1.1 has no negative ack: the connection closes.
 * @returns whether the connection reads again
 */
export function failHeldPackets(c: MqttConnection, packets: Packet[]): boolean {
  const alarms = c.ctx.core.alarms;
  const why = `publishing blocked by a resource alarm (${alarms.reason}) for longer than ${alarms.settings.publishDeadlineMs} ms`;
  c.log.info('held publishes failed', { reason: why });
  if (c.version !== 5) {
    c.protocolError(RC.QUOTA_EXCEEDED, why);
    return false;
  }
  let unackedRefused = false;
  for (const p of packets) {
    if (c.closed) return false;
    try {
      if (p.cmd === 'publish') {
        if (!refuseHeldPublish(c, p, why)) unackedRefused = true;
      } else {
        dispatchPacket(c, p);
      }
    } catch (e) {
      c.handlerFailed(e);
    }
  }
  if (c.closed) return false;
  if (unackedRefused) {
    c.protocolError(RC.QUOTA_EXCEEDED, `${why}: a QoS 0 message was not published`);
    return false;
  }
  return true;
}
