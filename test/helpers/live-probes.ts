/**
 * Well-behaved clients of each protocol, used after a fuzz batch or during a robustness test
 * to show that the broker still serves: amqplib (declare, publish, get), MQTT.js (subscribe,
 * publish QoS 1, receive) and a raw STOMP 1.2 client (CONNECT, SUBSCRIBE, SEND, MESSAGE).
 * Each returns its round-trip time in ms and closes everything it opened.
 */
import { connect as netConnect } from 'node:net';
import amqplib from 'amqplib';
import mqtt from 'mqtt';

export interface Ports {
  amqp: number;
  mqtt: number;
  stomp: number;
}

let n = 0;
const unique = (p: string) => `${p}-${process.pid}-${++n}-${Date.now().toString(36)}`;

export async function probeAmqp(port: number): Promise<number> {
  const t0 = performance.now();
  const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  try {
    const ch = await conn.createChannel();
    const q = unique('probe');
    await ch.assertQueue(q, { autoDelete: false, exclusive: true });
    ch.sendToQueue(q, Buffer.from('ping'));
    for (let i = 0; i < 200; i++) {
      const m = await ch.get(q, { noAck: true });
      if (m && m.content.toString() === 'ping') return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('AMQP probe: message not received');
  } finally {
    await conn.close().catch(() => {});
  }
}

export async function probeMqtt(port: number, timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now();
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: unique('probe'), reconnectPeriod: 0, connectTimeout: timeoutMs });
  try {
    const topic = `probe/${unique('t')}`;
    const got = new Promise<void>((resolve) => client.on('message', (t) => t === topic && resolve()));
    await client.subscribeAsync(topic, { qos: 1 });
    await client.publishAsync(topic, 'ping', { qos: 1 });
    await withTimeout(got, timeoutMs, 'MQTT probe: message not received');
    return performance.now() - t0;
  } finally {
    await client.endAsync(true).catch(() => {});
  }
}

export function probeStomp(port: number, timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now();
  const dest = `/queue/${unique('probe')}`;
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      const s = netConnect({ port, host: '127.0.0.1' });
      let text = '';
      let subscribed = false;
      s.on('error', reject);
      s.on('connect', () => s.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0'));
      s.on('data', (d) => {
        text += d.toString('latin1');
        if (text.startsWith('CONNECTED') && !subscribed) {
          subscribed = true;
          s.write(`SUBSCRIBE\nid:0\ndestination:${dest}\n\n\0SEND\ndestination:${dest}\n\nping\0`);
        }
        if (/\0\n*MESSAGE\n[\s\S]*ping\0/.test(text)) {
          s.end('DISCONNECT\n\n\0');
          s.destroy();
          resolve(performance.now() - t0);
        }
        if (text.startsWith('ERROR')) reject(new Error(`STOMP probe: ${text}`));
      });
    }),
    timeoutMs,
    'STOMP probe: no MESSAGE',
  );
}

/** One probe of each protocol at once; `timeoutMs`: how long the MQTT and STOMP probes wait before they fail. */
export async function probeAll(p: Ports, timeoutMs = 10_000): Promise<{ amqp: number; mqtt: number; stomp: number }> {
  const [amqp, mq, stomp] = await Promise.all([probeAmqp(p.amqp), probeMqtt(p.mqtt, timeoutMs), probeStomp(p.stomp, timeoutMs)]);
  return { amqp, mqtt: mq, stomp };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)))]).finally(() => clearTimeout(timer));
}

/** Poll `cond` until it holds or the deadline passes (generous: the machine is loaded). */
export async function until(cond: () => boolean | Promise<boolean>, ms = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
