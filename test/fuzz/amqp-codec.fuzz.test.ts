/**
 * Property-based fuzzing of the AMQP 0-9-1 codec (frame reader, method, field-table and
 * content-header decoders), with fast-check. Complements test/unit/amqp/fuzz.test.ts (plain
 * random bytes) with generated valid structures, round trips, and structured mutations.
 *
 * Properties:
 *  - field tables: any wire-valid table decodes, and re-encodes to exactly the same bytes;
 *  - methods: every method of the table with arbitrary field values survives encode → decode
 *    → encode unchanged, with the same primitive field values;
 *  - basic properties likewise;
 *  - mutated frames (bit flips, truncations, splices, length fields at extremes) pushed in
 *    arbitrary chunks through FrameReader + decoders: frames or BrokerError, nothing else, and
 *    no buffer larger than frame-max is ever allocated for a declared length.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../../src/core/errors.js';
import { decodeProperties, encodeProperties, propertiesView } from '../../src/codec/basic-properties.js';
import { decodeFieldTable } from '../../src/codec/field-table.js';
import { encodeFieldTable } from '../../src/codec/field-table-writer.js';
import { FrameReader, type FrameSink } from '../../plugins/amqp/codec/frame-reader.js';
import { checkContentHeader } from '../../plugins/amqp/codec/content.js';
import { decodeMethod, encodeMethodPayload } from '../../plugins/amqp/codec/methods.js';
import { be, fieldTableBytes, frameLengthFields, frameStream, methodArb, propertiesArb, shortstr, u8, withLen32 } from './amqp-arbitraries.js';
import { chunked, mutated, params } from './fuzz-config.js';

const FRAME_MAX = 4096;

/** Push chunks through a FrameReader whose sink decodes as the connection does; records the largest allocation. */
function runReader(chunks: Buffer[]): 'ok' | 'refused' {
  const sink: FrameSink = {
    onMethodFrame: (_ch, p) => void decodeMethod(p),
    onHeaderFrame: (_ch, p) => {
      checkContentHeader(p);
      decodeProperties(propertiesView(p));
    },
    onBodyFrame: () => {},
    onHeartbeatFrame: () => {},
  };
  const reader = new FrameReader(sink, FRAME_MAX);
  const realAlloc = Buffer.allocUnsafe;
  let largest = 0;
  Buffer.allocUnsafe = (n: number) => {
    largest = Math.max(largest, n);
    return realAlloc(n);
  };
  try {
    for (const c of chunks) reader.push(c);
    return 'ok';
  } catch (e) {
    if (e instanceof BrokerError) return 'refused';
    throw e;
  } finally {
    Buffer.allocUnsafe = realAlloc;
    // a declared size beyond frame-max is refused from the header, before any buffer is made for it
    expect(largest).toBeLessThanOrEqual(FRAME_MAX);
  }
}

function refusedOrValue(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof BrokerError)) throw e;
  }
}

// ---- properties ----------------------------------------------------------------------------

