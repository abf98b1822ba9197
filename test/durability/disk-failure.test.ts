/**
 * A failed fdatasync ("fsyncgate"): the store never confirms what the failed sync covered —
 * not even after a later successful one — every protocol answers the publish with its error,
 * the broker raises the disk_failure alarm (blocking publishers, visible in management),
 * logs one error line, and consumers still get what was durable before. Real clients over
 * real sockets; the journal on the simulated disk (test/helpers/sim-disk.ts), which fails
 * the sync on demand.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker.js';
import { createLogger } from '../../src/log/index.js';
import { SimMachine } from '../helpers/sim-disk.js';
import { RawClient } from '../plugins/stomp/helpers.js';

interface Running {
  broker: Broker;
  machine: SimMachine;
  logs: { level: string; msg: string; [k: string]: unknown }[];
  amqpUrl: string;
  port(name: string): number;
  stop(): Promise<void>;
}

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

async function start(): Promise<Running> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-diskfail-'));
  const machine = new SimMachine([dataDir]);
  const logs: Running['logs'] = [];
  const logger = createLogger({ level: 'info', format: 'json', output: { write: (l: string) => logs.push(JSON.parse(l) as Running['logs'][number]) } });
  const local = { port: 0, host: '127.0.0.1' };
  const broker = new Broker(
    { dataDir, amqp: local, mqtt: { ...local, ws_enabled: false }, stomp: { ...local, ws_enabled: false }, management: local },
    { logger, disk: machine.mount() },
  );
  await broker.start();
  broker.core.alarms.settings.publishDeadlineMs = 300;
  const port = (name: string): number => broker.address(name).port;
  const r: Running = {
    broker,
    machine,
    logs,
    amqpUrl: `amqp://guest:guest@127.0.0.1:${port('amqp')}`,
    port,
    stop: async () => {
      await broker.stop().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  running.push(r);
  return r;
}

/** Declare the durable queue `q` (bound to amq.topic under `q`) and make `n` confirmed messages durable in it. */
async function durableMessages(r: Running, n: number): Promise<void> {
  const c = await amqp.connect(r.amqpUrl);
  const ch = await c.createConfirmChannel();
  await ch.assertQueue('q', { durable: true });
  await ch.bindQueue('q', 'amq.topic', 'q');
  for (let i = 0; i < n; i++) ch.sendToQueue('q', Buffer.from(`durable-${i}`), { persistent: true });
  await ch.waitForConfirms();
  await c.close();
}

