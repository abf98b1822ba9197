/**
 * connection.* on channel 0 (AMQP 0-9-1 class 10): the handshake and what may follow it.
 *
 *   S: start (server properties, mechanisms)   C: start-ok (client properties, credentials)
 *   S: tune (channel-max, frame-max, heartbeat) C: tune-ok (the values it accepts)
 *   C: open (vhost)                             S: open-ok
 *   then: close / close-ok either way, update-secret from the client, blocked/unblocked
 *   from the broker.
 */
import type { AmqpSettings } from '../settings.js';
import { decodeFieldTable, type FieldTable, type FieldValue } from '../../../src/codec/index.js';
import { type LoginResult, isBrokerError } from '../../../src/core/index.js';
import { FRAME_MIN_SIZE } from '../codec/constants.js';
import { M, encodeMethodFrame, type AmqpMethod, type MethodOf } from '../codec/methods.js';
import type { AmqpConnection } from '../connection.js';
import { channelError, commandInvalid, notAllowed } from '../errors.js';

const VERSION = '0.1.0';
const MECHANISMS = Buffer.from('PLAIN AMQPLAIN');
/**
 * To a TLS client whose certificate verified: EXTERNAL too (RabbitMQ's
 * rabbitmq_auth_mechanism_ssl; SASL EXTERNAL, RFC 4422 appendix A — the identity is the one
 * the transport established, the response is ignored).
 */
const MECHANISMS_WITH_EXTERNAL = Buffer.from('PLAIN AMQPLAIN EXTERNAL');
const LOCALES = Buffer.from('en_US');

/**
 * What the broker announces in connection.start (RabbitMQ's keys, so clients recognise them).
 * Product and version are settings, as RabbitMQ's `server_properties` are: some clients choose
 * behaviour by them (kombu reads basic.qos's global flag RabbitMQ's way only for product
 * "RabbitMQ" at version 3.3 or later), and client suites assert them.
 */
function serverProperties(product: string, version: string): FieldTable {
  return {
    product,
    version: version === '' ? VERSION : version,
    platform: `Node.js ${process.version}`,
    information: 'Warren, a multi-protocol message broker',
    capabilities: {
      publisher_confirms: true,
      exchange_exchange_bindings: true,
      'basic.nack': true,
      consumer_cancel_notify: true,
      'connection.blocked': true,
      consumer_priorities: true,
      authentication_failure_close: true,
      per_consumer_qos: true,
      direct_reply_to: true,
    },
  };
}

/** one table per settings object (a listener's connections share theirs) */
const announced = new WeakMap<AmqpSettings, FieldTable>();

function serverPropertiesFor(settings: AmqpSettings): FieldTable {
  let t = announced.get(settings);
  if (t === undefined) {
    t = serverProperties(settings.serverProduct, settings.serverVersion);
    announced.set(settings, t);
  }
  return t;
}

export function sendStart(conn: AmqpConnection): void {
  conn.writer.write(
    encodeMethodFrame(0, { id: M.connectionStart, versionMajor: 0, versionMinor: 9, serverProperties: serverPropertiesFor(conn.settings), mechanisms: conn.certName !== null ? MECHANISMS_WITH_EXTERNAL : MECHANISMS, locales: LOCALES }),
  );
}

/** A method on channel 0, in the connection's current state. */
export function handleConnectionMethod(conn: AmqpConnection, m: AmqpMethod): void {
  if (m.id === M.connectionClose) {
    conn.closeByClient();
    return;
  }
  switch (conn.state) {
    case 'starting':
      if (m.id === M.connectionStartOk) return startOk(conn, m);
      break;
    case 'tuning':
      if (m.id === M.connectionTuneOk) return tuneOk(conn, m);
      break;
    case 'opening':
      if (m.id === M.connectionOpen) return open(conn, m);
      break;
    case 'running':
      if (m.id === M.connectionUpdateSecret) return updateSecret(conn, m);
      break;
  }
  // RabbitMQ's answer to a method out of place on channel 0
  throw channelError(`unexpected method in connection state ${conn.state}`);
}

function startOk(conn: AmqpConnection, m: MethodOf<'connectionStartOk'>): void {
  conn.clientProperties = m.clientProperties;
  const caps = m.clientProperties.capabilities;
  if (isTable(caps)) {
    conn.capabilities = {
      consumerCancelNotify: caps.consumer_cancel_notify === true,
      authenticationFailureClose: caps.authentication_failure_close === true,
      connectionBlocked: caps['connection.blocked'] === true,
    };
  }
  let result: LoginResult;
  let user = '';
  if (m.mechanism === 'EXTERNAL' && conn.certName !== null) {
    // the certificate is the credential: no password, but the user must exist
    user = conn.certName;
    result = conn.core.loginVerified(user, conn.peerHost);
  } else {
    // EXTERNAL without a verified certificate was not offered: an unknown mechanism, as in RabbitMQ
    const credentials = parseCredentials(m.mechanism, m.response);
    if (credentials === undefined) throw commandInvalid(`unknown authentication mechanism '${m.mechanism}'`);
    result = credentials === null ? { ok: false as const, reason: 'malformed credentials' } : conn.core.login(credentials.user, credentials.password, conn.peerHost);
    user = credentials?.user ?? '';
  }
  if (!result.ok) {
    const text = `ACCESS_REFUSED - Login was refused using authentication mechanism ${m.mechanism}. For details see the broker logfile.`;
    // RabbitMQ sends the close only to clients that can take it (authentication_failure_close)
    conn.refuseLogin(user, `${m.mechanism} login refused: ${result.reason}`, 403, conn.capabilities.authenticationFailureClose ? text : null, 0);
    return;
  }
  conn.user = result.user;
  conn.state = 'tuning';
  const s = conn.settings;
  conn.writer.write(encodeMethodFrame(0, { id: M.connectionTune, channelMax: s.channelMax, frameMax: s.frameMax, heartbeat: s.heartbeat }));
}

