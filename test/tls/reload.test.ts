/**
 * Renewed certificates without a restart (Broker.reloadTls; `warren start` on SIGHUP): new
 * connections get the new certificate on every TLS listener, open ones carry on, and files
 * that cannot be used change nothing.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCerts, renewServerCert, type TestCerts } from './certs.js';
import { startTlsBroker, type TlsTestBroker } from './broker.js';

let certs: TestCerts;
let b: TlsTestBroker;

beforeAll(async () => {
  certs = generateCerts([]);
  b = await startTlsBroker(certs, {
    amqp: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 },
    management: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 },
  });
});
afterAll(async () => {
  await b?.stop();
  certs?.remove();
});

/** The fingerprint of the certificate the listener presents to a new connection. */
function servedFingerprint(listener: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: b.port(listener), ca: [certs.ca] }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

describe('reloading TLS certificate files', () => {
  it('new connections on every TLS listener get the renewed certificate; open ones carry on', async () => {
    const before = await servedFingerprint('amqps');
    expect(await servedFingerprint('management-https')).toBe(before);
    const open = await amqp.connect(`amqps://guest:guest@127.0.0.1:${b.port('amqps')}`, { ca: [certs.ca] });
    try {
      renewServerCert(certs);
      expect(b.broker.reloadTls()).toBe(2);
      const after = await servedFingerprint('amqps');
      expect(after).not.toBe(before);
      expect(await servedFingerprint('management-https')).toBe(after);
      const ch = await open.createChannel();
      await ch.checkQueue((await ch.assertQueue('', { exclusive: true })).queue);
    } finally {
      await open.close();
    }
  });

  it('a file that cannot be used changes nothing', async () => {
    const current = await servedFingerprint('amqps');
    const saved = `${certs.serverKeyFile}.saved`;
    copyFileSync(certs.serverKeyFile, saved);
    try {
      writeFileSync(certs.serverKeyFile, 'not a key\n');
      expect(() => b.broker.reloadTls()).toThrow(/ssl_options: cannot use certfile/);
      expect(await servedFingerprint('amqps')).toBe(current);
    } finally {
      copyFileSync(saved, certs.serverKeyFile);
    }
  });
});
