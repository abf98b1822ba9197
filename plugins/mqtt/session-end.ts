/**
 * What happens to a session when its network connection ends: in-flight packet identifiers
 * are kept for the resume (MQTT-4.4.0-1), the will is scheduled when the end was abnormal
 * (MQTT-3.1.2-8), the core session closes (its unacked deliveries go back to their queues,
 * redelivered), and a persistent session is parked until it expires; a clean one's durable
 * queues are deleted.
 */
import type { MqttConnection } from './connection.js';
import { deliveryKey } from './session-state.js';

export function endSession(c: MqttConnection, abnormal: boolean): void {
  const state = c.sessionState;
  try {
    if (state) {
      state.resendIds = inFlightPositions(c);
      state.live = null;
      state.recorder = null;
      const ids = c.packetIdsInUse;
      if (ids !== null) ids.changes = null;
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
  if (state && state.expirySeconds > 0) {
    state.disconnectedAt = Date.now();
    c.ctx.sessions.park(state);
    c.ctx.records?.touch(state);
  } else if (state?.recorded) {
    state.recorded = false;
    c.ctx.records?.forget(state.vhost, state.clientId);
  }
}

/** The connection's QoS ≥ 1 deliveries in flight: place in the core → packet identifier. */
export function inFlightPositions(c: MqttConnection): Map<string, number> | null {
  const session = c.session;
  if (session === null) return null;
  let out: Map<string, number> | null = null;
  c.packetIdsInUse?.forEachTracked((id, tag) => {
    const p = session.deliveryPosition(tag);
    if (p !== null) (out ??= new Map()).set(deliveryKey(p.queue, p.seq), id);
  });
  return out;
}
