/**
 * The pieces of certificate login that need no socket: the DN format of ssl_cert_login_from =
 * distinguished_name, the passwordless login of a verified name (loopback rule included),
 * and ssl_options.versions; then EXTERNAL with a distinguished name end to end.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserStore } from '../../src/auth/users.js';
import { distinguishedName } from '../../src/tls/peer-identity.js';
import { versionRange } from '../../src/tls/settings.js';
import { generateCerts, type TestCerts } from './certs.js';
import { startTlsBroker, type TlsTestBroker } from './broker.js';

describe('distinguished names (RFC 4514 order and escaping)', () => {
  it('most specific first, comma-separated', () => {
    expect(distinguishedName('C=FR\nO=Warren tests\nCN=alice')).toBe('CN=alice,O=Warren tests,C=FR');
  });
  it('escapes the special characters of a value', () => {
    expect(distinguishedName('O=Acme, Inc.\nCN=a+b')).toBe('CN=a\\+b,O=Acme\\, Inc.');
  });
  it('an empty subject names nobody', () => {
    expect(distinguishedName('')).toBeNull();
  });
});

describe('UserStore.loginVerified', () => {
  const users = new UserStore(['guest']);
  users.add('guest', 'guest');
  users.add('alice', 'secret');
  users.add('cert-only', ''); // no password login at all, certificate login still possible

  it('an existing user, no password needed', () => {
    expect(users.loginVerified('alice', '10.0.0.7')).toEqual({ ok: true, user: 'alice' });
    expect(users.loginVerified('cert-only', '10.0.0.7')).toEqual({ ok: true, user: 'cert-only' });
    expect(users.login('cert-only', '', '127.0.0.1').ok).toBe(false);
  });
  it('an unknown user is refused', () => {
    const r = users.loginVerified('mallory', '127.0.0.1');
    expect(r.ok).toBe(false);
  });
  it('loopback-only users stay loopback-only', () => {
    expect(users.loginVerified('guest', '10.0.0.7')).toEqual({ ok: false, reason: "user 'guest' can only connect via localhost", loopbackOnly: true });
    expect(users.loginVerified('guest', '::ffff:127.0.0.1').ok).toBe(true);
  });
});

describe('ssl_options.versions', () => {
  it('the range of the versions named', () => {
    expect(versionRange(['tlsv1.3', 'tlsv1.2'])).toEqual({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    expect(versionRange(['tlsv1.3'])).toEqual({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
  });
  it('refuses an empty list and old versions', () => {
    expect(() => versionRange([])).toThrow(/at least one/);
    expect(() => versionRange(['tlsv1'])).toThrow(/unsupported TLS version 'tlsv1'/);
  });
});

describe('EXTERNAL with ssl_cert_login_from = distinguished_name', () => {
  let certs: TestCerts;
  let b: TlsTestBroker;
  const dn = 'CN=alice,O=Warren tests,C=FR';
  beforeAll(async () => {
    certs = generateCerts(['alice']);
    b = await startTlsBroker(certs, { sslCertLoginFrom: 'distinguished_name', amqp: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 } }, [dn, 'alice']);
  });
  afterAll(async () => {
    await b?.stop();
    certs?.remove();
  });

  it('logs in as the whole subject, not the CN', async () => {
    const alice = certs.clients['alice']!;
    const conn = await amqp.connect(`amqps://127.0.0.1:${b.port('amqps')}`, { ca: [certs.ca], cert: alice.cert, key: alice.key, credentials: amqp.credentials.external() });
    try {
      const users = [...b.broker.core.connections.values()].map((c) => c.info.user);
      expect(users).toEqual([dn]);
    } finally {
      await conn.close();
    }
  });
});
