/**
 * AMQPS (amqp.ssl_enabled): amqplib over TLS with password and EXTERNAL logins, and what the
 * TLS layer refuses. RabbitMQ's references: rabbitmq.com/docs/ssl, rabbitmq_auth_mechanism_ssl.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCerts, type TestCerts } from './certs.js';
import { startTlsBroker, type TlsTestBroker } from './broker.js';

let certs: TestCerts;
beforeAll(() => {
  certs = generateCerts(['alice', 'nobody-here']);
});
afterAll(() => certs?.remove());

async function roundTrip(conn: amqp.ChannelModel): Promise<string> {
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  const got = new Promise<string>((resolve) => void ch.consume(queue, (m) => m && resolve(m.content.toString()), { noAck: true }));
  ch.sendToQueue(queue, Buffer.from('over tls'));
  return got;
}

describe('AMQPS, verify_peer without fail_if_no_peer_cert', () => {
  let b: TlsTestBroker;
  let url: string;
  beforeAll(async () => {
    b = await startTlsBroker(certs, { amqp: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 } }, ['alice']);
    url = `amqps://127.0.0.1:${b.port('amqps')}`;
  });
  afterAll(() => b?.stop());

  it('listens on its own port beside plain AMQP', () => {
    expect(b.port('amqps')).toBeGreaterThan(0);
    expect(b.port('amqps')).not.toBe(b.port('amqp'));
  });

  it('password login over TLS without a client certificate: publish and consume', async () => {
    const conn = await amqp.connect(`amqps://guest:guest@127.0.0.1:${b.port('amqps')}`, { ca: [certs.ca] });
    try {
      expect(await roundTrip(conn)).toBe('over tls');
    } finally {
      await conn.close();
    }
  });

  it('EXTERNAL with a verified client certificate logs in as its CN', async () => {
    const alice = certs.clients['alice']!;
    const conn = await amqp.connect(url, { ca: [certs.ca], cert: alice.cert, key: alice.key, credentials: amqp.credentials.external() });
    try {
      expect(await roundTrip(conn)).toBe('over tls');
      const users = [...b.broker.core.connections.values()].map((c) => c.info.user);
      expect(users).toContain('alice');
    } finally {
      await conn.close();
    }
  });

  it('EXTERNAL for a CN that is no user: 403 ACCESS_REFUSED', async () => {
    const nobody = certs.clients['nobody-here']!;
    const err = await amqp.connect(url, { ca: [certs.ca], cert: nobody.cert, key: nobody.key, credentials: amqp.credentials.external() }).then(
      (c) => c.close().then(() => null),
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/ACCESS_REFUSED/);
    expect(err!.message).toMatch(/EXTERNAL/);
  });

  it('EXTERNAL is not offered without a client certificate', async () => {
    const err = await amqp.connect(url, { ca: [certs.ca], credentials: amqp.credentials.external() }).then(
      (c) => c.close().then(() => null),
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/EXTERNAL.*not provided by the server/);
  });

  it('EXTERNAL is not offered on the plain TCP listener', async () => {
    const err = await amqp.connect(`amqp://127.0.0.1:${b.port('amqp')}`, { credentials: amqp.credentials.external() }).then(
      (c) => c.close().then(() => null),
      (e: Error) => e,
    );
    expect(err!.message).toMatch(/EXTERNAL.*not provided by the server/);
  });

  it('a certificate from a CA the broker does not trust is refused during the handshake', async () => {
    const rogue = certs.untrusted;
    const err = await amqp.connect(url, { ca: [certs.ca], cert: rogue.cert, key: rogue.key, credentials: amqp.credentials.external() }).then(
      (c) => c.close().then(() => null),
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    // and plain AMQP still works
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${b.port('amqp')}`);
    await conn.close();
  });
});

describe('AMQPS with fail_if_no_peer_cert', () => {
  let b: TlsTestBroker;
  beforeAll(async () => {
    b = await startTlsBroker(certs, { sslOptions: { failIfNoPeerCert: true }, amqp: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 } }, ['alice']);
  });
  afterAll(() => b?.stop());

  it('refuses a client without a certificate', async () => {
    const err = await amqp.connect(`amqps://guest:guest@127.0.0.1:${b.port('amqps')}`, { ca: [certs.ca] }).then(
      (c) => c.close().then(() => null),
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
  });

  it('accepts one with a certificate (EXTERNAL)', async () => {
    const alice = certs.clients['alice']!;
    const conn = await amqp.connect(`amqps://127.0.0.1:${b.port('amqps')}`, { ca: [certs.ca], cert: alice.cert, key: alice.key, credentials: amqp.credentials.external() });
    try {
      expect(await roundTrip(conn)).toBe('over tls');
    } finally {
      await conn.close();
    }
  });
});

describe('AMQPS with verify_none', () => {
  let b: TlsTestBroker;
  beforeAll(async () => {
    b = await startTlsBroker(certs, { sslOptions: { verify: 'verify_none' }, amqp: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 } });
  });
  afterAll(() => b?.stop());

  it('asks for no certificate, so EXTERNAL is never offered', async () => {
    const alice = certs.clients['alice']!;
    const err = await amqp.connect(`amqps://127.0.0.1:${b.port('amqps')}`, { ca: [certs.ca], cert: alice.cert, key: alice.key, credentials: amqp.credentials.external() }).then(
      (c) => c.close().then(() => null),
      (e: Error) => e,
    );
    expect(err!.message).toMatch(/EXTERNAL.*not provided by the server/);
    const conn = await amqp.connect(`amqps://guest:guest@127.0.0.1:${b.port('amqps')}`, { ca: [certs.ca] });
    await conn.close();
  });
});

describe('TLS configuration errors', () => {
  it('an AMQPS listener without certfile/keyfile fails the start, naming the keys', async () => {
    await expect(
      startTlsBroker(certs, { sslOptions: { certfile: '' }, amqp: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 } }),
    ).rejects.toThrow(/ssl_options\.certfile/);
  });

  it('an unreadable certificate file fails the start, naming the key and the file', async () => {
    await expect(
      startTlsBroker(certs, { sslOptions: { keyfile: '/nonexistent/key.pem' }, amqp: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 } }),
    ).rejects.toThrow(/ssl_options\.keyfile \/nonexistent\/key\.pem/);
  });

  it('an encrypted key with ssl_options.password serves; a wrong password fails the start, naming the keys', async () => {
    const encrypted = join(certs.dir, 'server-encrypted.key');
    execFileSync('openssl', ['pkey', '-in', certs.serverKeyFile, '-aes256', '-passout', 'pass:s3cret', '-out', encrypted]);
    const b = await startTlsBroker(certs, { sslOptions: { keyfile: encrypted, password: 's3cret' }, amqp: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 } });
    try {
      const conn = await amqp.connect(`amqps://guest:guest@127.0.0.1:${b.port('amqps')}`, { ca: [certs.ca] });
      await conn.close();
    } finally {
      await b.stop();
    }
    await expect(
      startTlsBroker(certs, { sslOptions: { keyfile: encrypted, password: 'wrong' }, amqp: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 } }),
    ).rejects.toThrow(/ssl_options: cannot use certfile .* with keyfile .*server-encrypted\.key/);
  });

  it('a key that is not the certificate\'s fails the start', async () => {
    await expect(
      startTlsBroker(certs, { sslOptions: { keyfile: certs.clients['alice']!.keyFile }, amqp: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 } }),
    ).rejects.toThrow(/ssl_options: cannot use certfile/);
  });

  it('an unsupported TLS version is a configuration error', async () => {
    await expect(
      startTlsBroker(certs, { sslOptions: { versions: ['tlsv1.1'] }, amqp: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 } }),
    ).rejects.toThrow(/unsupported TLS version 'tlsv1.1'/);
  });
});
