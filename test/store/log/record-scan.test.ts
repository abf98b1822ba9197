/**
 * The log engine's recovery scan (src/store/log/record-scan.ts), the one walk over framed
 * records both the journal and the streams recover with: where the valid prefix ends, which
 * record types count as damage (each log's own), salvage past bit rot.
 */
import { describe, expect, it } from 'vitest';
import { RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE, isKnownType, sealRecord, writeRecordHeader } from '../../../src/store/format.js';
import { scanRecords } from '../../../src/store/log/record-scan.js';
import { isStreamRecordType } from '../../../src/store/stream/stream-format.js';

function record(type: number, payload: string): Buffer {
  const body = Buffer.from(payload);
  const b = Buffer.alloc(RECORD_HEADER_SIZE + body.length);
  writeRecordHeader(b, 0, body.length, type);
  body.copy(b, RECORD_HEADER_SIZE);
  sealRecord(b);
  return b;
}

const segment = (records: Buffer[]): Buffer => Buffer.concat([Buffer.alloc(SEGMENT_HEADER_SIZE, 0xee), ...records]);
const journal = { maxRecordSize: 1 << 20, knownType: isKnownType, salvage: false };
const stream = { maxRecordSize: 1 << 20, knownType: isStreamRecordType, salvage: false };

describe('record scan (log engine)', () => {
  it('reports where the valid prefix ends at a torn tail', () => {
    const a = record(0x01, 'first');
    const b = record(0x01, 'second record');
    const whole = segment([a, b]);
    const torn = whole.subarray(0, whole.length - 3);
    const seen: number[] = [];
    const r = scanRecords(torn, SEGMENT_HEADER_SIZE, journal, (_buf, rec) => (seen.push(rec.offset), null));
    expect(seen).toEqual([SEGMENT_HEADER_SIZE]);
    expect(r.validEnd).toBe(SEGMENT_HEADER_SIZE + a.length);
    expect(r.stop).toMatchObject({ offset: SEGMENT_HEADER_SIZE + a.length, length: b.length - 3 });
    expect(r.stop?.reason).toMatch(/torn record/);
    const full = scanRecords(whole, SEGMENT_HEADER_SIZE, journal, () => null);
    expect(full).toMatchObject({ validEnd: whole.length, records: 2, stop: null });
  });

  it('judges record types by the log: a stream record is damage in a journal and the reverse', () => {
    const buf = segment([record(0x30, 'stream message'), record(0x01, 'journal message')]);
    expect(scanRecords(buf, SEGMENT_HEADER_SIZE, journal, () => null).stop?.reason).toBe('unknown record type 0x30');
    const s = scanRecords(buf, SEGMENT_HEADER_SIZE, stream, () => null);
    expect(s.records).toBe(1);
    expect(s.stop?.reason).toBe('unknown record type 0x1');
    // optional types (≥ 0x80) reach the visitor in both
    expect(scanRecords(segment([record(0x9a, 'later version')]), SEGMENT_HEADER_SIZE, stream, () => null).records).toBe(1);
  });

  it('stops where the visitor cannot decode a record, or salvages past damage', () => {
    const recs = [record(0x01, 'one'), record(0x01, 'two'), record(0x01, 'three')];
    const buf = segment(recs);
    const second = SEGMENT_HEADER_SIZE + recs[0].length;
    const refused = scanRecords(buf, SEGMENT_HEADER_SIZE, journal, (_b, rec) => (rec.offset === second ? 'does not decode' : null));
    expect(refused).toMatchObject({ validEnd: second, records: 1, stop: { offset: second, reason: 'does not decode' } });
    buf[second + RECORD_HEADER_SIZE] ^= 0x10; // bit rot in the second record's payload
    const stopped = scanRecords(buf, SEGMENT_HEADER_SIZE, journal, () => null);
    expect(stopped.stop).toMatchObject({ offset: second, reason: 'checksum mismatch' });
    const salvaged = scanRecords(buf, SEGMENT_HEADER_SIZE, { ...journal, salvage: true }, () => null);
    expect(salvaged).toMatchObject({ records: 2, validEnd: buf.length, stop: null, skipped: [{ offset: second, length: recs[1].length }] });
  });
});
