/**
 * Fuzz: random bytes and mutated valid packet streams on the MQTT port. Whatever arrives,
 * the broker keeps serving other clients, throws nothing past a socket handler, and leaves
 * no core connection behind once the fuzzing sockets are gone.
 */
import { connect as netConnect } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clients, Inbox, sleep, startMqttBroker, type MqttTestBroker } from './helpers.js';
import { FUZZ_SEED } from '../../helpers/fuzz-seed.js';

let b: MqttTestBroker;
beforeAll(async () => {
  b = await startMqttBroker({ connect_timeout: 500 });
});
afterAll(async () => {
  await b?.stop();
});

/** xorshift32: reproducible runs from FUZZ_SEED (test/helpers/fuzz-seed.ts; printed, and named on failure) */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(a: T[]) => a[Math.floor(next() * a.length)] };
}

function validStream(version: 4 | 5, r: ReturnType<typeof rng>): Buffer {
  const id = () => 1 + r.int(65535);
  const packets: Packet[] = [
    { cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId: `fuzz-${r.int(50)}`, clean: r.next() < 0.5, keepalive: r.int(3), ...(version === 5 ? { properties: { sessionExpiryInterval: r.int(3), topicAliasMaximum: r.int(4), receiveMaximum: 1 + r.int(5) } } : {}), ...(r.next() < 0.3 ? { will: { topic: 'fuzz/will', payload: Buffer.from('w'), qos: r.int(3) as 0 | 1 | 2, retain: r.next() < 0.5 } } : {}) },
    { cmd: 'subscribe', messageId: id(), subscriptions: [{ topic: r.pick(['fuzz/#', 'fuzz/+/x', '$share/g/fuzz/#', '#', '+']), qos: r.int(3) as 0 | 1 | 2 }] },
    { cmd: 'publish', topic: r.pick(['fuzz/a', 'fuzz/b/x', '$SYS/x']), payload: Buffer.alloc(r.int(64), 0x61), qos: 0, retain: r.next() < 0.3, dup: false },
    { cmd: 'publish', topic: 'fuzz/q1', payload: Buffer.from('q1'), qos: 1, messageId: id(), retain: false, dup: false, ...(version === 5 ? { properties: { topicAlias: 1 + r.int(3), userProperties: { k: 'v' } } } : {}) },
    { cmd: 'publish', topic: 'fuzz/q2', payload: Buffer.from('q2'), qos: 2, messageId: id(), retain: false, dup: false },
    { cmd: 'pubrel', messageId: id() },
    { cmd: 'puback', messageId: id() },
    { cmd: 'pubrec', messageId: id() },
    { cmd: 'pubcomp', messageId: id() },
    { cmd: 'unsubscribe', messageId: id(), unsubscriptions: ['fuzz/#'] },
    { cmd: 'pingreq' },
    ...(r.next() < 0.2 ? [{ cmd: 'disconnect' } as Packet] : []),
  ];
  const [connect, ...rest] = packets;
  const chosen = [connect, ...Array.from({ length: 1 + r.int(8) }, () => r.pick(rest))];
  return Buffer.concat(chosen.map((p) => mqttPacket.generate(p, { protocolVersion: version })));
}

function mutate(buf: Buffer, r: ReturnType<typeof rng>): Buffer {
  const out = Buffer.from(buf);
  const edits = 1 + r.int(4);
  for (let i = 0; i < edits; i++) {
    switch (r.int(4)) {
      case 0: // flip a bit
        out[r.int(out.length)] ^= 1 << r.int(8);
        break;
      case 1: // random byte
        out[r.int(out.length)] = r.int(256);
        break;
      case 2: // truncate
        return out.subarray(0, r.int(out.length));
      default: // duplicate a slice
        {
          const at = r.int(out.length);
          return Buffer.concat([out.subarray(0, at), out.subarray(r.int(out.length)), out.subarray(at)]);
        }
    }
  }
  return out;
}

/** Send `bytes` in random chunks, then linger a little and close. */
function blast(port: number, bytes: Buffer, r: ReturnType<typeof rng>): Promise<void> {
  return new Promise((resolve) => {
    const s = netConnect({ port, host: '127.0.0.1' });
    s.on('error', () => {});
    s.on('data', () => {});
    s.on('connect', async () => {
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + r.int(64);
        s.write(bytes.subarray(at, at + n));
        at += n;
        if (r.next() < 0.2) await sleep(1);
      }
      setTimeout(() => s.destroy(), 5 + r.int(30));
    });
    s.on('close', () => resolve());
  });
}

describe('fuzz', () => {
  it('survives random bytes, mutated packets and valid-but-odd streams', async () => {
    const seed = FUZZ_SEED;
    const r = rng(seed);
    const clients = new Clients(b.url);
    try {
      const watcher = await clients.connect({ clientId: 'fuzz-watcher', protocolVersion: 5 });
      const inbox = new Inbox(watcher);
      await watcher.subscribeAsync('alive/#', { qos: 1 });
      const baseline = b.broker.core.connections.size;
      // the valid and lightly mutated streams do get connections established (the fuzz reaches past CONNECT)
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, b.broker.core.connections.size)), 1);

      for (let round = 0; round < 10; round++) {
        const batch: Promise<void>[] = [];
        for (let i = 0; i < 30; i++) {
          const version = r.next() < 0.5 ? 4 : 5;
          const kind = r.int(3);
          const bytes =
            kind === 0
              ? Buffer.from(Array.from({ length: 1 + r.int(300) }, () => r.int(256)))
              : kind === 1
                ? mutate(validStream(version, r), r)
                : validStream(version, r);
          batch.push(blast(b.tcpPort, bytes, r));
        }
        await Promise.all(batch);
        // the broker still serves a well-behaved client
        const p = await clients.connect({ clientId: `alive-${round}` });
        await p.publishAsync(`alive/${round}`, 'yes', { qos: 1 });
        await inbox.waitFor(round + 1, 3000).catch((e) => {
          throw new Error(`seed ${seed}, round ${round}: ${(e as Error).message}`);
        });
        await p.endAsync();
      }
      clearInterval(sampler);
      expect(peak, `seed ${seed}`).toBeGreaterThan(baseline + 1);
      // every fuzzing connection is gone from the core: nothing leaked
      await sleep(300);
      expect(b.broker.core.connections.size, `seed ${seed}`).toBe(baseline);
    } finally {
      await clients.closeAll();
    }
  }, 60_000);
});
