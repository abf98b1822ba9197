/**
 * The broker-wide TLS settings, as RabbitMQ names them (`ssl_options.*`,
 * `ssl_cert_login_from`), and their translation into Node's `tls` server options.
 *
 * One set of files serves every TLS listener (AMQPS, MQTTS, STOMP over TLS, WSS, HTTPS):
 * what an operator of a single RabbitMQ node usually writes once under `ssl_options`.
 * The files are read when the first TLS listener starts, so a broker without one never
 * touches them, and a missing or unreadable file stops that start with its key named.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureVersion, type TlsOptions } from 'node:tls';
import { ConfigError } from '../config/schema.js';

export type PeerVerification = 'verify_none' | 'verify_peer';
export type CertLoginFrom = 'common_name' | 'distinguished_name';

export interface TlsSettings {
  /** absolute paths, or '' when not set */
  certfile: string;
  keyfile: string;
  cacertfile: string;
  /** passphrase of an encrypted keyfile; '' for none */
  password: string;
  verify: PeerVerification;
  failIfNoPeerCert: boolean;
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  certLoginFrom: CertLoginFrom;
}

/** No files: a TLS listener cannot start (for a plugin host built without a configuration). */
export const DEFAULT_TLS_SETTINGS: TlsSettings = Object.freeze({
  certfile: '',
  keyfile: '',
  cacertfile: '',
  password: '',
  verify: 'verify_none',
  failIfNoPeerCert: false,
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  certLoginFrom: 'common_name',
});

/** RabbitMQ's (Erlang's) version names; older versions are not offered (Node disables them). */
const VERSIONS: Record<string, SecureVersion> = { 'tlsv1.2': 'TLSv1.2', 'tlsv1.3': 'TLSv1.3' };
const ORDER: SecureVersion[] = ['TLSv1.2', 'TLSv1.3'];

/** `ssl_options.versions` → the lowest and highest version accepted. */
export function versionRange(names: readonly string[], source = 'ssl_options.versions'): { minVersion: SecureVersion; maxVersion: SecureVersion } {
  if (names.length === 0) throw new ConfigError(`${source}: name at least one TLS version (tlsv1.2, tlsv1.3)`);
  const picked = names.map((n) => {
    const v = VERSIONS[n.trim().toLowerCase()];
    if (!v) throw new ConfigError(`${source}: unsupported TLS version '${n}' (supported: tlsv1.2, tlsv1.3)`);
    return ORDER.indexOf(v);
  });
  return { minVersion: ORDER[Math.min(...picked)]!, maxVersion: ORDER[Math.max(...picked)]! };
}

/**
 * Options for `tls.createServer` / `https.createServer`, reading the files now.
 *
 * verify_peer: Node asks for a certificate (requestCert). With fail_if_no_peer_cert the
 * handshake itself fails without a valid one (rejectUnauthorized); without it the handshake
 * completes and `tls-server.ts` refuses a presented certificate that does not verify, as
 * Erlang's ssl does — a client may come without one and log in with a password.
 */
export function serverOptions(s: TlsSettings): TlsOptions {
  if (s.certfile === '' || s.keyfile === '') {
    throw new ConfigError('a TLS listener is enabled but ssl_options.certfile and ssl_options.keyfile are not both set');
  }
  const options: TlsOptions = {
    cert: readPem(s.certfile, 'ssl_options.certfile'),
    key: readPem(s.keyfile, 'ssl_options.keyfile'),
    minVersion: s.minVersion,
    maxVersion: s.maxVersion,
    requestCert: s.verify === 'verify_peer',
    rejectUnauthorized: s.verify === 'verify_peer' && s.failIfNoPeerCert,
  };
  if (s.password !== '') options.passphrase = s.password;
  if (s.cacertfile !== '') options.ca = readPem(s.cacertfile, 'ssl_options.cacertfile');
  // built once here so that a wrong passphrase, a key that does not match the certificate or a
  // file that is not PEM stops the start with the keys named, not with a bare OpenSSL error
  try {
    createSecureContext(options);
  } catch (e) {
    throw new ConfigError(`ssl_options: cannot use certfile ${s.certfile} with keyfile ${s.keyfile}${s.cacertfile ? ` and cacertfile ${s.cacertfile}` : ''} (is ssl_options.password right?): ${(e as Error).message}`);
  }
  return options;
}

function readPem(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(`cannot read ${key} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
