import { describe, expect, it } from 'vitest';
import { FLAG_REDELIVERED } from '../../src/store/index-chunk.js';
import { QueueReplay, resolveQueue } from '../../src/store/replay.js';

/** resolve and list (seq, segment) of the live entries, plus the cancel targets found */
function resolve(q: QueueReplay, unclean = true) {
  const cancels: [number, number][] = [];
  const r = resolveQueue(q, unclean, (s, t) => void cancels.push([s, t]));
  const live: [number, number][] = [];
  if (r) for (let i = 0; i < r.count; i++) live.push([r.seq[i], r.segment[i]]);
  return { r, live, cancels: cancels.sort((a, b) => a[0] - b[0] || a[1] - b[1]) };
}

const add = (q: QueueReplay, seq: number, segment: number) => q.addMsg(seq, segment, seq * 100, 50, 10, 1, 0, 0);

describe('replay resolution', () => {
  it('keeps the last copy of an entry and tells which cancel records still matter', () => {
    const q = new QueueReplay(1);
    for (let s = 1; s <= 6; s++) add(q, s, 1);
    add(q, 2, 3); // compaction copied 2 and 4 into segment 3 (segment 1 not yet deleted)
    add(q, 4, 3);
    q.addAckRun(3, 2, 2); // seqs 3 and 4 acked, the ACK record in segment 2
    q.addAckRun(4, 1, 4); // a copy of that ACK (compaction of segment 2) in segment 4
    const { live, cancels, r } = resolve(q);
    expect(live).toEqual([
      [1, 1],
      [2, 3],
      [5, 1],
      [6, 1],
    ]);
    expect(cancels).toEqual([
      [2, 1], // the ACK of 3 in segment 2 kills a MSG in segment 1
      [2, 1], // …and of 4
      [2, 3], // …and 4's copy in segment 3
      [4, 1],
      [4, 3],
    ]);
    expect(r?.flags[0]).toBe(FLAG_REDELIVERED);
    expect(q.maxSeq).toBe(6);
  });

  it('applies purges with kept entries and deletions regardless of record order', () => {
    const q = new QueueReplay(1);
    for (let s = 1; s <= 5; s++) add(q, s, 1);
    q.purges.push({ upTo: 4, kept: new Set([2]), segment: 2 });
    add(q, 2, 3); // the kept entry, copied after the purge
    const { live } = resolve(q, false);
    expect(live).toEqual([
      [2, 3],
      [5, 1],
    ]);
    q.deletes.push(5);
    const gone = resolve(q);
    expect(gone.r).toBeNull();
    expect(gone.cancels.every(([s]) => s === 5)).toBe(true);
    expect(gone.cancels).toHaveLength(6);
  });

  it('flags DELIVERED entries as redelivered after a clean stop only', () => {
    const q = new QueueReplay(1);
    for (let s = 1; s <= 5; s++) add(q, s, 1);
    q.delivered.push(2, 2);
    const { r } = resolve(q, false);
    expect(Array.from(r?.flags ?? [])).toEqual([0, FLAG_REDELIVERED, FLAG_REDELIVERED, 0, 0]);
  });
});
