/**
 * SASL PLAIN against Warren's users, permissions mapped onto vhost permissions (write =
 * produce, read = fetch and group offsets, configure = create/delete topics), and the
 * protocol's error codes: SASL_AUTHENTICATION_FAILED, TOPIC_AUTHORIZATION_FAILED,
 * UNSUPPORTED_SASL_MECHANISM (SCRAM: scram.test.ts); without SASL (allow_anonymous = false) nothing but
 * ApiVersions and the SASL requests is answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';

let b: KafkaTestBroker;
beforeAll(async () => {
  b = await startKafkaBroker({ allow_anonymous: false });
  const core = b.broker.core;
  core.putUser({ name: 'alice', passwordHash: hashPassword('secret'), tags: [] });
  core.setPermissions('alice', '/', { configure: '.*', write: '.*', read: '.*' });
  core.putUser({ name: 'reader', passwordHash: hashPassword('r3ad'), tags: [] });
  core.setPermissions('reader', '/', { configure: '', write: '', read: '.*' });
});
afterAll(() => b?.stop());

describe('SASL and permissions', () => {
  it('PLAIN with a valid user produces and consumes', async () => {
    const topic = uniqueTopic('sasl');
    const kafka = b.client({ sasl: { mechanism: 'plain', username: 'alice', password: 'secret' } });
    const producer = kafka.producer();
    await producer.connect();
    const [res] = await producer.send({ topic, messages: [{ value: 'ok' }] });
    expect(res!.errorCode).toBe(0);
    await producer.disconnect();
  }, 30_000);

  it('a wrong password is SASL_AUTHENTICATION_FAILED', async () => {
    const kafka = b.client({ sasl: { mechanism: 'plain', username: 'alice', password: 'nope' }, retry: { retries: 0 } });
    const producer = kafka.producer();
    await expect(producer.connect()).rejects.toThrow(/SASL PLAIN authentication failed|Authentication failed/);
  }, 30_000);

  it('an unknown mechanism is UNSUPPORTED_SASL_MECHANISM', async () => {
    const kafka = b.client({ sasl: { mechanism: 'aws', authorizationIdentity: 'x', accessKeyId: 'a', secretAccessKey: 's' }, retry: { retries: 0 } });
    const admin = kafka.admin();
    await expect(admin.connect()).rejects.toThrow(/not supported|UNSUPPORTED_SASL_MECHANISM|mechanism/i);
  }, 30_000);

  it('without SASL the connection is closed', async () => {
    const kafka = b.client({ retry: { retries: 0 }, connectionTimeout: 2000 });
    const admin = kafka.admin();
    await expect(admin.connect().then(() => admin.listTopics())).rejects.toThrow();
  }, 30_000);

  it('a user with read permission only: produce is TOPIC_AUTHORIZATION_FAILED, topic creation refused, fetch works', async () => {
    const topic = uniqueTopic('ro');
    const alice = b.client({ sasl: { mechanism: 'plain', username: 'alice', password: 'secret' } });
    const p = alice.producer();
    await p.connect();
    await p.send({ topic, messages: [{ value: 'written by alice' }] });
    await p.disconnect();
    const reader = b.client({ sasl: { mechanism: 'plain', username: 'reader', password: 'r3ad' }, retry: { retries: 0 } });
    const producer = reader.producer();
    await producer.connect();
    await expect(producer.send({ topic, messages: [{ value: 'x' }] })).rejects.toThrow(/authoriz/i);
    await producer.disconnect();
    const admin = reader.admin();
    await admin.connect();
    const refused = await admin.createTopics({ topics: [{ topic: uniqueTopic('nope') }] }).catch((e: { errors?: { type: string }[] }) => e);
    expect((refused as { errors: { type: string }[] }).errors.map((e) => e.type)).toEqual(['TOPIC_AUTHORIZATION_FAILED']);
    await admin.disconnect();
    const consumer = reader.consumer({ groupId: uniqueTopic('ro-group'), maxWaitTimeInMs: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = await new Promise<string>((resolve, reject) => {
      consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) }).catch(reject);
    });
    await consumer.disconnect();
    expect(got).toBe('written by alice');
  }, 60_000);
});

describe('resource alarms', () => {
  it('a produce waits while a memory alarm is on and is appended once it clears', async () => {
    const topic = uniqueTopic('alarm');
    const kafka = b.client({ sasl: { mechanism: 'plain', username: 'alice', password: 'secret' } });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'before' }] });
    const alarms = b.broker.core.alarms;
    alarms.stop(); // no periodic check meanwhile: the test alone raises and clears the alarm
    const saved = alarms.settings.memoryHighWatermark;
    alarms.settings.memoryHighWatermark = 0.0000001;
    alarms.check();
    expect(alarms.blocked).toBe(true);
    let answered = false;
    const sending = producer.send({ topic, messages: [{ value: 'during' }] }).then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 500));
    expect(answered).toBe(false);
    expect(b.broker.core.stream('/', `${topic}-0`)!.nextOffset).toBe(1);
    alarms.settings.memoryHighWatermark = saved;
    alarms.check();
    await sending;
    expect(b.broker.core.stream('/', `${topic}-0`)!.nextOffset).toBe(2);
    await producer.disconnect();
  }, 30_000);
});
