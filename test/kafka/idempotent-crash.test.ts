/**
 * Idempotent producers across a kill -9: a batch appended (and durable) before the broker
 * process is killed, retried by the same producer id after the restart, is answered with
 * its first offset and not appended again — the producer state comes back from the log.
 * Also a kafkajs idempotent producer (acks=all) end to end. The broker runs from the compiled
 * build (bench/stream-server.mjs --kafka) in its own process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, inject, it } from 'vitest';
import { encodeBatch } from '../../plugins/kafka/codec/records.js';
import { RawKafka } from './raw-client.js';

const server = fileURLToPath(new URL('../../bench/stream-server.mjs', import.meta.url));

function startServer(dir: string): Promise<{ child: ChildProcess; kafkaPort: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [server, '--build', inject('buildDir'), '--data-dir', dir, '--keep', '--kafka'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const k = /kafka (\d+)/.exec(out);
      if (k && /ready \d+/.test(out)) resolve({ child, kafkaPort: Number(k[1]) });
    });
    child.stderr!.on('data', (d) => (err += d));
    child.on('exit', (code) => reject(new Error(`broker exited (${code}) before it was ready: ${err}`)));
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const produce = (c: RawKafka, topic: string, batch: Buffer) =>
  c.frame(0, 7, (w) => w.nullableString(null).int16(-1).int32(5000).int32(1).string(topic).int32(1).int32(0).bytes(batch));

async function produceAnswer(c: RawKafka): Promise<{ errorCode: number; baseOffset: number }> {
  const r = (await c.next(10_000))!;
  r.int32();
  r.string();
  r.int32();
  r.int32();
  return { errorCode: r.int16(), baseOffset: r.int64() };
}

describe('idempotent producer across kill -9', () => {
  it('a batch retried after the broker was killed is not appended twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-kafka-crash-'));
    let s = await startServer(dir);
    try {
      const topic = 'idem-crash';
      let c = await RawKafka.open(s.kafkaPort);
      c.send(c.frame(19, 0, (w) => w.int32(1).string(topic).int32(1).int16(1).int32(0).int32(0).int32(5000)));
      await c.next();
      c.send(c.frame(22, 1, (w) => w.nullableString(null).int32(60_000)));
      const r = (await c.next())!;
      r.int32();
      r.int16();
      const producerId = r.int64();
      const recs = (from: number, n: number) => Array.from({ length: n }, (_v, i) => ({ offset: i, timestamp: Date.now(), key: null, value: Buffer.from(`r${from + i}`), headers: [] }));
      const b0 = encodeBatch(recs(0, 3), { producerId, producerEpoch: 0, baseSequence: 0 });
      const b1 = encodeBatch(recs(3, 2), { producerId, producerEpoch: 0, baseSequence: 3 });
      c.send(produce(c, topic, b0));
      expect(await produceAnswer(c)).toEqual({ errorCode: 0, baseOffset: 0 });
      c.send(produce(c, topic, b1));
      expect(await produceAnswer(c)).toEqual({ errorCode: 0, baseOffset: 3 });
      c.close();
      await kill(s.child);
      s = await startServer(dir);
      c = await RawKafka.open(s.kafkaPort);
      // the producer never saw the answer to b1: it retries it, then goes on
      c.send(produce(c, topic, b1));
      expect(await produceAnswer(c)).toEqual({ errorCode: 0, baseOffset: 3 });
      const b2 = encodeBatch(recs(5, 1), { producerId, producerEpoch: 0, baseSequence: 5 });
      c.send(produce(c, topic, b2));
      const after = await produceAnswer(c);
      expect(after.errorCode).toBe(0);
      c.close();
      const kafka = new Kafka({ brokers: [`127.0.0.1:${s.kafkaPort}`], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      const [end] = await admin.fetchTopicOffsets(topic);
      // every restart starts a new segment, so offsets after it may skip; what counts is no duplicate
      const consumer = kafka.consumer({ groupId: 'idem-crash-check', maxWaitTimeInMs: 500 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const values: string[] = [];
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }) => {
              values.push(message.value!.toString());
              if (Number(message.offset) + 1 >= Number(end!.high)) resolve();
            },
          })
          .catch(reject);
      });
      await consumer.disconnect();
      await admin.disconnect();
      expect(values).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
      // and a kafkajs idempotent producer works on the restarted broker
      const producer = kafka.producer({ idempotent: true });
      await producer.connect();
      const res = await producer.send({ topic, acks: -1, messages: [{ value: 'kafkajs-idempotent' }] });
      expect(res[0]!.errorCode).toBe(0);
      await producer.disconnect();
    } finally {
      await kill(s.child);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
