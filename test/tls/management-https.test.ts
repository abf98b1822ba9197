/**
 * The management API over HTTPS (management.ssl_enabled, RabbitMQ management.ssl.port).
 */
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCerts, type TestCerts } from './certs.js';
import { startTlsBroker, type TlsTestBroker } from './broker.js';

let certs: TestCerts;
let b: TlsTestBroker;

beforeAll(async () => {
  certs = generateCerts([]);
  b = await startTlsBroker(certs, { management: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 } });
});
afterAll(async () => {
  await b?.stop();
  certs?.remove();
});

function get(path: string, auth?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = auth ? { authorization: 'Basic ' + Buffer.from(auth).toString('base64') } : {};
    const req = request({ host: '127.0.0.1', port: b.port('management-https'), path, ca: [certs.ca], headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('management over HTTPS', () => {
  it('GET /api/overview with basic auth, and the HTTPS listener in its listeners', async () => {
    const r = await get('/api/overview', 'guest:guest');
    expect(r.status).toBe(200);
    const overview = JSON.parse(r.body) as { listeners: { protocol: string; port: number }[] };
    expect(overview.listeners).toContainEqual(expect.objectContaining({ protocol: 'https', port: b.port('management-https') }));
    expect(overview.listeners).toContainEqual(expect.objectContaining({ protocol: 'http', port: b.port('management') }));
  });

  it('wrong credentials over HTTPS: 401', async () => {
    const r = await get('/api/overview', 'guest:wrong');
    expect(r.status).toBe(401);
  });

  it('a client certificate from an unknown CA is refused (verify_peer), and the API goes on', async () => {
    const err = await new Promise<Error | null>((resolve) => {
      const req = request(
        { host: '127.0.0.1', port: b.port('management-https'), path: '/api/overview', ca: [certs.ca], cert: certs.untrusted.cert, key: certs.untrusted.key, headers: { authorization: 'Basic ' + Buffer.from('guest:guest').toString('base64') } },
        (res) => {
          res.resume();
          resolve(null);
        },
      );
      req.on('error', (e) => resolve(e));
      req.end();
    });
    expect(err).toBeInstanceOf(Error);
    expect((await get('/api/overview', 'guest:guest')).status).toBe(200);
  });

  it('a client that does not trust the CA fails the handshake', async () => {
    const err = await new Promise<Error | null>((resolve) => {
      const req = request({ host: '127.0.0.1', port: b.port('management-https'), path: '/api/overview' }, () => resolve(null));
      req.on('error', (e) => resolve(e));
      req.end();
    });
    expect(err?.message).toMatch(/self.signed|unable to (get|verify)/i);
  });
});
