/**
 * Connection storm: 2,000 connections opened as fast as the client side can, across AMQP,
 * MQTT and STOMP, each completing its handshake (pipelined), a fifth of them cut abruptly in
 * the middle of it; then all closed at once. Meanwhile a probe client of each protocol keeps
 * making round trips, which must stay below a generous bound; afterwards every connection is
 * accounted for (the core's count returns to its baseline), and the process's RSS returns
 * near its baseline.
 */
import { execSync } from 'node:child_process';
import { connect as netConnect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMethodFrame } from '../../plugins/amqp/codec/methods.js';
import { M } from '../../plugins/amqp/codec/method-table.js';
import { encode } from '../../plugins/mqtt/codec.js';
import { startManaged, type ManagedBroker } from '../plugins/management/helpers.js';
import { probeAll, until, type Ports } from '../helpers/live-probes.js';

/**
 * Each connection costs two descriptors here (client and broker share this process): keep
 * below the open-files limit (`ulimit -n`; 20,000 on the CI machine), with room for the rest.
 */
const ulimit = execSync('ulimit -n', { shell: '/bin/sh', encoding: 'utf8' }).trim();
const FD_LIMIT = ulimit === 'unlimited' ? Infinity : Number(ulimit) || 1024;
const STORM = Math.min(2000, Math.floor((FD_LIMIT - 512) / 2));

let b: ManagedBroker;
let ports: Ports;
beforeAll(async () => {
  b = await startManaged({ mqtt: true, stomp: true, extra: { mqtt: { port: 0, host: '127.0.0.1', wsEnabled: false }, stomp: { port: 0, host: '127.0.0.1', wsEnabled: false } } });
  ports = { amqp: b.broker.address('amqp').port, mqtt: b.broker.address('mqtt').port, stomp: b.broker.address('stomp').port };
});
afterAll(async () => {
  await b?.stop();
});

const HANDSHAKE = {
  amqp: Buffer.concat([
    Buffer.from('AMQP\0\0\x09\x01', 'latin1'),
    encodeMethodFrame(0, { id: M.connectionStartOk, clientProperties: {}, mechanism: 'PLAIN', response: Buffer.from('\0guest\0guest'), locale: 'en_US' } as never),
    encodeMethodFrame(0, { id: M.connectionTuneOk, channelMax: 16, frameMax: 131072, heartbeat: 0 } as never),
    encodeMethodFrame(0, { id: M.connectionOpen, virtualHost: '/' } as never),
  ]),
  mqtt: (i: number) => encode({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: `storm-${i}`, clean: true, keepalive: 0 }, 4)!,
  stomp: Buffer.from('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0'),
};
/** what each protocol answers once the connection is open */
const OPENED = {
  amqp: (b: Buffer) => b.includes(Buffer.from([0x00, 0x0a, 0x00, 0x29])), // connection.open-ok
  mqtt: (b: Buffer) => b.length >= 4 && b[0] === 0x20 && b[3] === 0, // CONNACK accepted
  stomp: (b: Buffer) => b.includes('CONNECTED'),
};

interface Stormer {
  socket: Socket;
  opened: Promise<boolean>;
}

function storm(protocol: keyof Ports, i: number, abrupt: boolean): Stormer {
  const socket = netConnect({ port: ports[protocol], host: '127.0.0.1' });
  socket.on('error', () => {});
  const bytes = protocol === 'mqtt' ? HANDSHAKE.mqtt(i) : HANDSHAKE[protocol];
  const opened = new Promise<boolean>((resolve) => {
    let got = Buffer.alloc(0);
    socket.on('connect', () => {
      if (abrupt) {
        // part of the handshake, then a reset: the broker must free whatever it started
        socket.write(bytes.subarray(0, 1 + (i % (bytes.length - 1))));
        setImmediate(() => socket.resetAndDestroy());
        resolve(false);
        return;
      }
      socket.write(bytes);
    });
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (OPENED[protocol](got)) resolve(true);
    });
    socket.on('close', () => resolve(false));
  });
  return { socket, opened };
}

function rssMb(): number {
  return process.memoryUsage().rss / 1048576;
}

describe('connection storm', () => {
  it(`${STORM} connections across AMQP, MQTT and STOMP: the broker stays responsive and accounts for all`, async () => {
    const baseline = b.broker.core.connections.size;
    await probeAll(ports); // warm up the probes' code paths
    global.gc?.();
    const rss0 = rssMb();

    let probing = true;
    const rtts: number[] = [];
    const prober = (async () => {
      while (probing) {
        // no probe timeout of its own: its round trip is measured and judged below
        const r = await probeAll(ports, 120_000);
        rtts.push(Math.max(r.amqp, r.mqtt, r.stomp));
      }
    })();

    const protocols = ['amqp', 'mqtt', 'stomp'] as const;
    const t0 = performance.now();
    const clients: Stormer[] = [];
    for (let i = 0; i < STORM; i++) {
      clients.push(storm(protocols[i % 3], i, i % 5 === 4));
      // yield now and then so that the probe and the sockets' events get a turn on this side
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    const opened = await Promise.all(clients.map((c) => c.opened));
    const openMs = performance.now() - t0;
    const expectedOpen = clients.length - clients.filter((_, i) => i % 5 === 4).length;
    expect(opened.filter(Boolean).length).toBe(expectedOpen);
    // every completed handshake is a core connection
    await until(() => b.broker.core.connections.size === baseline + expectedOpen, 30_000, 'every stormer to be registered');
    const peakRss = rssMb();

    for (const c of clients) c.socket.destroy();
    await until(() => b.broker.core.connections.size === baseline, 30_000, 'connections to return to the baseline');
    probing = false;
    await prober;

    expect(rtts.length).toBeGreaterThan(0);
    // A probe round trip (three protocols, connect to close: four exchanges, each waiting for a
    // turn of an event loop busy with every stormer's handshake, client and broker sharing this
    // process) during the storm: it is served in turn with the stormers, not behind all of them
    // or starved. 20 runs at load 9-35 measured 0.5-0.75 x the storm's own opening time (1.7-15 s):
    // an absolute 10 s bound failed on a loaded machine only because the storm itself took longer.
    expect(Math.max(...rtts)).toBeLessThan(Math.max(10_000, openMs));
    // memory comes back (the sockets and sessions are freed); the heap may keep some of its growth
    global.gc?.();
    await until(() => rssMb() < rss0 + Math.max(150, (peakRss - rss0) * 0.75), 30_000, `RSS to come back near ${rss0.toFixed(0)} MB (peak ${peakRss.toFixed(0)} MB, now ${rssMb().toFixed(0)} MB)`);
    console.log(`storm: ${STORM} connections (${expectedOpen} opened) in ${openMs.toFixed(0)} ms; probe rtt max ${Math.max(...rtts).toFixed(0)} ms over ${rtts.length}; RSS ${rss0.toFixed(0)} → ${peakRss.toFixed(0)} → ${rssMb().toFixed(0)} MB`);
  }, 120_000);
});
