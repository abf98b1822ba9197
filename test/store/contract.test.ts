/**
 * The MessageStore contract, run against both implementations (STYLE.md §3 rule 6, after
 * NATS's store_test.go): whatever the core relies on must hold for the file store and the
 * memory store alike.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/store/file-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { MessageStore } from '../../src/store/message-store.js';
import { bodies, cleanupTempDirs, durable, logSink, msg, props, put, read, readAll, tempDir } from './helpers.js';

const implementations: [string, () => Promise<MessageStore>][] = [
  ['MemoryStore', async () => new MemoryStore()],
  ['FileStore', async () => FileStore.open({ dir: await tempDir(), log: logSink().log })],
];

describe.each(implementations)('MessageStore contract: %s', (_name, open) => {
  const opened: MessageStore[] = [];
  const make = async (): Promise<MessageStore> => {
    const s = await open();
    opened.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    await cleanupTempDirs();
  });

  it('reads back what was appended, in seq order, with every field', async () => {
    const s = await make();
    s.appendMessage(msg('one', 'key.a', 'x1', 3), props('a'), 1_800_000_000_000, [7], [1], 1);
    s.appendMessage(msg('two', 'key.b', 'x2'), props('b'), 0, [7], [2], 1);
    const [m1, m2] = await readAll(s, 7);
    expect(m1).toMatchObject({ queueId: 7, seq: 1, exchange: 'x1', routingKey: 'key.a', priority: 3, expiresAt: 1_800_000_000_000 });
    expect(m1.publishedAt).toBe(1_700_000_000_000);
    expect(m1.body.toString()).toBe('one');
    expect(m1.properties.toString()).toBe('props:a');
    expect(m1.redelivered).toBe(false);
    expect(m2).toMatchObject({ seq: 2, exchange: 'x2', routingKey: 'key.b', expiresAt: 0 });
    expect(m2.msgId).toBeGreaterThan(m1.msgId);
    expect(s.queueLength(7)).toBe(2);
    expect(s.queueBytes(7)).toBe(6);
    expect(s.queueIds()).toEqual([7]);
  });

  it('keeps empty bodies and properties, unicode names and large bodies', async () => {
    const s = await make();
    const big = Buffer.alloc(300_000, 7);
    s.appendMessage(msg(Buffer.alloc(0), 'ключ.🔑', 'обмен'), Buffer.alloc(0), 0, [1], [1], 1);
    s.appendMessage(msg(big), props(), 0, [1], [2], 1);
    const [a, b] = await readAll(s, 1);
    expect(a.body.length).toBe(0);
    expect(a.properties.length).toBe(0);
    expect(a.routingKey).toBe('ключ.🔑');
    expect(a.exchange).toBe('обмен');
    expect(b.body.equals(big)).toBe(true);
  });

  it('writes a fanned-out message once and tracks each queue on its own', async () => {
    const s = await make();
    s.appendMessage(msg('fan'), props(), 0, [1, 2, 3], [10, 20, 30], 3);
    expect(s.metrics().records.msg).toBe(1);
    expect((await readAll(s, 2))[0]).toMatchObject({ seq: 20 });
    expect(s.ack(2, 20)).toBe(true);
    expect(await readAll(s, 2)).toEqual([]);
    expect(bodies(await readAll(s, 1))).toEqual(['fan']);
    expect(bodies(await readAll(s, 3))).toEqual(['fan']);
    const [a] = await readAll(s, 1);
    const [c] = await readAll(s, 3);
    expect(a.msgId).toBe(c.msgId);
  });

  it('acks remove exactly one live entry', async () => {
    const s = await make();
    for (let i = 1; i <= 5; i++) put(s, 1, i, `m${i}`);
    expect(s.ack(1, 3)).toBe(true);
    expect(s.ack(1, 3)).toBe(false);
    expect(s.ack(1, 99)).toBe(false);
    expect(s.ack(42, 1)).toBe(false);
    expect(bodies(await readAll(s, 1))).toEqual(['m1', 'm2', 'm4', 'm5']);
    expect(s.queueLength(1)).toBe(4);
    expect(s.queueBytes(1)).toBe(8);
  });

  it('purges up to a seq, keeping the listed entries', async () => {
    const s = await make();
    for (let i = 1; i <= 6; i++) put(s, 1, i, `m${i}`);
    expect(s.purge(1, 4, [2])).toBe(3);
    expect(bodies(await readAll(s, 1))).toEqual(['m2', 'm5', 'm6']);
    expect(s.purge(1, Number.MAX_SAFE_INTEGER)).toBe(3);
    expect(s.queueLength(1)).toBe(0);
    // appends continue above everything seen
    put(s, 1, 7, 'm7');
    expect(bodies(await readAll(s, 1))).toEqual(['m7']);
  });

  it('deletes a queue with its entries and refuses its id afterwards', async () => {
    const s = await make();
    s.appendMessage(msg('shared'), props(), 0, [1, 2], [1, 1], 2);
    put(s, 1, 2, 'only1');
    expect(s.deleteQueue(1)).toBe(2);
    expect(s.queueLength(1)).toBe(0);
    expect(bodies(await readAll(s, 2))).toEqual(['shared']);
    expect(() => put(s, 1, 3, 'again')).toThrow(RangeError);
    expect(s.queueIds()).toEqual([2]);
  });

  it('refuses seqs that do not increase, duplicate targets and empty target lists', async () => {
    const s = await make();
    put(s, 1, 5, 'a');
    expect(() => put(s, 1, 5, 'b')).toThrow(RangeError);
    expect(() => put(s, 1, 4, 'b')).toThrow(RangeError);
    expect(() => s.appendMessage(msg('x'), props(), 0, [2, 2], [1, 2], 2)).toThrow(RangeError);
    expect(() => s.appendMessage(msg('x'), props(), 0, [], [], 0)).toThrow(RangeError);
    // a refused append leaves nothing behind
    expect(s.queueLength(2)).toBe(0);
    expect(s.nextSeq(1)).toBe(6);
    expect(s.nextSeq(99)).toBe(1);
  });

  it('reads a window: after a seq, by count, by bytes, by priority', async () => {
    const s = await make();
    for (let i = 1; i <= 10; i++) s.appendMessage(msg(`m${i}`, 'rk', 'ex', i % 2), props(), 0, [1], [i * 10], 1);
    expect(bodies((await read(s, 1, 30, 3)).messages)).toEqual(['m4', 'm5', 'm6']);
    expect(bodies((await read(s, 1, 0, 100, { maxBytes: 5 })).messages)).toEqual(['m1', 'm2', 'm3']);
    expect(bodies((await read(s, 1, 0, 100, { maxBytes: 1 })).messages)).toEqual(['m1']);
    expect(bodies((await read(s, 1, 0, 3, { priority: 0 })).messages)).toEqual(['m2', 'm4', 'm6']);
    expect((await read(s, 1, 100, 5)).messages).toEqual([]);
    expect((await read(s, 77, 0, 5)).messages).toEqual([]);
  });

  it('reads messages appended in the same turn, before any flush', async () => {
    const s = await make();
    put(s, 1, 1, 'fresh');
    const pending = read(s, 1);
    put(s, 1, 2, 'fresher');
    expect(bodies((await pending).messages)).toEqual(['fresh']);
  });

  it('leaves out entries acked while a read was in flight', async () => {
    const s = await make();
    put(s, 1, 1, 'a');
    put(s, 1, 2, 'b');
    await s.flush();
    const pending = read(s, 1);
    s.ack(1, 1);
    expect(bodies((await pending).messages)).toEqual(['b']);
  });

  it('releases durability waiters asynchronously, once each, in LSN order', async () => {
    const s = await make();
    const order: number[] = [];
    const listener = { onDurable: (token: number, e: Error | null) => void order.push(e ? -token : token) };
    const lsns: number[] = [];
    for (let i = 1; i <= 20; i++) lsns.push(put(s, 1, i, `m${i}`));
    for (let i = 1; i <= 20; i++) expect(lsns[i - 1]).toBeGreaterThan(i > 1 ? lsns[i - 2] : 0);
    // registered out of order on purpose
    for (let i = 20; i >= 1; i--) s.whenDurable(lsns[i - 1], listener, i);
    expect(order).toEqual([]);
    await s.flush();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(s.durableLsn).toBeGreaterThanOrEqual(lsns[19]);
    // an LSN that is durable already is still answered asynchronously
    let late = false;
    s.whenDurable(lsns[0], { onDurable: () => void (late = true) }, 0);
    expect(late).toBe(false);
    await durable(s, lsns[0]);
    expect(late).toBe(true);
  });

  it('tells durable listeners the new durable LSN', async () => {
    const s = await make();
    const seen: number[] = [];
    s.onDurable((lsn) => seen.push(lsn));
    const lsn = put(s, 1, 1, 'x');
    await s.flush();
    expect(seen.some((l) => l >= lsn)).toBe(true);
  });

  it('exposes a metrics snapshot', async () => {
    const s = await make();
    put(s, 1, 1, 'hello');
    s.appendMessage(msg('fan'), props(), 0, [2, 3], [1, 1], 2);
    s.ack(2, 1);
    await s.flush();
    const m = s.metrics();
    expect(m.records.msg).toBe(2);
    expect(m.userPayloadBytes).toBe('hello'.length + 'fan'.length + 2 * props().length);
    expect(m.messagesOnDisk + m.indexEntriesResident).toBeGreaterThanOrEqual(2);
    expect(typeof m.fsyncMicros.p99).toBe('number');
    expect(m.readOnly).toBe(false);
    expect(JSON.parse(JSON.stringify(m))).toEqual(m); // a plain object
  });

  it('refuses appends after close', async () => {
    const s = await make();
    put(s, 1, 1, 'a');
    await s.close();
    expect(() => put(s, 1, 2, 'b')).toThrow();
  });
});
