/**
 * The Kafka listener over TLS (kafka.ssl_enabled, the broker-wide ssl_options): kafkajs with
 * SSL and with SASL_SSL (PLAIN), and kcat (librdkafka) with security.protocol=ssl; Metadata
 * advertises the TLS listener's own port to TLS clients.
 */
import { spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasExecutable } from '../helpers/require-tool.js';
import { generateCerts, type TestCerts } from './certs.js';
import { startTlsBroker, type TlsTestBroker } from './broker.js';

const haveKcat = hasExecutable('/usr/bin/kcat', 'kcat', 'test/tls/kafka-tls.test.ts');
let certs: TestCerts;
let b: TlsTestBroker;
let port: number;

beforeAll(async () => {
  certs = generateCerts(['alice']);
  b = await startTlsBroker(certs, {
    sslOptions: { verify: 'verify_none' },
    amqp: { port: 0, host: '127.0.0.1' },
    kafka: { port: 0, host: '127.0.0.1', ssl_enabled: true, ssl_port: 0 },
  } as never);
  port = b.broker.address('kafka-ssl').port;
});
afterAll(async () => {
  await b?.stop();
  certs?.remove();
});

describe('Kafka over TLS', () => {
  it('kafkajs with SSL produces and consumes; SASL_SSL with PLAIN too', async () => {
    const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], ssl: { ca: [certs.ca], rejectUnauthorized: false }, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const [res] = await producer.send({ topic: 'tls-topic', messages: [{ value: 'over tls' }] });
    expect(res!.errorCode).toBe(0);
    await producer.disconnect();
    const sasl = new Kafka({
      brokers: [`127.0.0.1:${port}`],
      ssl: { ca: [certs.ca], rejectUnauthorized: false },
      sasl: { mechanism: 'plain', username: 'guest', password: 'guest' },
      logLevel: logLevel.NOTHING,
    });
    const consumer = sasl.consumer({ groupId: 'tls-group', maxWaitTimeInMs: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'tls-topic', fromBeginning: true });
    const got = await new Promise<string>((resolve, reject) => {
      consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) }).catch(reject);
    });
    await consumer.disconnect();
    expect(got).toBe('over tls');
  }, 60_000);

  it.skipIf(!haveKcat)('kcat with security.protocol=ssl reads the topic', async () => {
    // spawned, not spawnSync: the broker runs in this process and must answer meanwhile
    const args = ['-b', `127.0.0.1:${port}`, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${certs.caFile}`, '-X', 'enable.ssl.certificate.verification=false', '-t', 'tls-topic', '-C', '-o', 'beginning', '-e', '-f', '%s\n'];
    const out = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      const p = spawn('/usr/bin/kcat', args);
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
      p.on('close', () => {
        clearTimeout(timer);
        resolve({ stdout, stderr });
      });
    });
    expect(out.stdout.trim(), out.stderr).toBe('over tls');
  }, 40_000);
});
