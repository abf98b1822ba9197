/**
 * SASL SCRAM-SHA-256 and SCRAM-SHA-512 against Warren's users, with kafkajs and kcat
 * (librdkafka): the credentials are derived when a password is set in clear — the configured
 * default user, the management API (as `warren ctl add_user` / `change_password` use it),
 * definitions with a `password` — and survive a restart; a user imported with only a
 * password hash cannot use SCRAM (PLAIN still works). Failures (wrong password, unknown user)
 * are SASL_AUTHENTICATION_FAILED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { importDefinitions } from '../../src/definitions/import-definitions.js';
import { kcat, kcatAvailable } from './kcat-run.js';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';

const haveKcat = kcatAvailable('test/kafka/scram.test.ts');

let b: KafkaTestBroker;
let apiPort = 0;

async function api(method: string, path: string, body?: unknown): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${apiPort}/api${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return res.status;
}

beforeAll(async () => {
  b = await startKafkaBroker({ allow_anonymous: false }, undefined, { management: { port: 0, host: '127.0.0.1' } });
  apiPort = b.broker.address('management').port;
  expect(await api('PUT', '/users/bob', { password: 'b0b-secret', tags: '' })).toBe(201);
  expect(await api('PUT', '/permissions/%2F/bob', { configure: '.*', write: '.*', read: '.*' })).toBe(201);
  await importDefinitions(b.broker.core, {
    users: [
      { name: 'carol', password: 'car0l', tags: '' },
      { name: 'dave', password_hash: hashPassword('d4ve'), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: '' },
    ],
    permissions: [
      { user: 'carol', vhost: '/', configure: '.*', write: '.*', read: '.*' },
      { user: 'dave', vhost: '/', configure: '.*', write: '.*', read: '.*' },
    ],
  });
});
afterAll(() => b?.stop());

type Mechanism = 'scram-sha-256' | 'scram-sha-512' | 'plain';

/** Connect an admin with SASL and list the topics; resolves to 'ok' or the error's text. */
async function tryLogin(mechanism: Mechanism, username: string, password: string): Promise<string> {
  const admin = b.client({ sasl: { mechanism, username, password } as never, retry: { retries: 0 }, connectionTimeout: 5000 }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return 'ok';
  } catch (e) {
    return String((e as Error).message);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

describe('SCRAM with kafkajs', () => {
  for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
    it(`${mechanism}: the default user, a user added through the management API, one imported with a password`, async () => {
      expect(await tryLogin(mechanism, 'guest', 'guest')).toBe('ok');
      expect(await tryLogin(mechanism, 'bob', 'b0b-secret')).toBe('ok');
      expect(await tryLogin(mechanism, 'carol', 'car0l')).toBe('ok');
    }, 60_000);

    it(`${mechanism}: a wrong password and an unknown user are SASL_AUTHENTICATION_FAILED`, async () => {
      expect(await tryLogin(mechanism, 'bob', 'wrong')).toMatch(/authentication failed/i);
      expect(await tryLogin(mechanism, 'nobody', 'whatever')).toMatch(/authentication failed/i);
    }, 60_000);
  }

  it('a user imported with only a password hash: SCRAM fails, PLAIN works', async () => {
    expect(await tryLogin('scram-sha-256', 'dave', 'd4ve')).toMatch(/authentication failed/i);
    expect(await tryLogin('plain', 'dave', 'd4ve')).toBe('ok');
  }, 60_000);

  it('a changed password: the old one fails, the new one works; tags alone keep the credentials', async () => {
    expect(await api('PUT', '/users/bob', { password: 'n3w-secret', tags: '' })).toBe(204);
    expect(await tryLogin('scram-sha-512', 'bob', 'b0b-secret')).toMatch(/authentication failed/i);
    expect(await tryLogin('scram-sha-512', 'bob', 'n3w-secret')).toBe('ok');
    expect(await api('PUT', '/users/bob', { tags: 'monitoring' })).toBe(204);
    expect(await tryLogin('scram-sha-256', 'bob', 'n3w-secret')).toBe('ok');
    // a hash replaces the password: no SCRAM credentials are left
    expect(await api('PUT', '/users/bob', { password_hash: hashPassword('h4sh'), tags: '' })).toBe(204);
    expect(await tryLogin('scram-sha-256', 'bob', 'n3w-secret')).toMatch(/authentication failed/i);
    expect(await tryLogin('plain', 'bob', 'h4sh')).toBe('ok');
    expect(await api('PUT', '/users/bob', { password: 'b0b-secret', tags: '' })).toBe(204);
  }, 60_000);

  it('the credentials are stored: SCRAM works after a restart, a produce goes through', async () => {
    await b.restart();
    apiPort = b.broker.address('management').port;
    expect(await tryLogin('scram-sha-256', 'carol', 'car0l')).toBe('ok');
    const producer = b.client({ sasl: { mechanism: 'scram-sha-512', username: 'bob', password: 'b0b-secret' } }).producer();
    await producer.connect();
    const [res] = await producer.send({ topic: uniqueTopic('scram'), messages: [{ value: 'over scram' }] });
    expect(res!.errorCode).toBe(0);
    await producer.disconnect();
  }, 60_000);
});

describe.skipIf(!haveKcat)('SCRAM with kcat (librdkafka)', () => {
  /**
   * `-m`: seconds kcat waits for the metadata. A refused login does not end kcat: librdkafka
   * logs the SASL failure (within ~0.1 s, even loaded) and retries until that wait is over, so
   * the refused runs wait 2 s, side by side, instead of 5 s each one after the other.
   */
  const run = (mechanism: string, user: string, password: string, waitSeconds = 5) =>
    kcat(['-b', `127.0.0.1:${b.kafkaPort}`, '-L', '-X', 'security.protocol=SASL_PLAINTEXT', '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`, '-m', String(waitSeconds)]);

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
    it(`${mechanism}: success, wrong password, unknown user`, async () => {
      const good = await run(mechanism, 'carol', 'car0l');
      expect(good.code, good.stderr).toBe(0);
      expect(good.stdout).toMatch(/Metadata for all topics/);
      const [wrong, unknown] = await Promise.all([run(mechanism, 'carol', 'nope', 2), run(mechanism, 'nobody', 'nope', 2)]);
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/Authentication failed|SASL authentication error/i);
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toMatch(/Authentication failed|SASL authentication error/i);
    }, 60_000);
  }
});
