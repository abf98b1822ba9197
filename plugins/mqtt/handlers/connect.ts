/**
 * CONNECT (MQTT 3.1.1 §3.1, MQTT 5 §3.1): protocol level, client identifier, login and
 * vhost, client-id takeover, session start or resume, will, keep-alive; answered by CONNACK.
 */
import { randomBytes } from 'node:crypto';
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet';
import type { CoreConnection, QueueDeclareOptions, Session } from '../../../src/core/index.js';
import type { MqttConnection } from '../connection.js';
import { CONNACK_V3, connectRefusalOf, RC } from '../errors.js';
import type { MqttPublish } from '../message.js';
import { recoverSession } from '../session-recovery.js';
import { NEVER_EXPIRES, SessionState, sessionKey } from '../session-state.js';
import { Subscriptions } from '../subscriptions.js';
import { InboundAliases, OutboundAliases } from '../topic-aliases.js';
import { topicNameProblem, topicToRoutingKey } from '../topics.js';
import { AWAITING_PUBCOMP } from '../packet-ids.js';
import { holdForMetadata } from '../write-batch.js';

type ConnackProperties = NonNullable<IConnackPacket['properties']>;

/** MQTT 3.1.1 §3.2: CONNACK accepted, session present or not; the same four bytes for every client (never written to) */
const CONNACK_ACCEPTED_NEW = Buffer.from([0x20, 2, 0, CONNACK_V3.ACCEPTED]);
const CONNACK_ACCEPTED_RESUMED = Buffer.from([0x20, 2, 1, CONNACK_V3.ACCEPTED]);