/**
 * PLAIN: "authzid \0 user \0 password" (RFC 4616). AMQPLAIN: a field table without its length
 * prefix, LOGIN and PASSWORD. undefined: unknown mechanism; null: unreadable response.
 */
function parseCredentials(mechanism: string, response: Buffer): { user: string; password: string } | null | undefined {
  if (mechanism === 'PLAIN') {
    const parts = response.toString('utf8').split('\0');
    return parts.length === 3 ? { user: parts[1], password: parts[2] } : null;
  }
  if (mechanism === 'AMQPLAIN') {
    let t: FieldTable;
    try {
      t = decodeFieldTable(response, 0, response.length);
    } catch (e) {
      if (isBrokerError(e)) return null;
      throw e;
    }
    return typeof t.LOGIN === 'string' && typeof t.PASSWORD === 'string' ? { user: t.LOGIN, password: t.PASSWORD } : null;
  }
  return undefined;
}

/** The client's answer to tune: 0 means "no limit of mine", so the server's applies. */
function tuneOk(conn: AmqpConnection, m: MethodOf<'connectionTuneOk'>): void {
  const s = conn.settings;
  const frameMax = lowerNonZero(m.frameMax, s.frameMax);
  // AMQP 0-9-1 §4.2.3: frame-min-size is the least any peer must accept (RabbitMQ: 530)
  if (frameMax < FRAME_MIN_SIZE) {
    throw notAllowed(`negotiated frame_max = ${frameMax} is lower than the minimum allowed value (${FRAME_MIN_SIZE})`);
  }
  const channelMax = lowerNonZero(m.channelMax, s.channelMax);
  // the client's heartbeat is final (0 disables it, as amqplib's heartbeat=0 asks)
  conn.tuned(channelMax, frameMax, m.heartbeat);
}

function lowerNonZero(client: number, server: number): number {
  return client === 0 ? server : Math.min(client, server);
}

function open(conn: AmqpConnection, m: MethodOf<'connectionOpen'>): void {
  conn.vhost = m.virtualHost;
  // no such vhost, or no permissions there: a failed login, answered 530 after the pause (rabbit_reader)
  const refused = conn.core.vhostAccessError(conn.user, m.virtualHost);
  if (refused) return conn.refuseLogin(conn.user, refused.message, 530, refused.message, M.connectionOpen);
  const name = conn.clientProperties.connection_name;
  const core = conn.core.connect({
    protocol: 'amqp-0-9-1',
    vhost: m.virtualHost,
    user: conn.user,
    peerHost: conn.peerHost,
    peerPort: conn.peerPort,
    name: typeof name === 'string' ? name : undefined,
    clientProperties: conn.clientProperties,
    traffic: conn.writer.traffic,
  });
  conn.opened(core);
  conn.writer.write(encodeMethodFrame(0, { id: M.connectionOpenOk, knownHosts: '' }));
  if (conn.core.alarms.blocked) notifyBlocked(conn, conn.core.alarms.reason);
  conn.log.info(`user '${conn.user}' authenticated and granted access to vhost '${conn.vhost}'`);
}

/**
 * connection.update-secret: RabbitMQ hands the new secret to the auth backend
 * (rabbit_access_control:update_state); the internal user database keeps no expiring
 * credentials and accepts it as it is (verified against RabbitMQ 3.10: even a wrong password
 * is answered update-secret-ok). Warren's users are that database, so it does the same.
 */
function updateSecret(conn: AmqpConnection, m: MethodOf<'connectionUpdateSecret'>): void {
  conn.log.info(`user '${conn.user}' updated its secret`, { reason: m.reason });
  conn.writer.write(encodeMethodFrame(0, { id: M.connectionUpdateSecretOk }));
}

/**
 * Resource alarms (memory/disk, src/core/alarms.ts): tell clients that asked for it
 * (capability connection.blocked) that publishing is blocked, or unblocked (null); the
 * listener calls this on every alarm change, the handshake once if an alarm is already on.
 */
export function notifyBlocked(conn: AmqpConnection, reason: string | null): void {
  if (!conn.capabilities.connectionBlocked || conn.state !== 'running') return;
  conn.writer.write(encodeMethodFrame(0, reason === null ? { id: M.connectionUnblocked } : { id: M.connectionBlocked, reason }));
}

function isTable(v: FieldValue | undefined): v is FieldTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Date) && v.constructor === Object;
}
