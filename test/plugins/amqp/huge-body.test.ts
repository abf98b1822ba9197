/**
 * A body larger than the broker should ever hold: 256 MiB through AMQP (amqplib, publisher
 * confirms, a durable queue) with Warren in a child process (the compiled build of this run),
 * so that its memory can be read from /proc/<pid>/status while the body goes through. The body
 * is written to the journal as its frames arrive and streamed back from it, so the broker's
 * peak RSS (VmHWM, and VmRSS sampled every 20 ms) stays under 150 MiB although the body alone
 * is 256 MiB. Then the broker is killed (SIGKILL) half way through a second such body: after a
 * restart the queue holds nothing, and the parts written before the kill are reclaimed. And
 * an MQTT PUBLISH of 200 MiB (under the 256 MiB packet limit) is streamed in the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import amqp, { type ChannelModel } from 'amqplib';
import mqtt from 'mqtt';
import { afterEach, describe, expect, inject, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..', '..');
const MiB = 1024 * 1024;
const BODY = 256 * MiB;
const RSS_LIMIT = 150 * MiB;

const children: ChildProcess[] = [];
const dirs: string[] = [];
const connections: ChannelModel[] = [];
afterEach(async () => {
  for (const c of connections.splice(0)) await c.close().catch(() => undefined);
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Child {
  child: ChildProcess;
  port: number;
  mqttPort?: number;
  exited: Promise<void>;
}

function startBroker(dataDir: string, protocols = 'amqp'): Promise<Child> {
  const args = [join(root, 'bench', 'warren-server.mjs'), '--build', inject('buildDir'), '--protocols', protocols, '--data-dir', dataDir, '--max-message-size', String(512 * MiB)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return new Promise((res, rej) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /ready (\{.*\})/.exec(out);
      if (m) res({ child, port: JSON.parse(m[1]).amqp as number, mqttPort: JSON.parse(m[1]).mqtt as number, exited });
    });
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', (code) => rej(new Error(`broker exited (${code}) before it was ready:\n${out}`)));
  });
}

/** VmRSS and VmHWM of a process, in bytes */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

function journalBytes(dataDir: string): number {
  let n = 0;
  const vhosts = join(dataDir, 'vhosts');
  for (const v of readdirSync(vhosts)) for (const f of readdirSync(join(vhosts, v))) if (f.endsWith('.wj')) n += statSync(join(vhosts, v, f)).size;
  return n;
}

async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A 256 MiB body that is cheap to make and not all one byte: 1 MiB of random bytes, each copy stamped with its index. */
function bigBody(): Buffer {
  const unit = randomBytes(MiB);
  const body = Buffer.allocUnsafe(BODY);
  for (let i = 0; i < BODY / MiB; i++) {
    unit.copy(body, i * MiB);
    body.writeUInt32LE(i, i * MiB);
  }
  return body;
}