export function handleConnect(c: MqttConnection, p: IConnectPacket): void {
  const ctx = c.ctx;
  const settings = ctx.settings;
  const version = p.protocolVersion ?? 4;
  c.version = version;
  const v5 = version === 5;

  if (v5 && p.properties?.authenticationMethod !== undefined) {
    return refuse(c, RC.BAD_AUTHENTICATION_METHOD, CONNACK_V3.NOT_AUTHORIZED, 'enhanced authentication is not supported');
  }

  // client identifier (MQTT-3.1.3-6/7/8)
  let clientId = p.clientId;
  let assigned = false;
  if (clientId === '') {
    if (version === 3 || (version === 4 && !p.clean)) {
      return refuse(c, RC.CLIENT_IDENTIFIER_NOT_VALID, CONNACK_V3.IDENTIFIER_REJECTED, 'empty client id without clean session');
    }
    clientId = `warren-${randomBytes(16).toString('base64url')}`;
    assigned = true;
  }

  // will: validated before anything is allocated (MQTT-3.1.2-9 … 3.1.2-14)
  let willPublish: MqttPublish | null = null;
  if (p.will) {
    const problem = topicNameProblem(p.will.topic);
    if (problem) return refuse(c, RC.TOPIC_NAME_INVALID, CONNACK_V3.NOT_AUTHORIZED, `will topic: ${problem}`);
    const props = p.will.properties ? { ...p.will.properties } : undefined;
    if (props) delete props.willDelayInterval;
    willPublish = {
      routingKey: topicToRoutingKey(p.will.topic, settings.sparkplug),
      qos: p.will.qos ?? 0,
      retain: !!p.will.retain,
      dup: false,
      payload: Buffer.isBuffer(p.will.payload) ? p.will.payload : Buffer.from(p.will.payload ?? ''),
      properties: props && Object.keys(props).length > 0 ? props : undefined,
    };
  }

  // RabbitMQ mqtt.ssl_cert_login: a client without user name and password whose TLS
  // certificate verified logs in as the certificate's CN, with no password (before anonymous)
  const certName = settings.sslCertLogin && c.certName !== null && !p.username && p.password === undefined ? c.certName : null;
  // login: 'vhost:user' names a vhost, as RabbitMQ reads MQTT user names
  let username = certName ?? p.username;
  let password = p.password?.toString('utf8');
  let vhost = settings.vhost;
  if (username === undefined || username === '') {
    if (!settings.allowAnonymous) {
      return refuseLogin(c, '', RC.BAD_USER_NAME_OR_PASSWORD, CONNACK_V3.BAD_USER_NAME_OR_PASSWORD, 'no user name and anonymous login is off');
    }
    username = settings.defaultUser;
    password = settings.defaultPass;
  } else if (certName === null) {
    const colon = username.indexOf(':');
    if (colon > 0) {
      vhost = username.slice(0, colon);
      username = username.slice(colon + 1);
    }
  }
  const login = certName !== null ? ctx.core.loginVerified(certName, c.peerHost) : ctx.core.login(username, password ?? '', c.peerHost);
  if (!login.ok) {
    // right credentials from the wrong place (loopback-only user): not authorized, as RabbitMQ's CONNACK 5
    if (login.loopbackOnly) return refuseLogin(c, username, RC.NOT_AUTHORIZED, CONNACK_V3.NOT_AUTHORIZED, login.reason);
    return refuseLogin(c, username, RC.BAD_USER_NAME_OR_PASSWORD, CONNACK_V3.BAD_USER_NAME_OR_PASSWORD, login.reason);
  }
  // checked here so that a refusal by the core below can only be a limit (errors.ts connectRefusalOf)
  const noAccess = ctx.core.vhostAccessError(login.user, vhost);
  if (noAccess) return refuseLogin(c, login.user, RC.NOT_AUTHORIZED, CONNACK_V3.NOT_AUTHORIZED, noAccess.message);

  let core: CoreConnection;
  let session: Session;
  c.clientId = clientId;
  c.vhost = vhost;
  c.user = login.user;
  try {
    // the connection is its own ConnectionInfo (protocol, vhost, user, peer, name, traffic): no object of its own per device
    core = ctx.core.connect(c);
  } catch (e) {
    return refuseLimit(c, e);
  }
  try {
    // the one session of an MQTT connection counts against the user's channel limit
    session = core.openSession(c);
  } catch (e) {
    core.close();
    return refuseLimit(c, e);
  }

  // takeover: the session's current connection goes first (MQTT-3.1.4-3), so its queues are free
  const key = sessionKey(vhost, clientId);
  ctx.clients.get(key)?.takeOver();

  // session expiry: MQTT 5 asks for one (capped); a 3.1.1 persistent session gets the maximum
  const max = settings.maxSessionExpirySeconds;
  const requested = v5 ? (p.properties?.sessionExpiryInterval ?? 0) : p.clean ? 0 : NEVER_EXPIRES;
  const expiry = Math.min(requested, max);
  const cleanStart = !!p.clean;

  // a parked session, or after a restart the one its durable queues and bindings describe
  let state = ctx.sessions.take(vhost, clientId) ?? recoverSession(ctx.core, vhost, clientId, login.user, expiry, settings.exchange, settings.sparkplug);
  // a delayed will of this session: a clean start ends the session, so it is due now;
  // a resume means the client is back in time, so it is not sent (MQTT-3.1.3-9)
  if (cleanStart) ctx.wills.publishNow(key);
  else ctx.wills.cancel(key);

  c.core = core;
  core.onServerClose = c; // serverClose: MQTT 5 §3.14.2.1 0x98 Administrative action
  core.flow = c;
  c.session = session;
  c.key = key;

  if (state && cleanStart) {
    // the old session ends: its queues go with it, and its record
    // made durable before the CONNACK leaves, with the other sessions' writes meanwhile
    const old = new Subscriptions(state, session, settings.exchange, {});
    ctx.core.deferMetadataSync(() => old.deleteSessionQueues());
    holdForMetadata(c);
    ctx.records?.forget(vhost, clientId);
    state = undefined;
  }
  const sessionPresent = state !== undefined;
  if (!state) state = new SessionState(vhost, clientId, login.user, expiry);
  // a session that never expires, back with the same user: its stored record still holds (keepRecord)
  const recordHolds = sessionPresent && state.recorded && state.user === login.user && state.expirySeconds === NEVER_EXPIRES && expiry === NEVER_EXPIRES;
  state.user = login.user;
  state.expirySeconds = expiry;
  c.sessionState = state;
  keepRecord(c, state, recordHolds);
  c.subscriptions = new Subscriptions(state, session, settings.exchange, queueOptions(state));

  // flow control: at most `prefetch` unacknowledged QoS ≥ 1 deliveries, and no more than
  // the client's Receive Maximum (MQTT-3.3.4-9)
  const receiveMaximum = v5 ? (p.properties?.receiveMaximum ?? 65535) : 65535;
  session.qos(Math.min(settings.prefetch, receiveMaximum), true);

  if (v5) {
    c.clientMaxPacketSize = p.properties?.maximumPacketSize ?? 0;
    const aliasMax = p.properties?.topicAliasMaximum ?? 0;
    if (aliasMax > 0) c.outboundAliases = new OutboundAliases(aliasMax);
    c.inboundAliases = new InboundAliases(settings.topicAliasMaximum);
  }
  c.maxPacketSize = maxPacketSize(c);
  if (willPublish && p.will) {
    c.will = {
      vhost,
      user: login.user,
      clientId,
      topic: p.will.topic,
      publish: willPublish,
      delaySeconds: v5 ? (p.will.properties?.willDelayInterval ?? 0) : 0,
    };
  }

  ctx.clients.set(key, c);
  c.phase = 'open';
  ctx.stats.connectsAccepted++;
  if (ctx.clients.size > ctx.stats.clientsMaximum) ctx.stats.clientsMaximum = ctx.clients.size;

  // CONNACK before anything the resumed session delivers
  if (v5) {
    const props: ConnackProperties = { topicAliasMaximum: settings.topicAliasMaximum };
    if (assigned) props.assignedClientIdentifier = clientId;
    if (requested > expiry) props.sessionExpiryInterval = expiry; // MQTT 5 §3.2.2.3.2: the server's value wins
    if (c.maxPacketSize < 268435455) props.maximumPacketSize = c.maxPacketSize;
    c.send({ cmd: 'connack', sessionPresent, reasonCode: RC.SUCCESS, properties: props });
  } else {
    c.sendBytes(sessionPresent ? CONNACK_ACCEPTED_RESUMED : CONNACK_ACCEPTED_NEW);
  }

  if (sessionPresent) {
    c.subscriptions.resume();
    ctx.sys?.resumed(c);
    // QoS 2 flows that had reached PUBREL go on from there (MQTT-4.4.0-1)
    if (state.hasPendingPubrel) {
      for (const id of state.pendingPubrel) {
        c.packetIds.reserve(id, AWAITING_PUBCOMP);
        c.send({ cmd: 'pubrel', messageId: id });
      }
    }
  }
  c.startKeepAlive(p.keepalive ?? 0);
}

