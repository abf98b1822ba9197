/**
 * SaslHandshake and SaslAuthenticate (KIP-152: SASL tokens framed as SaslAuthenticate
 * requests). PLAIN (RFC 4616) against Warren's users: authzid empty or equal to the user.
 * SCRAM needs credentials Warren's password hashes cannot give (README "Left out"), so only
 * PLAIN is offered; a failure is SASL_AUTHENTICATION_FAILED, logged and delayed as every
 * failed login (auth.failure_delay), and the connection is closed after the answer.
 */
import { decodeSaslAuthenticate, decodeSaslHandshake, encodeSaslAuthenticate, encodeSaslHandshake } from '../codec/messages/admin.js';
import { ErrorCode } from '../codec/errors.js';
import type { KafkaConnection } from '../connection.js';
import type { RequestHeader } from '../codec/header.js';
import type { Reader } from '../codec/reader.js';

const MECHANISMS = ['PLAIN'];

export function handleSaslHandshake(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const mechanism = decodeSaslHandshake(r);
  const ok = MECHANISMS.includes(mechanism) && c.user === null;
  if (ok) c.saslMechanism = mechanism;
  const code = !MECHANISMS.includes(mechanism) ? ErrorCode.UNSUPPORTED_SASL_MECHANISM : ok ? 0 : ErrorCode.ILLEGAL_SASL_STATE;
  c.answer(slot, h, (w) => encodeSaslHandshake(w, code, MECHANISMS));
}

export function handleSaslAuthenticate(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const token = decodeSaslAuthenticate(r);
  const reply = (errorCode: number, errorMessage: string | null) =>
    c.answer(slot, h, (w) => encodeSaslAuthenticate(w, h.apiVersion, { errorCode, errorMessage, authBytes: Buffer.alloc(0) }));
  if (c.saslMechanism !== 'PLAIN') {
    reply(ErrorCode.ILLEGAL_SASL_STATE, 'SaslHandshake first');
    return c.close();
  }
  c.saslMechanism = null;
  const parts = token.toString('utf8').split('\0');
  const [authzid, user, pass] = parts.length === 3 ? parts : ['', '', ''];
  const fail = (reason: string) => {
    const timer = c.core.loginFailures.refuse({ protocol: 'kafka', peerHost: c.peerHost, peerPort: c.peerPort, user: user ?? '', reason }, () => {
      reply(ErrorCode.SASL_AUTHENTICATION_FAILED, `Authentication failed: invalid credentials for user '${user}'`);
      c.close();
    });
    c.onClose(() => clearTimeout(timer));
  };
  if (parts.length !== 3 || user === '' || (authzid !== '' && authzid !== user)) return fail('malformed PLAIN token');
  const login = c.core.login(user!, pass!, c.peerHost);
  if (!login.ok) return fail(login.reason);
  const noAccess = c.core.vhostAccessError(login.user, c.broker.settings.vhost);
  if (noAccess) return fail(noAccess.message);
  c.user = login.user;
  reply(0, null);
}
