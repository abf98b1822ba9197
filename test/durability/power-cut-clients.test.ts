/**
 * Power cuts with the whole broker and real clients (the thousands of cheap cuts are in
 * power-cut.test.ts; this is the same ledger through the protocol plugins): a Broker on the
 * simulated disk, AMQP confirms, MQTT 5 QoS 1 and QoS 2 and retained publishes, STOMP receipts
 * and a transaction's COMMIT receipt over loopback, the power cut while they publish, a new
 * Broker on what survived, and every confirmed message looked for. The seed picks the work
 * and the cut's luck; socket timing is real, so a seed does not replay exactly here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker.js';
import { createLogger } from '../../src/log/index.js';
import { Prng, seedFrom } from '../helpers/prng.js';
import { SimMachine } from '../helpers/sim-disk.js';
import { RawClient } from '../plugins/stomp/helpers.js';

const CUTS = Number(process.env.WARREN_SIM_CLIENT_CUTS ?? 4);
const SEED = seedFrom('WARREN_SIM_SEED');
const quiet = createLogger({ level: 'error', output: { write: () => undefined } });

async function startOn(dataDir: string, machine: SimMachine): Promise<Broker> {
  const local = { port: 0, host: '127.0.0.1' };
  const broker = new Broker(
    { dataDir, amqp: local, mqtt: { ...local, ws_enabled: false }, stomp: { ...local, ws_enabled: false }, plugins: { management: { enabled: false } } },
    { logger: quiet, disk: machine.mount() },
  );
  await broker.start();
  return broker;
}

describe('power cuts with real clients', () => {
  it(`loses no confirmed AMQP, MQTT or STOMP publish (${CUTS} cuts, seed ${SEED})`, async () => {
    const rng = new Prng(SEED);
    const dataDir = await mkdtemp(join(tmpdir(), 'warren-simclients-'));
    const machine = new SimMachine([dataDir]);
    let broker = await startOn(dataDir, machine);
    const setup = await amqp.connect(broker.url('amqp'));
    const sch = await setup.createChannel();
    await sch.assertQueue('q', { durable: true });
    await sch.bindQueue('q', 'amq.topic', 'q');
    await setup.close();
    let confirmedTotal = 0;
    try {
      for (let cut = 0; cut < CUTS; cut++) {
        const confirmed: string[] = [];
        const retained = new Map<string, string>(); // topic → newest confirmed value
        const sentRetained = new Map<string, string[]>(); // topic → values in publish order
        const closers: (() => void)[] = [];
        // AMQP
        const ac = await amqp.connect(broker.url('amqp'));
        ac.on('error', () => undefined);
        const ach = await ac.createConfirmChannel();
        ach.on('error', () => undefined);
        closers.push(() => void ac.close().catch(() => undefined));
        // MQTT 5
        const mc = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.address('mqtt').port}`, { protocolVersion: 5, clientId: `sim-${cut}`, reconnectPeriod: 0 });
        mc.on('error', () => undefined);
        closers.push(() => mc.end(true));
        // STOMP
        const [sc] = await RawClient.login(broker.address('stomp').port);
        closers.push(() => sc.socket.destroy());
        const stompReceipts = new Map<string, string[]>();

        let n = 0;
        const publishSome = (): void => {
          const k = 1 + rng.int(6);
          for (let i = 0; i < k; i++) {
            const id = `${cut}:${++n}`;
            const path = rng.int(6);
            if (path === 0) {
              try {
                ach.sendToQueue('q', Buffer.from(`amqp-${id}`), { persistent: true }, (err) => void (err ?? confirmed.push(`amqp-${id}`)));
              } catch {
                // the channel is gone (the cut)
              }
            } else if (path === 1 || path === 2) {
              const qos = path === 1 ? 1 : 2;
              const body = `mqtt${qos}-${id}`;
              mc.publish('q', body, { qos }, (err) => void (err ?? confirmed.push(body)));
            } else if (path === 3) {
              const topic = `r/${rng.int(3)}`;
              const body = `retained-${id}`;
              (sentRetained.get(topic) ?? sentRetained.set(topic, []).get(topic)!).push(body);
              mc.publish(topic, body, { qos: 1, retain: true }, (err) => void (err ?? retained.set(topic, body)));
            } else if (path === 4) {
              const body = `stomp-${id}`;
              stompReceipts.set(`rc-${id}`, [body]);
              sc.send('SEND', { destination: '/amq/queue/q', persistent: 'true', receipt: `rc-${id}` }, body);
            } else {
              const t = `tx-${id}`;
              const bodies = [`stomptx-${id}-a`, `stomptx-${id}-b`];
              sc.send('BEGIN', { transaction: t });
              for (const b of bodies) sc.send('SEND', { destination: '/amq/queue/q', persistent: 'true', transaction: t }, b);
              sc.send('COMMIT', { transaction: t, receipt: `rc-${id}` });
              stompReceipts.set(`rc-${id}`, bodies);
            }
          }
        };
        const rounds = 1 + rng.int(8);
        for (let r = 0; r < rounds; r++) {
          publishSome();
          await new Promise((res) => setTimeout(res, rng.int(15)));
        }
        // ---- the cut: what was confirmed by now must survive ----
        for (const f of sc.frames) if (f.command === 'RECEIPT') confirmed.push(...(stompReceipts.get(f.headers['receipt-id']) ?? []));
        const confirmedAtCut = [...confirmed];
        const retainedAtCut = new Map(retained);
        machine.powerCut(rng);
        for (const close of closers) close();
        await broker.stop().catch(() => undefined);
        broker = await startOn(dataDir, machine);
        // ---- the ledger ----
        const c = await amqp.connect(broker.url('amqp'));
        const ch = await c.createChannel();
        const present = new Set<string>();
        for (;;) {
          const m = await ch.get('q', { noAck: true });
          if (!m) break;
          present.add(m.content.toString());
        }
        await c.close();
        const lost = confirmedAtCut.filter((id) => !present.has(id));
        expect(lost, `seed ${SEED}, cut ${cut + 1}: confirmed and lost`).toEqual([]);
        const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.address('mqtt').port}`, { protocolVersion: 5, clientId: `check-${cut}`, reconnectPeriod: 0 });
        const got = new Map<string, string>();
        sub.on('message', (topic, payload) => got.set(topic, payload.toString()));
        await sub.subscribeAsync('r/#', { qos: 1 });
        await new Promise((res) => setTimeout(res, 200));
        await sub.endAsync();
        for (const [topic, value] of retainedAtCut) {
          const order = sentRetained.get(topic) ?? [];
          const now = got.get(topic);
          // the newest confirmed value, or one published after it
          expect(now !== undefined && order.indexOf(now) >= order.indexOf(value), `seed ${SEED}, cut ${cut + 1}: retained ${topic} is ${now}, confirmed ${value}`).toBe(true);
        }
        confirmedTotal += confirmedAtCut.length;
      }
    } finally {
      await broker.stop().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    }
    console.log(`real clients: cuts=${CUTS} confirmed=${confirmedTotal} lost=0 seed=${SEED}`);
    expect(confirmedTotal).toBeGreaterThan(0);
  }, 120_000);
});
