import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../src/index.js';
import { FileStore } from '../../../src/store/file-store.js';
import { GatedDisk } from '../../helpers/gated-disk.js';
import { cleanupTempDirs, logSink, put, tempDir } from '../helpers.js';

afterEach(cleanupTempDirs);

describe('GatedDisk (the real disk with fdatasync behind a gate)', () => {
  it('holds the journal group commit: nothing is durable until the gate opens', async () => {
    const disk = new GatedDisk();
    const s = await FileStore.open({ dir: await tempDir(), disk, log: logSink().log });
    disk.closeGate();
    const done: number[] = [];
    for (let i = 1; i <= 3; i++) s.whenDurable(put(s, 1, i, `m${i}`), { onDurable: (t, e) => void (e ?? done.push(t)) }, i);
    await disk.held(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toEqual([]);
    disk.openGate();
    await s.flush();
    expect(done).toEqual([1, 2, 3]);
    await s.close();
  });

  it('reaches a broker through BrokerSetup.disk: an AMQP confirm waits for the gate', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'warren-gated-'));
    const disk = new GatedDisk();
    const broker = new Broker({ dataDir, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1' }, plugins: { mqtt: { enabled: false }, stomp: { enabled: false }, management: { enabled: false } } }, { disk });
    try {
      await broker.start();
      const { host, port } = broker.address('amqp');
      const conn = await amqp.connect(`amqp://guest:guest@${host}:${port}`);
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('gated', { durable: true });
      disk.closeGate();
      let acked = false;
      ch.sendToQueue('gated', Buffer.from('x'), { persistent: true }, (err) => {
        if (!err) acked = true;
      });
      await disk.held(1);
      await new Promise((r) => setTimeout(r, 100));
      expect(acked).toBe(false);
      disk.openGate();
      await ch.waitForConfirms();
      expect(acked).toBe(true);
      await conn.close();
    } finally {
      disk.openGate();
      await broker.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
