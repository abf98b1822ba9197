/**
 * The replication port under bad input: garbage, a bad checksum, an oversized length, frames
 * out of order, a wrong secret (either side) are refused without crashing the leader, and a
 * good follower still catches up and confirms still flow. Plus the codecs (wire.ts, ops.ts)
 * on split, truncated and corrupted input.
 */
import { connect, createServer, type Socket } from 'node:net';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { OpKind, decodeOps, encodeOps, type Op } from '../../../src/cluster/replication/ops.js';
import { FrameError, FrameReader, FrameType, encodeFrame, jsonFrame } from '../../../src/cluster/replication/wire.js';
import { ReplicationFollower } from '../../../src/cluster/replication/index.js';
import { listShipped } from '../../../src/cluster/replication/catch-up.js';
import { SECRET, newFollower, removeTempDirs, startFollower, startLeader, tempDir, until } from './helpers.js';

afterEach(removeTempDirs);

/** Connect, send `bytes`, collect what comes back until the leader closes (or 3 s). */
async function poke(address: { host: string; port: number }, send: (s: Socket, hello: Buffer) => void): Promise<{ closed: boolean; frames: number[] }> {
  const s = connect(address.port, address.host);
  const reader = new FrameReader();
  const frames: number[] = [];
  let closed = false;
  let sent = false;
  s.on('data', (d: Buffer) => {
    for (const f of reader.push(d)) {
      frames.push(f.type);
      if (!sent) {
        sent = true;
        send(s, f.payload);
      }
    }
  });
  s.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 3000);
    s.on('close', () => {
      closed = true;
      clearTimeout(t);
      resolve();
    });
  });
  s.destroy();
  return { closed, frames };
}

describe('replication port refuses bad input', () => {
  it('garbage, bad CRC, huge length, out-of-order frames, wrong secret: refused; the leader carries on', async () => {
    const l = await startLeader({ minIsr: 2 });
    try {
      const cases: ((s: Socket, hello: Buffer) => void)[] = [
        (s) => s.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')),
        (s) => {
          const f = jsonFrame(FrameType.AUTH, { nodeId: 'x', epoch: 1, nonce: 'n', mac: 'm' });
          f[f.length - 1] ^= 0xff;
          s.write(f);
        },
        (s) => s.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 5, 0, 0])),
        (s) => s.write(encodeFrame(FrameType.ACK, Buffer.alloc(8))),
        (s) => s.write(jsonFrame(FrameType.AUTH, { nodeId: 'x', epoch: 1, nonce: 'n', mac: 'not-the-mac' })),
        (s) => s.write(jsonFrame(FrameType.AUTH, { nodeId: 42 })),
        (s) => s.write(encodeFrame(FrameType.AUTH, Buffer.from('{not json'))),
      ];
      for (const c of cases) {
        const r = await poke(l.address, c);
        expect(r.closed).toBe(true);
        expect(r.frames[0]).toBe(FrameType.HELLO);
        expect(r.frames).not.toContain(FrameType.WELCOME);
      }
      // a follower with the wrong secret is told why and writes nothing
      const wrongDir = await tempDir('warren-wrong-');
      const wrong = new ReplicationFollower({ dataDir: wrongDir, nodeId: 'w', secret: 'not-the-secret', epoch: 1, leader: l.address, retry: false });
      await expect(wrong.start()).rejects.toThrow(/authentication failed/);
      await wrong.stop();
      expect(await listShipped(wrongDir)).toEqual([]);
      // the leader still works: a good follower catches up and confirms flow
      const f = await startFollower(l.address, await tempDir('warren-follower-'));
      l.leader.setIsr(['f1']);
      const conn = await amqp.connect(l.amqpUrl);
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('after-bad', { durable: true });
      ch.sendToQueue('after-bad', Buffer.from('ok'), { persistent: true });
      await ch.waitForConfirms();
      await conn.close();
      await f.stop();
    } finally {
      await l.broker.stop();
      await l.leader.close();
    }
  }, 60_000);

  it('a follower refuses a leader that does not know the secret, or leads an older epoch', async () => {
    // a fake leader: says HELLO, answers AUTH with a made-up mac
    const server = createServer((s) => {
      s.write(jsonFrame(FrameType.HELLO, { v: 1, leaderId: 'fake', epoch: 5, nonce: 'abc' }));
      s.on('data', () => s.write(jsonFrame(FrameType.WELCOME, { mac: '00'.repeat(32) })));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const dir = await tempDir('warren-follower-');
    const f = newFollower({ host: '127.0.0.1', port }, dir, 'f1', { retry: false });
    await expect(f.start()).rejects.toThrow(/leader failed authentication/);
    await f.stop();
    server.close();
    // a real leader of epoch 1 after this node followed epoch 3: refused (fencing)
    const l = await startLeader({ epoch: 1 });
    try {
      const old = new ReplicationFollower({ dataDir: dir, nodeId: 'f1', secret: SECRET, epoch: 3, leader: l.address, retry: false });
      await expect(old.start()).rejects.toThrow(/older than 3/);
      await old.stop();
    } finally {
      await l.broker.stop();
      await l.leader.close();
    }
  });
});

describe('codecs', () => {
  const ops: Op[] = [
    { kind: OpKind.TRUNCATE, path: 'vhosts/1/00000000000000000001.wj', length: 0 },
    { kind: OpKind.WRITE, path: 'vhosts/1/00000000000000000001.wj', at: 2 ** 40, bytes: Buffer.from('hello') },
    { kind: OpKind.UNLINK, path: 'streams/3/00000000000000000000.ws' },
    { kind: OpKind.RM, path: 'streams/3' },
    { kind: OpKind.FILE, path: 'streams/4/00000000000000000000.wi', bytes: Buffer.alloc(100, 7) },
    { kind: OpKind.META, path: 'meta.db', seq: 9, json: Buffer.from('[]') },
    { kind: OpKind.SNAPSHOT, path: 'mqtt/retained.db', seq: 10, at: 4, total: 7, bytes: Buffer.alloc(3) },
  ];

  it('frames survive any split; every truncation or flipped byte of an OPS payload is refused, never misread', () => {
    const frame = encodeFrame(FrameType.OPS, encodeOps(77, ops));
    for (let cut = 1; cut < frame.length; cut++) {
      const r = new FrameReader();
      const got = [...r.push(frame.subarray(0, cut)), ...r.push(frame.subarray(cut))];
      expect(got.length).toBe(1);
      expect(decodeOps(got[0].payload)).toEqual({ position: 77, ops });
    }
    for (let i = 4; i < frame.length; i++) {
      const bad = Buffer.from(frame);
      bad[i] ^= 0x40;
      expect(() => new FrameReader().push(bad)).toThrow(FrameError);
    }
    const payload = Buffer.concat(encodeOps(77, ops));
    for (let n = 0; n < payload.length; n++) expect(() => decodeOps(payload.subarray(0, n))).toThrow(FrameError);
  });
});
