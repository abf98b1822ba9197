/**
 * MQTTS and MQTT over WSS (mqtt.ssl_enabled, mqtt.wss_enabled) with MQTT.js, certificate login
 * (mqtt.ssl_cert_login, RabbitMQ's), and a message from MQTT over TLS to AMQP over TLS.
 */
import amqp from 'amqplib';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateCerts, type TestCerts } from './certs.js';
import { startTlsBroker, type TlsTestBroker } from './broker.js';

let certs: TestCerts;
let b: TlsTestBroker;
const clients: MqttClient[] = [];

beforeAll(async () => {
  certs = generateCerts(['alice', 'nobody-here']);
  b = await startTlsBroker(
    certs,
    {
      mqtt: { port: 0, wsPort: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0, wssEnabled: true, wssPort: 0, sslCertLogin: true },
      amqp: { port: 0, host: '127.0.0.1', sslEnabled: true, sslPort: 0 },
    },
    ['alice'],
  );
});
afterAll(async () => {
  await b?.stop();
  certs?.remove();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
});

async function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 10_000, ca: [certs.ca], ...options });
  clients.push(c);
  return c;
}

async function roundTrip(c: MqttClient, topic: string): Promise<string> {
  await c.subscribeAsync(topic, { qos: 1 });
  const got = new Promise<string>((resolve) => c.on('message', (t, payload) => t === topic && resolve(payload.toString())));
  await c.publishAsync(topic, 'over tls', { qos: 1 });
  return got;
}

/** the user the broker logged the MQTT client in as (its connection is named after the client id) */
function userOf(clientId: string): string | undefined {
  return [...b.broker.core.connections.values()].find((x) => x.info.name === clientId)?.info.user;
}

describe('MQTT over TLS', () => {
  it('mqtts:// with a password: publish and receive', async () => {
    const c = await connect(`mqtts://127.0.0.1:${b.port('mqtts')}`, { username: 'guest', password: 'guest', clientId: 'tls-pw' });
    expect(await roundTrip(c, 'tls/pw')).toBe('over tls');
  });

  it('wss:// with a password: publish and receive', async () => {
    const c = await connect(`wss://127.0.0.1:${b.port('mqtt-wss')}/ws`, { username: 'guest', password: 'guest', clientId: 'tls-wss' });
    expect(await roundTrip(c, 'tls/wss')).toBe('over tls');
  });

  it('ssl_cert_login over mqtts://: no user name, logged in as the certificate CN', async () => {
    const alice = certs.clients['alice']!;
    const c = await connect(`mqtts://127.0.0.1:${b.port('mqtts')}`, { cert: alice.cert, key: alice.key, clientId: 'tls-cert' });
    expect(await roundTrip(c, 'tls/cert')).toBe('over tls');
    expect(userOf('tls-cert')).toBe('alice');
  });

  it('ssl_cert_login over wss://', async () => {
    const alice = certs.clients['alice']!;
    const c = await connect(`wss://127.0.0.1:${b.port('mqtt-wss')}/ws`, { cert: alice.cert, key: alice.key, clientId: 'tls-wss-cert' });
    expect(await roundTrip(c, 'tls/wss-cert')).toBe('over tls');
    expect(userOf('tls-wss-cert')).toBe('alice');
  });

  it('a user name given wins over the certificate (it is checked with its password)', async () => {
    const alice = certs.clients['alice']!;
    const c = await connect(`mqtts://127.0.0.1:${b.port('mqtts')}`, { cert: alice.cert, key: alice.key, username: 'guest', password: 'guest', clientId: 'tls-both' });
    expect(await roundTrip(c, 'tls/both')).toBe('over tls');
    expect(userOf('tls-both')).toBe('guest');
  });

  it('a certificate whose CN is no user is refused', async () => {
    const nobody = certs.clients['nobody-here']!;
    const err = await connect(`mqtts://127.0.0.1:${b.port('mqtts')}`, { cert: nobody.cert, key: nobody.key, clientId: 'tls-nobody', protocolVersion: 5 }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/Bad User Name or Password|Not authorized/i);
  });

  it('plain mqtt:// has no certificate: anonymous login is the default user, not a CN', async () => {
    const c = await connect(`mqtt://127.0.0.1:${b.port('mqtt')}`, { clientId: 'plain-anon' });
    expect(await roundTrip(c, 'plain/anon')).toBe('over tls');
    expect(userOf('plain-anon')).toBe('guest');
  });

  it('cross-protocol over TLS: MQTTS publish (certificate login) reaches an AMQPS consumer (EXTERNAL)', async () => {
    const alice = certs.clients['alice']!;
    const conn = await amqp.connect(`amqps://127.0.0.1:${b.port('amqps')}`, { ca: [certs.ca], cert: alice.cert, key: alice.key, credentials: amqp.credentials.external() });
    try {
      const ch = await conn.createChannel();
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(queue, 'amq.topic', 'sensors.t1');
      const got = new Promise<string>((resolve) => void ch.consume(queue, (m) => m && resolve(m.content.toString()), { noAck: true }));
      const c = await connect(`mqtts://127.0.0.1:${b.port('mqtts')}`, { cert: alice.cert, key: alice.key, clientId: 'tls-cross' });
      await c.publishAsync('sensors/t1', '21.5', { qos: 1 });
      expect(await got).toBe('21.5');
    } finally {
      await conn.close();
    }
  });
});
