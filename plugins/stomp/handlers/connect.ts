/**
 * CONNECT / STOMP (STOMP 1.2 "Connecting"): version negotiation, login against Warren's
 * users, the `host` header as virtual host, heart-beat agreement, then CONNECTED.
 */
import { SUPPORTED_VERSIONS, type StompFrame, type StompVersion } from '../frame.js';
import { StompError } from '../errors.js';
import { negotiateHeartbeat } from '../heartbeat.js';
import { SERVER_HEADER } from '../settings.js';
import type { StompConnection } from '../connection.js';
import { type CoreConnection, isBrokerError } from '../../../src/core/index.js';

export function handleConnect(c: StompConnection, frame: StompFrame): void {
  if (c.isOpen) throw new StompError('Already connected', `${frame.command} may be sent only once per connection`);
  const version = negotiateVersion(frame.headers['accept-version']);
  const h = version === '1.0' ? trimmed(frame.headers) : frame.headers;
  // heart-beating exists from 1.1 on
  const heartbeat = version === '1.0' ? { send: 0, receive: 0 } : negotiateHeartbeat(h['heart-beat'], c.settings.minHeartbeat);

  // RabbitMQ: without login/passcode the configured default user is used
  let user = h['login'];
  let pass = h['passcode'] ?? '';
  // RabbitMQ stomp.ssl_cert_login: no login/passcode and a verified TLS certificate: the
  // certificate's CN, with no password, before the default user
  const certName = c.settings.sslCertLogin && c.certName !== null && user === undefined && h['passcode'] === undefined ? c.certName : null;
  if (certName !== null) user = certName;
  // login failures are RabbitMQ's "Bad CONNECT" (clients and people searching know that text)
  if (user === undefined) {
    if (c.settings.defaultUser === '') throw new StompError('Bad CONNECT', 'login and passcode headers are required');
    user = c.settings.defaultUser;
    pass = c.settings.defaultPass;
  }
  const peerHost = c.transport.peerHost;
  const login = certName !== null ? c.core.loginVerified(certName, peerHost) : c.core.login(user, pass, peerHost);
  const receipt = frame.headers['receipt'];
  if (!login.ok) {
    return c.refuseLogin(user, login.reason, new StompError('Bad CONNECT', `Access refused for user '${user}': ${login.reason}`), receipt);
  }

  const vhost = vhostOf(c, h['host']);
  // no such vhost or no permissions there: a failed login too; what connect refuses after this is a limit
  const noAccess = c.core.vhostAccessError(login.user, vhost);
  if (noAccess) {
    return c.refuseLogin(login.user, noAccess.message, new StompError('Bad CONNECT', `Virtual host '${vhost}' access denied: ${noAccess.message}`), receipt);
  }
  let coreConnection: CoreConnection;
  try {
    coreConnection = c.core.connect({
      protocol: `stomp-${version}`,
      vhost,
      user: login.user,
      peerHost,
      peerPort: c.transport.peerPort,
      name: `${peerHost}:${c.transport.peerPort}`,
      traffic: c.transport.traffic,
    });
  } catch (e) {
    if (!isBrokerError(e)) throw e;
    // the vhost exists and the user may use it: what the core refused is a connection limit (node, vhost or user)
    c.log.warn('STOMP connection refused', { reason: e.message, peer: `${peerHost}:${c.transport.peerPort}`, user: login.user });
    throw new StompError('Bad CONNECT', e.message);
  }
  c.opened(version, coreConnection, heartbeat);

  const headers: [string, string][] = [
    ['version', version],
    ['session', `session-${c.number}`],
    ['server', SERVER_HEADER],
  ];
  if (version !== '1.0') headers.push(['heart-beat', `${heartbeat.send},${heartbeat.receive}`]);
  c.send('CONNECTED', headers);
}

/**
 * The vhost a CONNECT asks for. STOMP 1.2 ("CONNECT or STOMP Frame") says `host` is "the name
 * of a virtual host", and recommends clients set it to the host name they connected to, which
 * is what stomp.py and several Java clients send (`host:127.0.0.1`). RabbitMQ takes any value
 * as a vhost name and refuses the CONNECT when there is no such vhost; here a header naming an
 * existing vhost selects it, and one that names none (or its absence) means
 * `stomp.default_vhost` — unless `stomp.host_must_name_vhost` asks for RabbitMQ's refusal.
 */
function vhostOf(c: StompConnection, host: string | undefined): string {
  if (host === undefined || c.settings.hostMustNameVhost || c.core.hasVhost(host)) return host ?? c.settings.defaultVhost;
  if (c.log.enabled('debug')) c.log.debug('STOMP host header names no vhost: default vhost used', { host, vhost: c.settings.defaultVhost });
  return c.settings.defaultVhost;
}

/**
 * The highest version both sides speak; no `accept-version` means 1.0 (STOMP 1.2
 * "Protocol Negotiation"). None in common: ERROR (its `version` header lists ours).
 */
export function negotiateVersion(header: string | undefined): StompVersion {
  if (header === undefined) return '1.0';
  const offered = header.split(',').map((v) => v.trim());
  for (let i = SUPPORTED_VERSIONS.length - 1; i >= 0; i--) {
    if (offered.includes(SUPPORTED_VERSIONS[i]!)) return SUPPORTED_VERSIONS[i]!;
  }
  throw new StompError('Version mismatch', `Supported protocol versions are ${SUPPORTED_VERSIONS.join(',')}; the client accepts ${header}`);
}

/** 1.0 clients write `name: value`; RabbitMQ trims leading blanks of 1.0 header values. */
function trimmed(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const k in headers) out[k] = headers[k]!.trimStart();
  return out;
}
