import { describe, expect, it } from 'vitest';
import { ConfirmTracker } from '../../../plugins/amqp/confirms.js';
import { decodeMethod } from '../../../plugins/amqp/codec/methods.js';

/** The confirms written, as 'ack 5 multiple' / 'nack 2' strings. */
function written(out: Buffer[]): string[] {
  return out.map((f) => {
    expect(f.readUInt16BE(1)).toBe(3); // channel
    const m = decodeMethod(f.subarray(7, f.length - 1)) as { deliveryTag: number; multiple: boolean; requeue?: boolean };
    const kind = f.readUInt16BE(9) === 80 ? 'ack' : 'nack';
    return `${kind} ${m.deliveryTag}${m.multiple ? ' multiple' : ''}`;
  });
}

describe('ConfirmTracker', () => {
  it('coalesces in-order acks of one turn into one basic.ack multiple', () => {
    const t = new ConfirmTracker(3);
    const out: Buffer[] = [];
    for (let seq = 1; seq <= 5; seq++) t.confirm(seq, true, out);
    expect(out).toHaveLength(0);
    expect(t.hasPending).toBe(true);
    t.flush(out);
    expect(written(out)).toEqual(['ack 5 multiple']);
    expect(t.hasPending).toBe(false);
  });

  it('a single ack is sent without multiple', () => {
    const t = new ConfirmTracker(3);
    const out: Buffer[] = [];
    t.confirm(1, true, out);
    t.flush(out);
    t.confirm(2, true, out);
    t.flush(out);
    expect(written(out)).toEqual(['ack 1', 'ack 2']);
  });

  it('never acks with multiple over a publish that is not confirmed yet', () => {
    const t = new ConfirmTracker(3);
    const out: Buffer[] = [];
    t.confirm(1, true, out);
    t.confirm(3, true, out); // 2 (say a persistent message) is still waiting for the disk
    t.confirm(4, true, out);
    t.flush(out);
    expect(written(out)).toEqual(['ack 3', 'ack 4', 'ack 1']);
    out.length = 0;
    t.confirm(2, true, out); // the gap closes: the watermark jumps to 4
    t.confirm(5, true, out);
    t.flush(out);
    expect(written(out)).toEqual(['ack 5 multiple']);
  });

  it('sends nacks on their own, right away', () => {
    const t = new ConfirmTracker(3);
    const out: Buffer[] = [];
    t.confirm(1, true, out);
    t.confirm(2, false, out);
    t.confirm(3, true, out);
    t.flush(out);
    expect(written(out)).toEqual(['nack 2', 'ack 3 multiple']);
  });

  it('numbers publishes from 1', () => {
    const t = new ConfirmTracker(3);
    expect(t.nextSeq++).toBe(1);
    expect(t.nextSeq).toBe(2);
  });
});
