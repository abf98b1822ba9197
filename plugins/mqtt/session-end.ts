/**
 * What happens to a session when its network connection ends: in-flight packet identifiers
 * are kept for the resume (MQTT-4.4.0-1), the will is scheduled when the end was abnormal
 * (MQTT-3.1.2-8), the core session closes (its unacked deliveries go back to their queues,
 * redelivered), and a persistent session is parked until it expires; a clean one's durable
 * queues are deleted.
 */
import type { MqttConnection } from './connection.js';

export function endSession(c: MqttConnection, abnormal: boolean): void {
  const state = c.sessionState;
  try {
    if (state) {
      state.resendIds = c.packetIds.unacknowledged();
      if (state.expirySeconds === 0 && state.durableQueues) c.subscriptions?.deleteSessionQueues();
    }
    if (abnormal && c.will) c.ctx.wills.schedule(c.key, c.will, state?.expirySeconds ?? 0);
    // the core requeues unacked deliveries (redelivered) and deletes exclusive queues
    c.session?.close();
    c.core?.close();
  } catch (e) {
    c.log.error('MQTT connection teardown failed', { error: (e as Error).message });
  }
  if (c.ctx.clients.get(c.key) === c) c.ctx.clients.delete(c.key);
  if (state && state.expirySeconds > 0) c.ctx.sessions.park(state);
}
