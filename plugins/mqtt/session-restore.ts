/**
 * At start, what a previous run left of persistent sessions comes back (session-records.ts):
 * each session is rebuilt from its durable queues and bindings (session-recovery.ts) and its
 * record (shared and `$stream/` subscriptions, packet identifiers in flight, QoS 2 flows), and
 * parked until it expires, counted from when its connection ended — or from this start for a
 * session that was connected when the broker went down. A session already past its expiry
 * ends now (its queues deleted). Delayed wills are scheduled again for what is left of their
 * delay, or published at once when it has passed.
 */
import type { MqttContext } from './context.js';
import { applyRecord } from './session-record.js';
import { recoverSession } from './session-recovery.js';
import { NEVER_EXPIRES, SessionState, sessionKey } from './session-state.js';

export function restoreSessions(ctx: MqttContext): void {
  const records = ctx.records;
  if (records === null) return;
  const { exchange, sparkplug, prefetch } = ctx.settings;
  const now = Date.now();
  for (const { vhost, clientId, will } of records.wills()) {
    if (ctx.core.hasVhost(vhost)) ctx.wills.restore(sessionKey(vhost, clientId), vhost, clientId, will);
    else records.forgetWill(vhost, clientId);
  }
  let restored = 0;
  for (const { vhost, clientId, record } of records.sessions()) {
    if (!ctx.core.hasVhost(vhost)) {
      records.forget(vhost, clientId);
      continue;
    }
    const state =
      recoverSession(ctx.core, vhost, clientId, record.user, record.expiry, exchange, sparkplug) ?? new SessionState(vhost, clientId, record.user, record.expiry);
    applyRecord(state, record, sparkplug, prefetch);
    state.disconnectedAt = record.disconnectedAt !== 0 ? record.disconnectedAt : now;
    const deadline = state.disconnectedAt + record.expiry * 1000;
    if (record.expiry !== NEVER_EXPIRES && deadline <= now) {
      ctx.sessionExpired(state);
      ctx.wills.publishNow(sessionKey(vhost, clientId)); // the session ended: its will is due (MQTT-3.1.3-9)
      continue;
    }
    ctx.sessions.park(state, deadline);
    records.touch(state);
    restored++;
  }
  if (restored > 0) ctx.log.info('MQTT persistent sessions restored', { sessions: restored });
}