/** The largest VmRSS of `pid` sampled every 20 ms until `stop`. */
function sampleRss(pid: number): { peak: number; stop(): void } {
  const sampled = { peak: 0, stop: () => clearInterval(timer) };
  const timer = setInterval(() => {
    try {
      sampled.peak = Math.max(sampled.peak, memoryOf(pid).rss);
    } catch {
      // the process is gone
    }
  }, 20);
  return sampled;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('bodies of hundreds of MiB', { timeout: 240_000 }, () => {
  it('a 256 MiB AMQP message goes through a durable queue with confirms, intact, while the broker stays under 150 MiB of RSS; a kill -9 mid-body leaves nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-huge-'));
    dirs.push(dataDir);
    const broker = await startBroker(dataDir);
    const pid = broker.child.pid!;
    const rss = sampleRss(pid);
    try {
      const body = bigBody();
      const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port}`);
      conn.on('error', () => undefined); // the kill below resets it
      connections.push(conn);
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('huge', { durable: true });
      const t0 = performance.now();
      await new Promise<void>((res, rej) => ch.sendToQueue('huge', body, { persistent: true }, (e: unknown) => (e ? rej(e) : res())));
      const published = performance.now() - t0;
      expect((await ch.checkQueue('huge')).messageCount).toBe(1);
      const consumer = await conn.createChannel();
      const got = await new Promise<amqp.ConsumeMessage>((res) => void consumer.consume('huge', (m) => m && res(m)));
      const roundTrip = performance.now() - t0;
      expect(got.content.length).toBe(BODY);
      expect(sha(got.content)).toBe(sha(body));
      consumer.ack(got);
      const { hwm } = memoryOf(pid);
      process.stdout.write(`256 MiB: published and confirmed in ${published.toFixed(0)} ms, round trip ${roundTrip.toFixed(0)} ms; broker peak RSS ${(Math.max(rss.peak, hwm) / MiB).toFixed(1)} MiB (VmHWM ${(hwm / MiB).toFixed(1)}, sampled VmRSS ${(rss.peak / MiB).toFixed(1)})\n`);
      expect(hwm).toBeLessThan(RSS_LIMIT);
      expect(rss.peak).toBeLessThan(RSS_LIMIT);

      // a second one, and the broker killed when about half of it is in the journal
      const before = journalBytes(dataDir);
      ch.sendToQueue('huge', body, { persistent: true });
      await waitUntil('half of the body in the journal', () => journalBytes(dataDir) - before > BODY / 2);
      broker.child.kill('SIGKILL');
      await broker.exited;
    } finally {
      rss.stop();
    }
    connections.splice(0).forEach((c) => c.close().catch(() => undefined));
    const leftover = journalBytes(dataDir);
    expect(leftover).toBeGreaterThan(BODY / 2);

    const again = await startBroker(dataDir);
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${again.port}`);
    connections.push(conn);
    const ch = await conn.createChannel();
    // no partial message: the queue is empty (the first body was acked, the second never committed)
    expect((await ch.checkQueue('huge')).messageCount).toBe(0);
    // and the parts written before the kill are given back
    await waitUntil('the abandoned parts reclaimed', () => journalBytes(dataDir) < 32 * MiB);
  });

  it('an MQTT PUBLISH of 200 MiB (QoS 1) is streamed in too: intact at an AMQP consumer, broker under 150 MiB of RSS', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-huge-mqtt-'));
    dirs.push(dataDir);
    const broker = await startBroker(dataDir, 'amqp,mqtt');
    const pid = broker.child.pid!;
    const rss = sampleRss(pid);
    try {
      const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port}`);
      connections.push(conn);
      const ch = await conn.createChannel();
      await ch.assertQueue('huge-mqtt', { durable: true });
      await ch.bindQueue('huge-mqtt', 'amq.topic', 'huge.in');
      const body = bigBody().subarray(0, 200 * MiB);
      const client = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.mqttPort!, protocolVersion: 4, clientId: 'huge-pub', reconnectPeriod: 0 });
      const t0 = performance.now();
      await client.publishAsync('huge/in', body, { qos: 1 }); // PUBACK: stored
      const acked = performance.now() - t0;
      await client.endAsync();
      const got = await new Promise<amqp.ConsumeMessage>((res) => void ch.consume('huge-mqtt', (m) => m && res(m), { noAck: true }));
      expect(got.content.length).toBe(body.length);
      expect(sha(got.content)).toBe(sha(body));
      const { hwm } = memoryOf(pid);
      process.stdout.write(`200 MiB over MQTT: PUBACK after ${acked.toFixed(0)} ms; broker peak RSS ${(Math.max(rss.peak, hwm) / MiB).toFixed(1)} MiB\n`);
      expect(hwm).toBeLessThan(RSS_LIMIT);
      expect(rss.peak).toBeLessThan(RSS_LIMIT);
    } finally {
      rss.stop();
    }
  });
});