/** After the failure: the alarm is on and visible, one error line was logged, consumers still read. */
async function checkAftermath(r: Running, durable: number): Promise<void> {
  const alarms = r.broker.core.alarms;
  expect(alarms.active).toContain('disk_failure');
  expect(alarms.blocked).toBe(true);
  const errors = r.logs.filter((l) => l.level === 'error');
  expect(errors).toHaveLength(1);
  expect(String(errors[0].msg)).toMatch(/journal write failed, the store is read-only: EIO/);
  const api = `http://127.0.0.1:${r.port('management')}`;
  const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
  const overview = (await (await fetch(`${api}/api/overview`, { headers: auth })).json()) as { alarms: string[] };
  expect(overview.alarms).toContain('disk_failure');
  const health = await fetch(`${api}/api/health/checks/alarms`, { headers: auth });
  expect(health.status).toBe(503);
  expect(JSON.stringify(await health.json())).toContain('disk_failure');
  const metrics = await (await fetch(`${api}/metrics`, { headers: auth })).text();
  expect(metrics).toMatch(/warren_alarm\{resource="disk_failure"\} 1/);
  // consumers keep being served what was durable before the failure
  const c = await amqp.connect(r.amqpUrl);
  const ch = await c.createChannel();
  const got: string[] = [];
  await ch.consume('q', (m) => {
    if (m) got.push(m.content.toString());
  }, { noAck: true });
  const deadline = Date.now() + 5000;
  while (got.length < durable && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  expect(got.slice(0, durable)).toEqual(Array.from({ length: durable }, (_, i) => `durable-${i}`));
  await c.close();
}

describe('a failed fdatasync (fsyncgate)', () => {
  it('AMQP: the publish is nacked, never acked later, and the alarm blocks the connection', async () => {
    const r = await start();
    await durableMessages(r, 5);
    const c = await amqp.connect(r.amqpUrl);
    const ch = await c.createConfirmChannel();
    let blocked = '';
    c.on('blocked', (reason: string) => (blocked = reason));
    r.machine.inject({ op: 'fdatasync', code: 'EIO', times: Infinity });
    const outcome = await new Promise<string>((resolve) => ch.sendToQueue('q', Buffer.from('lost'), { persistent: true }, (err) => resolve(err ? 'nack' : 'ack')));
    expect(outcome).toBe('nack');
    // a later sync that succeeds must not turn the failed batch into a confirm
    r.machine.clearFaults();
    await new Promise((res) => setTimeout(res, 100));
    expect(r.broker.core.alarms.active).toContain('disk_failure');
    await new Promise((res) => setTimeout(res, 50));
    expect(blocked).toMatch(/disk write failed/);
    await c.close().catch(() => undefined);
    await checkAftermath(r, 5);
  });

  it('AMQP to a stream: the publish is nacked and the alarm raised; the stream stays readable', async () => {
    const r = await start();
    const c = await amqp.connect(r.amqpUrl);
    const ch = await c.createConfirmChannel();
    await ch.assertQueue('s', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    ch.sendToQueue('s', Buffer.from('kept'), { persistent: true });
    await ch.waitForConfirms();
    r.machine.inject({ op: 'fdatasync', code: 'EIO', times: Infinity, pathIncludes: '/streams/' });
    const outcome = await new Promise<string>((resolve) => ch.sendToQueue('s', Buffer.from('lost'), { persistent: true }, (err) => resolve(err ? 'nack' : 'ack')));
    expect(outcome).toBe('nack');
    expect(r.broker.core.alarms.active).toContain('disk_failure');
    const errors = r.logs.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.msg)).toEqual(['stream write failed: the stream is read-only']);
    const rc = await amqp.connect(r.amqpUrl);
    const reader = await rc.createChannel();
    await reader.prefetch(10);
    const got: string[] = [];
    await reader.consume('s', (m) => {
      if (m) got.push(m.content.toString());
    }, { arguments: { 'x-stream-offset': 'first' } });
    const deadline = Date.now() + 5000;
    while (got.length < 1 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(got[0]).toBe('kept');
    await rc.close();
    await c.close().catch(() => undefined);
  });

  it('MQTT 5: the QoS 1 publish gets a PUBACK with an error reason code', async () => {
    const r = await start();
    await durableMessages(r, 3);
    const v5 = await mqtt.connectAsync(`mqtt://127.0.0.1:${r.port('mqtt')}`, { protocolVersion: 5, clientId: 'v5', reconnectPeriod: 0 });
    r.machine.inject({ op: 'fdatasync', code: 'EIO', times: Infinity });
    const puback = await new Promise<number | undefined>((resolve) => {
      v5.on('packetreceive', (p) => {
        if (p.cmd === 'puback') resolve((p as { reasonCode?: number }).reasonCode);
      });
      v5.publish('q', 'lost-5', { qos: 1 }, () => undefined);
    });
    expect(puback).toBeGreaterThanOrEqual(0x80);
    v5.end(true);
    await checkAftermath(r, 3);
  });

  it('MQTT 3.1.1: the connection is closed instead of a PUBACK', async () => {
    const r = await start();
    await durableMessages(r, 3);
    const v4 = await mqtt.connectAsync(`mqtt://127.0.0.1:${r.port('mqtt')}`, { protocolVersion: 4, clientId: 'v4', reconnectPeriod: 0 });
    r.machine.inject({ op: 'fdatasync', code: 'EIO', times: Infinity });
    let pubacks = 0;
    v4.on('packetreceive', (p) => void (p.cmd === 'puback' && pubacks++));
    const closed = new Promise<void>((resolve) => v4.once('close', () => resolve()));
    v4.publish('q', 'lost-4', { qos: 1 }, () => undefined);
    await closed;
    expect(pubacks).toBe(0);
    v4.end(true);
    await checkAftermath(r, 3);
  });

  it('STOMP: a SEND with a receipt gets an ERROR frame, not the RECEIPT', async () => {
    const r = await start();
    await durableMessages(r, 2);
    const [c] = await RawClient.login(r.port('stomp'));
    r.machine.inject({ op: 'fdatasync', code: 'EIO', times: Infinity });
    c.send('SEND', { destination: '/amq/queue/q', persistent: 'true', receipt: 'r1' }, 'lost');
    const f = await c.next(5000);
    expect(f.command).toBe('ERROR');
    expect(c.frames.some((x) => x.command === 'RECEIPT')).toBe(false);
    c.socket.destroy();
    await checkAftermath(r, 2);
  });
});