/**
 * A persistent session's record (session-records.ts) follows it while connected: every change
 * of its subscriptions, QoS 2 flows and packet identifiers in flight marks it for the next
 * write. A session that is no longer persistent loses its record. `holds`: the stored record
 * needs no write for this CONNECT (a 3.1.1 device back in a reconnect storm): only its
 * disconnectedAt would change, which dates nothing for a session that never expires, and its
 * deliveries in flight are rewritten when they change, as ever.
 */
function keepRecord(c: MqttConnection, state: SessionState, holds: boolean): void {
  const records = c.ctx.records;
  if (records === null) return;
  if (state.expirySeconds === 0) {
    if (state.recorded) {
      state.recorded = false;
      records.forget(state.vhost, state.clientId);
    }
    return;
  }
  state.disconnectedAt = 0;
  state.recorder = records;
  const ids = c.packetIdsInUse; // made later, it takes its session from `state.live`
  if (ids !== null) ids.changes = state;
  state.live = c;
  if (!holds) records.touch(state);
}

/**
 * A persistent session's queues are durable, so that they and their bindings are the session
 * across a restart (session-recovery.ts); their x-expires is the session expiry, which also
 * deletes them when a restart forgot the plugin's own expiry timer.
 */
function queueOptions(state: SessionState): QueueDeclareOptions {
  if (!state.durableQueues) return EXCLUSIVE;
  if (state.expirySeconds === NEVER_EXPIRES) return DURABLE;
  // devices of one fleet share an expiry: one options object for all of them, not two per session
  if (lastExpiring.expiry !== state.expirySeconds) lastExpiring = { expiry: state.expirySeconds, options: Object.freeze({ durable: true, arguments: Object.freeze({ 'x-expires': state.expirySeconds * 1000 }) }) };
  return lastExpiring.options;
}
const EXCLUSIVE: QueueDeclareOptions = Object.freeze({ exclusive: true });
const DURABLE: QueueDeclareOptions = Object.freeze({ durable: true });
let lastExpiring: { expiry: number; options: QueueDeclareOptions } = { expiry: -1, options: DURABLE };

/**
 * The largest packet accepted after CONNECT: mqtt.max_packet_size_authenticated, and no more
 * than the broker-wide max_message_size (RabbitMQ refuses to start unless the first is at most
 * the second; here the lower one wins). A larger PUBLISH ends the connection: DISCONNECT 0x95
 * Packet too large in 5.0 (advertised as Maximum Packet Size in CONNACK), a close in 3.1.1.
 */
function maxPacketSize(c: MqttConnection): number {
  return Math.min(c.ctx.settings.maxPacketSizeAuthenticated, c.ctx.core.maxMessageSize);
}

/** A connection or channel limit (node, vhost or user): a warn line naming it, then the refusal. */
function refuseLimit(c: MqttConnection, e: unknown): void {
  const [v5Code, v3Code] = connectRefusalOf(e);
  const why = (e as Error).message;
  c.log.warn('MQTT connection refused', { reason: why, user: c.user || undefined });
  refuse(c, v5Code, v3Code, why, false);
}

/** A failed login: logged, and refused after auth.failure_delay (MqttConnection.refuseLogin). */
function refuseLogin(c: MqttConnection, user: string, v5Code: number, v3Code: number, why: string): void {
  c.refuseLogin(user, why, () => refuse(c, v5Code, v3Code, why, false));
}

/** CONNACK with a refusal, then close (MQTT-3.2.2-5 / MQTT 5 §3.2.2.2: a code ≥ 0x80 closes the connection). */
function refuse(c: MqttConnection, v5Code: number, v3Code: number, why: string, log = true): void {
  if (log) c.log.info('MQTT connection refused', { reason: why });
  if (c.version === 5) c.send({ cmd: 'connack', sessionPresent: false, reasonCode: v5Code, properties: { reasonString: why.slice(0, 200) } });
  else c.send({ cmd: 'connack', sessionPresent: false, returnCode: v3Code });
  c.protocolError(v5Code, why);
}
