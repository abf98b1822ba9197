/**
 * The durability gate of the append observer (`hold`, src/store/log/append-observer.ts), which
 * replication uses: a journal's and a stream's confirms wait for `release`, a refusal reaches
 * the waiters as NotReplicatedError while the log carries on, and closing a log whose last
 * round was refused still succeeds (the bytes are durable here). Real files in temp dirs.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../../src/store/file-store.js';
import { NotReplicatedError, isNotReplicated, type AppendObserver } from '../../../src/store/log/append-observer.js';
import { StreamStore } from '../../../src/store/stream/stream-store.js';
import { cleanupTempDirs, logSink, msg, props, tempDir } from '../helpers.js';

afterEach(cleanupTempDirs);

/** An observer whose gate holds every round until the test releases it. */
function gate() {
  const held: { log: string; release: (r: NotReplicatedError | null) => void }[] = [];
  const observer: AppendObserver = {
    written: () => undefined,
    durable: () => undefined,
    sealed: () => undefined,
    hold: (log, release) => void held.push({ log, release }),
  };
  const until = async (n: number) => {
    for (let i = 0; i < 500 && held.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    expect(held.length).toBeGreaterThanOrEqual(n);
  };
  return { observer, held, until };
}

const outcome = () => {
  const seen: (Error | null)[] = [];
  return { seen, listener: { onDurable: (_t: number, e: Error | null) => void seen.push(e) } };
};

describe('durability gate', () => {
  it('holds journal confirms until released; a refusal is a negative confirm and the journal carries on', async () => {
    const root = await tempDir('warren-gate-');
    const g = gate();
    const store = await FileStore.open({ dir: join(root, 'j'), journalId: 1, segmentSize: 64 * 1024, appendObserver: g.observer, log: logSink().log });
    const first = outcome();
    store.whenDurable(store.appendMessage(msg('a'), props(), 0, [1], [1], 1), first.listener, 0);
    await g.until(1);
    // the round is written and fdatasynced, but the gate has not released it
    await new Promise((r) => setTimeout(r, 30));
    expect(first.seen).toEqual([]);
    g.held[0].release(null);
    await new Promise((r) => setImmediate(r));
    expect(first.seen).toEqual([null]);

    const second = outcome();
    store.whenDurable(store.appendMessage(msg('b'), props(), 0, [1], [2], 1), second.listener, 0);
    await g.until(2);
    g.held[1].release(new NotReplicatedError('not enough replicas'));
    await new Promise((r) => setImmediate(r));
    expect(second.seen.length).toBe(1);
    expect(isNotReplicated(second.seen[0])).toBe(true);

    const third = outcome();
    store.whenDurable(store.appendMessage(msg('c'), props(), 0, [1], [3], 1), third.listener, 0);
    await g.until(3);
    g.held[2].release(null);
    await new Promise((r) => setImmediate(r));
    expect(third.seen).toEqual([null]);
    // close flushes: its round is refused too, and close still succeeds
    const closing = store.close();
    for (;;) {
      const done = await Promise.race([closing.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 20))]);
      if (done) break;
      for (const h of g.held.splice(0)) h.release(new NotReplicatedError('closing'));
    }
    await closing;
  });

  it('writes the next round while one waits, and commits rounds in order whatever order they are released in', async () => {
    const root = await tempDir('warren-gate-');
    const g = gate();
    const store = await FileStore.open({ dir: join(root, 'j'), journalId: 1, segmentSize: 64 * 1024, appendObserver: g.observer, log: logSink().log });
    const order: string[] = [];
    const listener = (name: string) => ({ onDurable: (_t: number, e: Error | null) => void order.push(e ? `${name}:error` : name) });
    store.whenDurable(store.appendMessage(msg('a'), props(), 0, [1], [1], 1), listener('first'), 0);
    await g.until(1);
    // the first round waits for the replicas; the second is written and synced meanwhile
    store.whenDurable(store.appendMessage(msg('b'), props(), 0, [1], [2], 1), listener('second'), 0);
    await g.until(2);
    g.held[1].release(null);
    await new Promise((r) => setTimeout(r, 30));
    expect(order).toEqual([]);
    g.held[0].release(null);
    await new Promise((r) => setTimeout(r, 30));
    expect(order).toEqual(['first', 'second']);
    const closing = store.close();
    const timer = setInterval(() => {
      for (const h of g.held.splice(2)) h.release(null);
    }, 5);
    await closing.finally(() => clearInterval(timer));
  });

  it('holds stream commits (readers and confirms) until released', async () => {
    const root = await tempDir('warren-gate-');
    const g = gate();
    const streams = new StreamStore({ dir: join(root, 'streams'), durability: 'fsync', offsets: null, appendObserver: g.observer });
    await streams.recover(new Map());
    const log = streams.create(7, { maxSegmentSize: 1 << 20, retention: { maxBytes: -1, maxAgeMs: -1 }, maxSegmentAgeMs: 3_600_000, compaction: null });
    const o = outcome();
    const offset = log.append('', 'k', props(), Buffer.from('x'), null, 0, Date.now());
    log.whenCommitted(offset, o.listener, 0);
    await g.until(1);
    expect(g.held[0].log).toBe('stream/7');
    await new Promise((r) => setTimeout(r, 30));
    expect(o.seen).toEqual([]);
    expect(log.committedOffset).toBe(offset);
    g.held[0].release(null);
    await new Promise((r) => setImmediate(r));
    expect(o.seen).toEqual([null]);
    expect(log.committedOffset).toBe(offset + 1);
    const closing = streams.close();
    const timer = setInterval(() => {
      for (const h of g.held.splice(0)) h.release(null);
    }, 5);
    await closing.finally(() => clearInterval(timer));
  });
});
