/**
 * The journal's elision (src/store/elision.ts): a MSG record whose every queue copy a consumer
 * acknowledged before its group-commit round was taken is written as a HOLE header only — no
 * body bytes, no CRC — and its confirm goes out with the round. Everything else is written:
 * a copy that is not acked, acked some other way (expiry, dead-letter: `consumed` false), or
 * one of two queues still holding it. On the simulated disk behind a gate on fdatasync
 * (test/helpers/gated-disk.ts), so a test tells a write from a sync and cuts the power
 * exactly where it wants.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/store/file-store.js';
import { NotReplicatedError, type AppendObserver } from '../../src/store/log/append-observer.js';
import { GatedDisk } from '../helpers/gated-disk.js';
import { Prng } from '../helpers/prng.js';
import { SimMachine } from '../helpers/sim-disk.js';
import { cleanupTempDirs, durable, logSink, msg, props, readAll, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

const KIB64 = 64 * 1024;
const body = (tag: number): Buffer => Buffer.alloc(KIB64, tag);
const quiet = { intervalMs: 3_600_000, idleRolloverMs: 3_600_000 };

/** Confirms as they come: token → error (null = positive). */
function confirms(s: FileStore, lsns: Record<string, number>): Map<string, Error | null> {
  const got = new Map<string, Error | null>();
  for (const [name, lsn] of Object.entries(lsns)) s.whenDurable(lsn, { onDurable: (_t, e) => got.set(name, e) }, 0);
  return got;
}

const turns = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

async function setup(roundBytes?: number, maxRecordSize?: number, elideWindowMs = 0): Promise<{ machine: SimMachine; dir: string; disk: GatedDisk; s: FileStore }> {
  const root = await tempDir('warren-elision-');
  const machine = new SimMachine([root]);
  const disk = new GatedDisk(machine.mount());
  const dir = `${root}/j`;
  const s = await FileStore.open({ dir, disk, roundBytes, maxRecordSize, elideWindowMs, log: logSink().log, reclaim: quiet });
  return { machine, dir, disk, s };
}

/**
 * Round 1 (A) held at its sync; B, consumed meanwhile, is left out by round 2, whose sync is
 * then held (a small record on another queue is written with it: a round of only left-out
 * records is not synced): the journal has seen consumers keep up.
 */
async function consumersKeepingUp(disk: GatedDisk, s: FileStore): Promise<void> {
  disk.closeGate();
  s.appendMessage(msg(body(1)), props('a'), 0, [1], [1], 1);
  await disk.held(1);
  s.appendMessage(msg(body(2)), props('b'), 0, [1], [2], 1);
  s.appendMessage(msg('x'), props('x'), 0, [99], [1], 1);
  s.ack(1, 2, true);
  disk.openGate();
  disk.closeGate();
  await disk.held(1);
}

