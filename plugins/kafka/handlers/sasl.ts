/**
 * SaslHandshake and SaslAuthenticate (KIP-152: SASL tokens framed as SaslAuthenticate
 * requests) against Warren's users:
 * - PLAIN (RFC 4616): authzid empty or equal to the user; checked against the password hash.
 * - SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, 7677; KIP-84): two SaslAuthenticate rounds
 *   (client-first → server-first, client-final → server-final) against the SCRAM credentials
 *   stored when the user's password was set in clear (src/auth/scram.ts). A user whose
 *   password was only ever given as a hash (imported definitions) has none and fails.
 * A failure is SASL_AUTHENTICATION_FAILED, logged and delayed as every failed login
 * (auth.failure_delay), and the connection is closed after the answer.
 */
import { decodeSaslAuthenticate, decodeSaslHandshake, encodeSaslAuthenticate, encodeSaslHandshake } from '../codec/messages/admin.js';
import { ErrorCode } from '../codec/errors.js';
import type { KafkaConnection } from '../connection.js';
import type { RequestHeader } from '../codec/header.js';
import type { Reader } from '../codec/reader.js';
import { isScramMechanism, SCRAM_MECHANISMS, type ScramServerExchange } from '../../../src/core/index.js';

const MECHANISMS = ['PLAIN', ...SCRAM_MECHANISMS];
const EMPTY = Buffer.alloc(0);

/** a connection's SCRAM exchange between its two rounds */
const exchanges = new WeakMap<KafkaConnection, { exchange: ScramServerExchange; started: boolean }>();

export function handleSaslHandshake(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const mechanism = decodeSaslHandshake(r);
  const known = MECHANISMS.includes(mechanism);
  const ok = known && c.user === null;
  if (ok) {
    c.saslMechanism = mechanism;
    if (isScramMechanism(mechanism)) exchanges.set(c, { exchange: c.core.scramExchange(mechanism), started: false });
  }
  const code = !known ? ErrorCode.UNSUPPORTED_SASL_MECHANISM : ok ? 0 : ErrorCode.ILLEGAL_SASL_STATE;
  c.answer(slot, h, (w) => encodeSaslHandshake(w, code, MECHANISMS));
}

export function handleSaslAuthenticate(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const token = decodeSaslAuthenticate(r);
  const reply = (errorCode: number, errorMessage: string | null, authBytes: Buffer = EMPTY) =>
    c.answer(slot, h, (w) => encodeSaslAuthenticate(w, h.apiVersion, { errorCode, errorMessage, authBytes }));
  const fail = (user: string, reason: string) => {
    c.saslMechanism = null;
    exchanges.delete(c);
    const timer = c.core.loginFailures.refuse({ protocol: 'kafka', peerHost: c.peerHost, peerPort: c.peerPort, user, reason }, () => {
      reply(ErrorCode.SASL_AUTHENTICATION_FAILED, `Authentication failed: invalid credentials for user '${user}'`);
      c.close();
    });
    c.onClose(() => clearTimeout(timer));
  };
  /** the mechanism proved `user`: the loopback rule and vhost access, then authenticated */
  const accept = (user: string, authBytes: Buffer) => {
    const login = c.core.loginVerified(user, c.peerHost);
    if (!login.ok) return fail(user, login.reason);
    const noAccess = c.core.vhostAccessError(login.user, c.broker.settings.vhost);
    if (noAccess) return fail(user, noAccess.message);
    c.saslMechanism = null;
    exchanges.delete(c);
    c.user = login.user;
    reply(0, null, authBytes);
  };

  const mechanism = c.saslMechanism;
  if (mechanism === 'PLAIN') {
    const parts = token.toString('utf8').split('\0');
    const [authzid, user, pass] = parts.length === 3 ? parts : ['', '', ''];
    if (parts.length !== 3 || user === '' || (authzid !== '' && authzid !== user)) return fail(user ?? '', 'malformed PLAIN token');
    const login = c.core.login(user!, pass!, c.peerHost);
    if (!login.ok) return fail(user!, login.reason);
    return accept(login.user, EMPTY);
  }
  const scram = exchanges.get(c);
  if (mechanism === null || scram === undefined) {
    reply(ErrorCode.ILLEGAL_SASL_STATE, 'SaslHandshake first');
    return c.close();
  }
  if (!scram.started) {
    scram.started = true;
    const step = scram.exchange.first(token);
    if (!step.ok) return fail(scram.exchange.user, step.reason);
    return reply(0, null, step.reply);
  }
  const outcome = scram.exchange.final(token);
  if (!outcome.ok) return fail(scram.exchange.user, outcome.reason);
  accept(outcome.user, outcome.reply);
}
