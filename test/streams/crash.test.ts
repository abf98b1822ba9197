/**
 * Confirms come after the group commit: a broker process killed with SIGKILL while a
 * publisher streams into a stream loses no confirmed message; after each restart the stream
 * holds every confirmed message once, in publish order, at contiguous offsets (a torn tail
 * is cut, never read), and appends go on after it. The broker runs from the compiled build
 * (bench/stream-server.mjs), in its own process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { describe, expect, inject, it } from 'vitest';
import { dataDir } from './helpers.js';
import { waitFor } from '../helpers/amqp-clients.js';

const server = fileURLToPath(new URL('../../bench/stream-server.mjs', import.meta.url));

function startServer(dir: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [server, '--build', inject('buildDir'), '--data-dir', dir, '--keep'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /ready (\d+)/.exec(out);
      if (m) resolve({ child, url: `amqp://guest:guest@127.0.0.1:${m[1]}` });
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

/** Publish numbered messages with confirms until told to stop (or the connection dies); @returns the confirmed numbers */
async function publishUntilKilled(url: string, from: number, stopAfter: number, onEnough: () => void): Promise<number[]> {
  const confirmed: number[] = [];
  const c = await amqp.connect(url);
  c.on('error', () => {});
  const ch = await c.createConfirmChannel();
  ch.on('error', () => {});
  await new Promise<void>((resolve) => {
    let closed = false;
    c.on('close', () => {
      closed = true;
      resolve();
    });
    let i = from;
    let outstanding = 0;
    let signalled = false;
    const pump = () => {
      while (!closed && outstanding < 200) {
        const n = i++;
        outstanding++;
        try {
          ch.sendToQueue('crashing', Buffer.from(`m${n}`), {}, (e) => {
            outstanding--;
            if (e) return;
            confirmed.push(n);
            if (!signalled && confirmed.length >= stopAfter) {
              signalled = true;
              onEnough();
            }
            setImmediate(pump);
          });
        } catch {
          return; // the kill closed the channel before 'close' reached us: amqplib throws then
        }
      }
    };
    pump();
  });
  return confirmed;
}

/** Every message of the stream from the first (queue.declare-ok says how many a stream holds). */
async function readAll(url: string): Promise<{ bodies: string[]; offsets: number[] }> {
  const c = await amqp.connect(url);
  const ch = await c.createChannel();
  const { messageCount } = await ch.checkQueue('crashing');
  await ch.prefetch(1000);
  const bodies: string[] = [];
  const offsets: number[] = [];
  await ch.consume('crashing', (m) => {
    if (!m) return;
    bodies.push(m.content.toString());
    offsets.push(m.properties.headers?.['x-stream-offset'] as number);
    ch.ack(m);
  }, { arguments: { 'x-stream-offset': 'first' } });
  await waitFor(() => bodies.length >= messageCount, `${messageCount} messages (got ${bodies.length})`, 20_000);
  await c.close();
  return { bodies, offsets };
}

describe('a stream under SIGKILL', () => {
  // 120 s: three child starts and full reads; at load average 40 on 2 cores 60 s ran out
  it('keeps every confirmed message, once, in order, across 3 kills', { timeout: 120_000 }, async () => {
    const dir = dataDir();
    let s = await startServer(dir);
    const c = await amqp.connect(s.url);
    const ch = await c.createChannel();
    await ch.assertQueue('crashing', { durable: true, arguments: { 'x-queue-type': 'stream', 'x-stream-max-segment-size-bytes': 64 * 1024 } });
    await c.close();
    const confirmed: number[] = [];
    let next = 0;
    for (let cycle = 0; cycle < 3; cycle++) {
      const child = s.child;
      const got = await publishUntilKilled(s.url, next, 2000 + cycle * 1000, () => void kill(child));
      confirmed.push(...got);
      next += 100_000; // numbers of the next cycle never collide with unconfirmed ones of this one
      s = await startServer(dir);
      const { bodies, offsets } = await readAll(s.url);
      const present = new Set(bodies);
      for (const n of confirmed) expect(present.has(`m${n}`), `confirmed m${n} lost in cycle ${cycle}`).toBe(true);
      expect(new Set(bodies).size).toBe(bodies.length);
      expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => i));
      // publish order kept: within a cycle, numbers increase
      const numbers = bodies.map((b) => Number(b.slice(1)));
      for (let i = 1; i < numbers.length; i++) if (Math.floor(numbers[i] / 100_000) === Math.floor(numbers[i - 1] / 100_000)) expect(numbers[i]).toBeGreaterThan(numbers[i - 1]);
    }
    await kill(s.child);
  });
});