describe('elision of records consumed before their write', () => {
  it('leaves out only a record consumed on every queue; nothing is confirmed before the sync of its round; a power cut keeps the rest', async () => {
    const { machine, dir, disk, s } = await setup();
    disk.closeGate();
    const a = s.appendMessage(msg(body(1)), props('a'), 0, [1], [1], 1);
    await disk.held(1); // round 1 (A) is written, its fdatasync held
    // appended while round 1 syncs: the next round
    const b = s.appendMessage(msg(body(2)), props('b'), 0, [1], [2], 1);
    const c = s.appendMessage(msg(body(3)), props('c'), 0, [1, 2], [3, 1], 2);
    const d = s.appendMessage(msg(body(4)), props('d'), 0, [1], [4], 1);
    const e = s.appendMessage(msg(body(5)), props('e'), 0, [2], [2], 1);
    const small = s.appendMessage(msg('small'), props('f'), 0, [1], [5], 1);
    expect(s.ack(1, 2, true)).toBe(true); // B: consumed on its one queue
    expect(s.ack(1, 3, true)).toBe(true); // C: consumed on queue 1, still on queue 2
    expect(s.ack(1, 4, false)).toBe(true); // D: left its queue otherwise (expired)
    s.ack(1, 5, true); // a small record is never tracked: written
    const got = confirms(s, { a, b, c, d, e, small });
    await turns();
    expect([...got.keys()]).toEqual([]); // round 1 not synced: nothing confirmed

    const before = s.metrics();
    disk.openGate();
    disk.closeGate();
    await disk.held(1); // round 1 synced, round 2 written, its fdatasync held
    await turns();
    // A is durable; B, C, D, E, small are written (B as a HOLE) but not synced: none confirmed
    expect([...got.keys()]).toEqual(['a']);
    const m = s.metrics();
    expect(m.elided.records - before.elided.records).toBe(1);
    expect(m.elided.bytes - before.elided.bytes).toBeGreaterThan(KIB64);
    // round 2 wrote C, D, E (and the small one, the HOLE header, the ACK records): not B's body
    const written = m.journalBytesWritten - before.journalBytesWritten;
    expect(written).toBeGreaterThan(3 * KIB64);
    expect(written).toBeLessThan(4 * KIB64);

    disk.openGate();
    await s.flush();
    expect([...got.entries()].map(([k, v]) => [k, v])).toEqual(['a', 'b', 'c', 'd', 'e', 'small'].map((k) => [k, null]));

    // power cut with everything durable: the HOLE is skipped, every other record is whole
    machine.powerCut(new Prng(1));
    const r = await FileStore.open({ dir, disk: machine.mount(), log: logSink().log, reclaim: quiet });
    expect(r.recovery.damaged).toEqual([]);
    expect(r.recovery.truncated).toEqual([]);
    expect((await readAll(r, 1)).map((x) => [x.seq, x.body.equals(body(1))])).toEqual([[1, true]]);
    expect((await readAll(r, 2)).map((x) => [x.seq, x.body[0], x.body.length])).toEqual([
      [1, 3, KIB64],
      [2, 5, KIB64],
    ]);
    // seqs are not reused: the ACK records name the left-out one
    expect(r.nextSeq(1)).toBe(6);
    await r.close();
  });

  it('a round ending in a HOLE writes its last byte: recovery finds the HOLE whole, not a torn tail', async () => {
    // rounds of at most 40 KiB written: every 64 KiB record is a group of its own; B (consumed:
    // nothing of it to write) is a round with the small record X before it only because F
    // alone is past the bound (X is written: the round is synced)
    const { machine, dir, disk, s } = await setup(40 * 1024);
    disk.closeGate();
    s.appendMessage(msg(body(1)), props('a'), 0, [1], [1], 1);
    await disk.held(1);
    s.appendMessage(msg('x'), props('x'), 0, [99], [1], 1);
    const b = s.appendMessage(msg(body(2)), props('b'), 0, [1], [2], 1);
    const f = s.appendMessage(msg(body(6)), props('f'), 0, [1], [3], 1);
    s.ack(1, 2, true);
    const got = confirms(s, { b, f });
    disk.openGate();
    disk.closeGate();
    await disk.held(1); // round 2 (B's HOLE) written, held
    disk.openGate();
    disk.closeGate();
    await disk.held(1); // round 2 synced (B confirmed), round 3 (F) written and held
    await turns();
    expect([...got.keys()]).toEqual(['b']);
    expect(s.metrics().elided.records).toBe(1);
    // the cut: round 3 is lost, whole or torn, as the simulated disk decides
    machine.powerCut(new Prng(7));
    disk.openGate();
    const r = await FileStore.open({ dir, disk: machine.mount(), log: logSink().log, reclaim: quiet });
    expect(r.recovery.damaged).toEqual([]);
    // anything cut is after B's HOLE (round 3's records), never at it
    const holeEnd = (b % 2 ** 32) >>> 0;
    for (const t of r.recovery.truncated) expect(t.offset).toBeGreaterThanOrEqual(holeEnd);
    const left = await readAll(r, 1);
    expect(left[0].seq).toBe(1);
    expect(left.map((x) => x.seq).filter((q) => q === 2)).toEqual([]);
    await r.close();
  });

  it('a round is bounded by what it writes: consumed records do not count, so they do not make rounds (and fdatasyncs) of their own', async () => {
    // rounds of at most 70 KiB: one 64 KiB record each when every record is written
    const { disk, s } = await setup(70 * 1024);
    disk.closeGate();
    s.appendMessage(msg(body(1)), props('a'), 0, [1], [1], 1);
    await disk.held(1);
    // six consumed before their round, then one that is not
    for (let seq = 2; seq <= 7; seq++) s.appendMessage(msg(body(seq)), props('b'), 0, [1], [seq], 1);
    const c = s.appendMessage(msg(body(8)), props('c'), 0, [1], [8], 1);
    for (let seq = 2; seq <= 7; seq++) s.ack(1, seq, true);
    const before = s.metrics();
    disk.openGate();
    await s.flush();
    const after = s.metrics();
    expect(after.elided.records - before.elided.records).toBe(6);
    // round 1 (held above), then one round for the six HOLEs, C and the ACK record (was seven)
    expect(after.flushes - before.flushes).toBe(2);
    expect(c).toBeLessThanOrEqual(s.durableLsn);
    await s.close();
  });

  it('consecutive consumed records are one HOLE, no longer than the longest record a reader accepts', async () => {
    // records of 64 KiB and a bound of 140 KiB: B1+B2 are one HOLE, B3 another, C is written
    const { machine, dir, disk, s } = await setup(undefined, 140 * 1024);
    disk.closeGate();
    s.appendMessage(msg(body(1)), props('a'), 0, [1], [1], 1);
    await disk.held(1);
    for (let seq = 2; seq <= 4; seq++) s.appendMessage(msg(body(seq)), props('b'), 0, [1], [seq], 1);
    s.appendMessage(msg(body(5)), props('c'), 0, [1], [5], 1);
    for (let seq = 2; seq <= 4; seq++) s.ack(1, seq, true);
    const before = s.metrics().writevCalls;
    disk.openGate();
    await s.flush();
    // round 2: [HOLE B1+B2] [HOLE B3] [C, ACK record] — three positional writes, not five
    expect(s.metrics().writevCalls - before).toBe(3);
    expect(s.metrics().elided.records).toBe(3);
    machine.powerCut(new Prng(5));
    const r = await FileStore.open({ dir, disk: machine.mount(), maxRecordSize: 140 * 1024, log: logSink().log, reclaim: quiet });
    expect(r.recovery.damaged).toEqual([]);
    expect(r.recovery.truncated).toEqual([]);
    expect((await readAll(r, 1)).map((x) => [x.seq, x.body[0]])).toEqual([
      [1, 1],
      [5, 5],
    ]);
    await r.close();
  });

  it('consumed records on both sides of a group boundary are one HOLE: a round is one gather write per segment, not two writes per group', async () => {
    // groups are cut at 150 KiB of placed bytes (two 64 KiB records each); the round takes all
    // four (consumed records do not count against its bound) and writes them as one group
    const { machine, dir, disk, s } = await setup(150 * 1024);
    disk.closeGate();
    s.appendMessage(msg(body(1)), props('a'), 0, [1], [1], 1);
    await disk.held(1);
    for (let seq = 2; seq <= 7; seq++) s.appendMessage(msg(body(seq)), props('b'), 0, [1], [seq], 1);
    s.appendMessage(msg(body(8)), props('c'), 0, [1], [8], 1);
    for (let seq = 2; seq <= 7; seq++) s.ack(1, seq, true);
    const before = s.metrics();
    disk.openGate();
    await s.flush();
    const after = s.metrics();
    expect(after.elided.records - before.elided.records).toBe(6);
    expect(after.flushes - before.flushes).toBe(2); // round 1 (held above) and round 2
    // round 2: [HOLE B2…B7] [C, ACK record]: two positional writes (a HOLE header and a zero byte per
    // group of consumed records, and C's group, made seven before)
    expect(after.writevCalls - before.writevCalls).toBe(2);
    machine.powerCut(new Prng(11));
    const r = await FileStore.open({ dir, disk: machine.mount(), log: logSink().log, reclaim: quiet });
    expect(r.recovery.damaged).toEqual([]);
    expect(r.recovery.truncated).toEqual([]);
    expect((await readAll(r, 1)).map((x) => [x.seq, x.body[0]])).toEqual([
      [1, 1],
      [8, 8],
    ]);
    await r.close();
  });

  it('a round of only consumed records and ACK records is confirmed without an fdatasync; flush() still syncs it', async () => {
    const { machine, dir, disk, s } = await setup();
    disk.closeGate();
    const a = s.appendMessage(msg(body(1)), props('a'), 0, [1], [1], 1);
    await disk.held(1); // round 1 (A) written, its sync held
    const lsns: Record<string, number> = {};
    for (let seq = 2; seq <= 4; seq++) lsns[`b${seq}`] = s.appendMessage(msg(body(seq)), props('b'), 0, [1], [seq], 1);
    for (let seq = 2; seq <= 4; seq++) s.ack(1, seq, true);
    const got = confirms(s, { a, ...lsns });
    const before = s.metrics();
    disk.openGate();
    disk.closeGate(); // a sync of round 2 would be held now
    for (let i = 0; i < 50 && got.size < 4; i++) await turns();
    // round 2 wrote HOLEs and an ACK record: nothing in it needs a sync, so none was asked for
    expect([...got.keys()].sort()).toEqual(['a', 'b2', 'b3', 'b4']);
    expect(disk.heldCount).toBe(0);
    const after = s.metrics();
    expect(after.elided.records - before.elided.records).toBe(3);
    expect(after.fsyncs - before.fsyncs).toBe(1); // round 1's only
    // a flush with nothing waiting still syncs what round 2 wrote
    const synced = s.flush();
    await disk.held(1);
    disk.openGate();
    await synced;
    expect(s.metrics().fsyncs - before.fsyncs).toBe(2);
    disk.closeGate();
    // A consumed now: its ACK record goes into a round of its own, which flush() syncs
    s.ack(1, 1, true);
    const flushed = s.flush();
    await disk.held(1);
    disk.openGate();
    await flushed;
    machine.powerCut(new Prng(3));
    const r = await FileStore.open({ dir, disk: machine.mount(), log: logSink().log, reclaim: quiet });
    expect(r.recovery.damaged).toEqual([]);
    expect(await readAll(r, 1)).toEqual([]);
    await r.close();
  });

  it('flush() whose own fdatasync fails rejects (it does not wait forever)', async () => {
    const { machine, s } = await setup();
    const b = s.appendMessage(msg(body(2)), props('b'), 0, [1], [1], 1);
    s.ack(1, 1, true);
    const got = confirms(s, { b });
    for (let i = 0; i < 50 && got.size < 1; i++) await turns();
    expect(got.get('b')).toBeNull(); // a round of a HOLE and an ACK record: written, not synced
    machine.inject({ op: 'fdatasync', code: 'EIO' });
    const outcome = await Promise.race([
      s.flush().then(() => 'resolved', (e: Error) => `rejected: ${(e as NodeJS.ErrnoException).code}`),
      new Promise<string>((r) => setTimeout(() => r('still waiting'), 2000)),
    ]);
    expect(outcome).toBe('rejected: EIO');
    await s.close().catch(() => undefined);
  });

  it('flush() syncs a round written without its sync even when replication refused that round', async () => {
    const root = await tempDir('warren-elision-');
    const held: ((refusal: NotReplicatedError | null) => void)[] = [];
    const observer: AppendObserver = { written: () => undefined, durable: () => undefined, sealed: () => undefined, hold: (_log, release) => void held.push(release) };
    const s = await FileStore.open({ dir: `${root}/j`, appendObserver: observer, elideWindowMs: 0, log: logSink().log, reclaim: quiet });
    s.appendMessage(msg(body(2)), props('b'), 0, [1], [1], 1);
    s.ack(1, 1, true); // consumed before its round: a HOLE and an ACK record, written without a sync
    // real files: the round's segment creation and write take what the disk takes (by time, not turns)
    const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 5));
    for (let t = Date.now(); Date.now() - t < 10_000 && held.length < 1; ) await pause();
    expect(held.length).toBe(1);
    const before = s.metrics().fsyncs;
    // everything appended is in the round the gate holds: flush() has nothing left to mark
    let settled = false;
    const flushed = s.flush().finally(() => (settled = true));
    held.shift()!(new NotReplicatedError('too few replicas'));
    for (let t = Date.now(); Date.now() - t < 10_000 && !settled; ) {
      while (held.length > 0) held.shift()!(null);
      await pause();
    }
    await flushed;
    expect(s.metrics().fsyncs - before).toBe(1);
    let closed = false;
    const closing = s.close().finally(() => (closed = true));
    for (let t = Date.now(); Date.now() - t < 10_000 && !closed; ) {
      while (held.length > 0) held.shift()!(null);
      await pause();
    }
    await closing;
  });

  it('an ack that is not a consumer\'s (expiry, dead-lettering, a drop) is synced with its round', async () => {
    const { disk, s } = await setup();
    const a = s.appendMessage(msg(body(1)), props('a'), 0, [1], [1], 1);
    const b = s.appendMessage(msg(body(2)), props('b'), 0, [1], [2], 1);
    expect(await durable(s, b)).toBeNull();
    expect(a).toBeLessThan(b);
    const before = s.metrics().fsyncs;
    disk.closeGate();
    s.ack(1, 1, true); // a consumer's: its round is only written
    for (let i = 0; i < 20; i++) await turns();
    expect(disk.heldCount).toBe(0);
    s.ack(1, 2, false); // expired (its dead-letter copy may be durable already): synced
    await disk.held(1);
    disk.openGate();
    await s.flush();
    expect(s.metrics().fsyncs - before).toBe(1);
    await s.close();
  });

  it('a record requeued (never acked) or dead-lettered before its round is written and survives a power cut', async () => {
    const { machine, dir, disk, s } = await setup();
    disk.closeGate();
    s.appendMessage(msg(body(1)), props('a'), 0, [1], [1], 1);
    await disk.held(1);
    // delivered and requeued: no ack at all; rejected to a dead-letter exchange: acked not consumed,
    // its copy appended for the target queue in the same turn
    const requeued = s.appendMessage(msg(body(2)), props('r'), 0, [1], [2], 1);
    const rejected = s.appendMessage(msg(body(3)), props('x'), 0, [1], [3], 1);
    s.ack(1, 3, false);
    const deadLettered = s.appendMessage(msg(body(3)), props('x'), 0, [9], [1], 1);
    disk.openGate();
    await s.flush();
    expect(s.metrics().elided.records).toBe(0);
    for (const lsn of [requeued, rejected, deadLettered]) expect(lsn).toBeLessThanOrEqual(s.durableLsn);
    machine.powerCut(new Prng(3));
    const r = await FileStore.open({ dir, disk: machine.mount(), log: logSink().log, reclaim: quiet });
    expect((await readAll(r, 1)).map((x) => x.seq)).toEqual([1, 2]);
    expect((await readAll(r, 9)).map((x) => x.body.equals(body(3)))).toEqual([true]);
    await r.close();
  });

  it('while consumers keep up, a round waits up to elideWindowMs for their acks; with nothing left out it does not wait', async () => {
    for (const windowMs of [400, 0]) {
      const { disk, s } = await setup(undefined, undefined, windowMs);
      await consumersKeepingUp(disk, s);
      // C comes while round 2 syncs; its consumer acks it 100 ms later
      const c = s.appendMessage(msg(body(3)), props('c'), 0, [1], [3], 1);
      setTimeout(() => s.ack(1, 3, true), 100);
      disk.openGate();
      expect(await durable(s, c)).toBeNull();
      // with a window C waited for its ack and was left out; without, it was written at once
      expect([windowMs, s.metrics().elided.records]).toEqual([windowMs, windowMs > 0 ? 2 : 1]);
      await s.close();
    }
    // nothing left out by the last round (nobody consumes): the next one is taken at once
    const { disk, s } = await setup(undefined, undefined, 5_000);
    disk.closeGate();
    s.appendMessage(msg(body(1)), props('a'), 0, [1], [1], 1);
    await disk.held(1);
    const b = s.appendMessage(msg(body(2)), props('b'), 0, [1], [2], 1);
    const t0 = performance.now();
    disk.openGate();
    expect(await durable(s, b)).toBeNull();
    expect(performance.now() - t0).toBeLessThan(2_500);
    expect(s.metrics().elided.records).toBe(0);
    await s.close();
  });

  it('while consumers keep up, a round leaves a record younger than elideWindowMs to the next one, which finds it consumed', async () => {
    // 64 KiB records, 4 MiB rounds (C and D share a group, which the round cuts), a window of 1 s
    const { disk, s } = await setup(undefined, undefined, 1_000);
    await consumersKeepingUp(disk, s);
    // C is old by the time round 3 is taken, D is young and not consumed yet
    s.appendMessage(msg(body(3)), props('c'), 0, [1], [3], 1);
    await new Promise((r) => setTimeout(r, 1_100));
    const d = s.appendMessage(msg(body(4)), props('d'), 0, [1], [4], 1);
    disk.openGate();
    disk.closeGate();
    await disk.held(1); // round 3 written (C only), its sync held
    s.ack(1, 4, true); // D's ack arrives now
    disk.openGate();
    expect(await durable(s, d)).toBeNull();
    // B and D left out; C, never consumed, written (with a round of C and D, D was written: 1)
    expect(s.metrics().elided.records).toBe(2);
    await s.close();
  });

  it('a consumed record being read when it is left out is not reported damaged', async () => {
    const { disk, s } = await setup();
    disk.closeGate();
    s.appendMessage(msg(body(1)), props('a'), 0, [1], [1], 1);
    await disk.held(1);
    s.appendMessage(msg(body(2)), props('b'), 0, [1], [2], 1);
    // a read planned while B is live waits for B's write; B is consumed before its round
    const read = new Promise<{ seqs: number[]; error: Error | null }>((resolve) =>
      s.read({ queueId: 1, afterSeq: 0, maxCount: 10 }, { onMessages: (_t, ms, error) => resolve({ seqs: ms.map((x) => x.seq), error }) }, 0),
    );
    s.ack(1, 2, true);
    disk.openGate();
    const { seqs, error } = await read;
    expect(error).toBeNull();
    expect(seqs).toEqual([1]);
    expect(s.metrics().elided.records).toBe(1);
    expect(s.metrics().reads.errors).toBe(0);
    await s.close();
  });
});
