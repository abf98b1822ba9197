/**
 * UNSUBSCRIBE (MQTT 3.1.1 §3.10, MQTT 5 §3.10): each filter's subscription goes (its binding
 * with it, unless another subscription of the queue still uses the key); UNSUBACK carries a
 * reason per filter in MQTT 5 (0x11 when there was no such subscription). A persistent
 * session's UNSUBACK waits, in a cluster, until the unbinding is on every in-sync node (as
 * SUBACK does); refused past the deadline: 0x80 per filter in MQTT 5, a close in 3.1.1 (no code).
 */
import type { IUnsubscribePacket } from 'mqtt-packet';
import type { MqttConnection } from '../connection.js';
import { RC } from '../errors.js';

export function handleUnsubscribe(c: MqttConnection, p: IUnsubscribePacket): void {
  const granted: number[] = [];
  for (const filter of p.unsubscriptions) {
    granted.push(c.subscriptions!.remove(filter) ? RC.SUCCESS : RC.NO_SUBSCRIPTION_EXISTED);
  }
  const answer = (codes: number[]): void => {
    c.send({ cmd: 'unsuback', messageId: p.messageId ?? 0, granted: c.version === 5 ? codes : [] });
  };
  if (c.sessionState?.durableQueues !== true) return answer(granted);
  c.ctx.core.afterMetadataReplicated((refusal) => {
    if (!c.open) return;
    if (refusal === null) return answer(granted);
    if (c.version === 5) return answer(granted.map(() => RC.UNSPECIFIED_ERROR));
    c.protocolError(RC.UNSPECIFIED_ERROR, `unsubscribe not replicated: ${refusal.message}`);
  });
}
