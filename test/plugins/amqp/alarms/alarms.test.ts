import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../../src/index.js';

/** Resource alarms over AMQP: blocked publishers, draining consumers, release, deadline. */
let broker: Broker;
let dir: string;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warren-alarms-'));
  broker = new Broker({ dataDir: dir, log: { level: 'silent' }, amqp: { port: 0, host: '127.0.0.1' } });
  await broker.start();
});
afterEach(async () => {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(f: () => boolean, ms = 3000) {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await sleep(10);
  }
}
/** A memory watermark of 2 bytes (absolute) raises the memory alarm at the next check. */
function raiseAlarm() {
  broker.core.alarms.settings.memoryHighWatermark = 2;
  broker.core.alarms.check();
}
function clearAlarm() {
  broker.core.alarms.settings.memoryHighWatermark = 0.99;
  broker.core.alarms.check();
}

describe('memory alarm', () => {
  it('blocks publishers, lets consumers drain, and delivers every confirmed message after it clears', async () => {
    const pub = await amqp.connect(broker.url('amqp'));
    const sub = await amqp.connect(broker.url('amqp'));
    const events: string[] = [];
    pub.on('blocked', (reason: string) => events.push(`blocked:${reason}`));
    pub.on('unblocked', () => events.push('unblocked'));
    const pch = await pub.createConfirmChannel();
    const sch = await sub.createChannel();
    const q = (await sch.assertQueue('', { exclusive: true })).queue;
    for (let i = 0; i < 5; i++) pch.sendToQueue(q, Buffer.from(`before${i}`));
    await pch.waitForConfirms();

    raiseAlarm();
    await until(() => events.length === 1);
    expect(events).toEqual(['blocked:low on memory']);
    let confirmed = 0;
    for (let i = 0; i < 10; i++) pch.sendToQueue(q, Buffer.from(`during${i}`), {}, (err) => !err && confirmed++);
    const got: string[] = [];
    await sch.consume(q, (m) => m && got.push(m.content.toString()), { noAck: true });
    await until(() => got.length === 5); // consumers keep draining during the alarm
    await sleep(200);
    expect(confirmed).toBe(0);
    expect(got.length).toBe(5);

    clearAlarm();
    await until(() => got.length === 15 && confirmed === 10);
    expect(events).toEqual(['blocked:low on memory', 'unblocked']);
    expect(got).toEqual([...Array.from({ length: 5 }, (_, i) => `before${i}`), ...Array.from({ length: 10 }, (_, i) => `during${i}`)]);
    await pub.close();
    await sub.close();
  });

  it('fails a publish held past the deadline: nack on a confirm channel, a 320 close without confirms', async () => {
    broker.core.alarms.settings.publishDeadlineMs = 150;
    const c1 = await amqp.connect(broker.url('amqp'));
    const ch = await c1.createConfirmChannel();
    const q = (await ch.assertQueue('', { exclusive: false, autoDelete: false })).queue;
    raiseAlarm();
    const outcome = new Promise<string>((resolve) => ch.sendToQueue(q, Buffer.from('x'), {}, (err) => resolve(err ? 'nack' : 'ack')));
    const t0 = Date.now();
    expect(await outcome).toBe('nack');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    // still blocked: the next publish is held again; once the alarm clears, it goes through
    const later = new Promise<string>((resolve) => ch.sendToQueue(q, Buffer.from('z'), {}, (err) => resolve(err ? 'nack' : 'ack')));
    await sleep(50);
    broker.core.alarms.settings.publishDeadlineMs = 0;
    clearAlarm();
    expect(await later).toBe('ack');
    raiseAlarm();
    broker.core.alarms.settings.publishDeadlineMs = 150;

    const c2 = await amqp.connect(broker.url('amqp'));
    // amqplib reports a server close as the 'close' event's error (320 is not an 'error' for it)
    const closed = new Promise<Error>((resolve) => c2.on('close', resolve));
    c2.on('error', () => {});
    const plain = await c2.createChannel();
    plain.sendToQueue(q, Buffer.from('y'));
    const err = (await closed) as Error & { code?: number };
    expect(err.code).toBe(320);
    expect(err.message).toMatch(/resource alarm/);
    clearAlarm();
    await c1.close();
  });
});