describe('AMQP codec (property-based)', () => {
  it('a wire-valid field table decodes and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(fieldTableBytes, (bytes) => {
        const table = decodeFieldTable(bytes, 4, bytes.length);
        expect(encodeFieldTable(table).equals(bytes)).toBe(true);
      }),
      params('amqp field table round trip'),
    );
  });

  it('integer-like keys: a decoded table re-encodes to the same pairs (their order aside)', () => {
    const indexKey = fc.nat({ max: 99 }).map((n) => String(n));
    const pairs = fc.uniqueArray(fc.tuple(fc.oneof(indexKey, shortstr), fc.integer()), { maxLength: 6, selector: ([k]) => k });
    fc.assert(
      fc.property(pairs, (kv) => {
        const bytes = withLen32(Buffer.concat(kv.map(([k, v]) => { const b = Buffer.alloc(5); b[0] = 0x49; b.writeInt32BE(v, 1); return Buffer.concat([u8(Buffer.byteLength(k)), Buffer.from(k), b]); })));
        const table = decodeFieldTable(bytes, 4, bytes.length);
        const again = encodeFieldTable(table);
        expect(again.length).toBe(bytes.length);
        expect(decodeFieldTable(again, 4, again.length)).toEqual(Object.fromEntries(kv));
      }),
      params('amqp field table index keys'),
    );
  });

  it('every method: encode → decode → encode is the identity, primitive fields kept', () => {
    fc.assert(
      fc.property(methodArb, (m) => {
        const bytes = encodeMethodPayload(m);
        const back = decodeMethod(bytes);
        expect(encodeMethodPayload(back).equals(bytes)).toBe(true);
        for (const [k, v] of Object.entries(m)) {
          if (typeof v !== 'object') expect((back as unknown as Record<string, unknown>)[k]).toEqual(v);
          else if (Buffer.isBuffer(v)) expect(Buffer.compare((back as unknown as Record<string, Buffer>)[k], v)).toBe(0);
        }
      }),
      params('amqp method round trip'),
    );
  });

  it('basic properties: encode → decode → encode is the identity', () => {
    fc.assert(
      fc.property(propertiesArb, (p) => {
        const bytes = encodeProperties(p);
        const back = decodeProperties(bytes);
        expect(encodeProperties(back).equals(bytes)).toBe(true);
        expect(Object.keys(back).sort()).toEqual(Object.keys(p).sort());
      }),
      params('amqp properties round trip'),
    );
  });

  it('mutated field tables, methods and properties: a value or BrokerError', () => {
    const table = mutated(fieldTableBytes, (b) => [{ at: 0, width: 4 }, ...(b.length > 5 ? [{ at: 4, width: 1 as const }] : [])]);
    const method = mutated(methodArb.map((m) => encodeMethodPayload(m)), (b) => (b.length > 5 ? [{ at: 4, width: 1 }, { at: 4, width: 4 }] : []));
    const props = mutated(propertiesArb.map((p) => encodeProperties(p)), () => [{ at: 0, width: 2 }, { at: 2, width: 1 }]);
    fc.assert(
      fc.property(table, method, props, (t, m, p) => {
        refusedOrValue(() => decodeFieldTable(t, 0, t.length));
        refusedOrValue(() => decodeMethod(m));
        refusedOrValue(() => decodeProperties(p));
      }),
      params('amqp mutated decoders'),
    );
  });

  it('valid frame streams in arbitrary chunks decode without error', () => {
    fc.assert(
      fc.property(frameStream.filter((b) => b.length < FRAME_MAX), fc.array(fc.nat(), { maxLength: 10 }), (stream, cuts) => {
        // every frame fits frame-max here (small tables, ≤100-octet bodies)
        expect(runReader(chunked(stream, cuts))).toBe('ok');
      }),
      params('amqp valid frame stream'),
    );
  });

  it('mutated frame streams in arbitrary chunks: frames or BrokerError, no allocation past frame-max', () => {
    fc.assert(
      fc.property(mutated(frameStream, frameLengthFields), fc.array(fc.nat(), { maxLength: 10 }), (stream, cuts) => {
        runReader(chunked(stream, cuts));
      }),
      params('amqp mutated frame stream', 2),
    );
  });

  it('regression (found by fuzzing): a timestamp above 2^53 seconds re-encodes exactly', () => {
    const bytes = Buffer.from([0, 0, 0, 10, 0, 84, 0, 42, 200, 246, 38, 75, 99, 25]);
    expect(encodeFieldTable(decodeFieldTable(bytes, 4, bytes.length)).equals(bytes)).toBe(true);
  });

  it('regression: a declared 4 GiB frame is refused from its header alone', () => {
    const head = Buffer.from([1, 0, 1, 0xff, 0xff, 0xff, 0xff]);
    expect(() => runReader([head])).not.toThrow();
    expect(runReader([head, Buffer.alloc(16)])).toBe('refused');
  });
});
