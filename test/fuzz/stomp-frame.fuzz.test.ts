/**
 * Property-based fuzzing of the STOMP frame parser (plugins/stomp/frame.ts), with fast-check.
 * Complements test/plugins/stomp/fuzz.test.ts (seeded random frames) with arbitrary Unicode
 * headers, extreme content-length values, and a memory bound.
 *
 * Properties:
 *  - any frame the serializer writes (1.1/1.2 escaping, arbitrary header text and binary
 *    bodies), cut at arbitrary boundaries, parses back to the same command, headers and body;
 *  - mutated frames (bit flips, truncations, splices, content-length set to extremes): frames
 *    or FrameError, nothing else, and the parser never holds more than max_frame_size (plus
 *    the chunk in hand) of an incomplete frame.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameError, FrameParser, type StompFrame, type StompVersion } from '../../plugins/stomp/frame.js';
import { chunked, mutated, params } from './fuzz-config.js';

const LIMITS = { maxFrameSize: 4096, maxHeaders: 16, maxHeaderLength: 512 };
const COMMANDS = ['SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK', 'BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT', 'MESSAGE', 'RECEIPT', 'ERROR'];

const version = fc.constantFrom('1.1', '1.2') as fc.Arbitrary<StompVersion>;
/** header text: anything but NUL, and CR only where 1.2 can escape it */
const text = (v: StompVersion) => fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => s.replace(/\0/g, '').replace(v === '1.1' ? /\r/g : /$^/g, ''));
const frameArb = version.chain((v) =>
  fc.record({
    version: fc.constant(v),
    command: fc.constantFrom(...COMMANDS),
    headers: fc.uniqueArray(fc.tuple(text(v).filter((n) => n !== 'content-length' && n !== '' && Buffer.byteLength(n) < 100), text(v)), { maxLength: 6, selector: ([n]) => n }),
    body: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    trailingLf: fc.boolean(),
  }),
);

function parse(chunks: Buffer[], v: StompVersion): { frames: StompFrame[]; error: unknown; maxBuffered: number } {
  const frames: StompFrame[] = [];
  const p = new FrameParser({ onFrame: (f) => frames.push(f) }, LIMITS);
  p.version = v;
  let maxBuffered = 0;
  try {
    for (const c of chunks) {
      p.push(c);
      maxBuffered = Math.max(maxBuffered, p.buffered - c.length);
    }
  } catch (e) {
    return { frames, error: e, maxBuffered };
  }
  return { frames, error: null, maxBuffered };
}

/** Offsets of content-length values in a serialized stream, to set them to extremes. */
function contentLengthDigits(buf: Buffer): { at: number; width: 1 }[] {
  const out: { at: number; width: 1 }[] = [];
  const s = buf.toString('latin1');
  for (let i = s.indexOf('content-length:'); i >= 0; i = s.indexOf('content-length:', i + 1)) out.push({ at: i + 15, width: 1 });
  return out;
}

const EXTREME_LENGTHS = ['99999999999999999999', '-1', '1e9', '4294967296', '0x10', ' 5', '', '9007199254740993', 'NaN', '4097'];

describe('STOMP frame parser (property-based)', () => {
  it('serialized frames in arbitrary chunks parse back unchanged', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }), (frames, cuts) => {
        const v = frames[0].version;
        const bytes = Buffer.concat(frames.map((f) => encodeFrame(f.command, f.headers, f.body, v, f.trailingLf)));
        const { frames: out, error } = parse(chunked(bytes, cuts), v);
        if (bytes.length > LIMITS.maxFrameSize * frames.length) return; // cannot happen with these sizes
        expect(error).toBeNull();
        expect(out.length).toBe(frames.length);
        out.forEach((f, i) => {
          expect(f.command).toBe(frames[i].command);
          expect(Buffer.compare(f.body, frames[i].body)).toBe(0);
          for (const [n, val] of frames[i].headers) expect(f.headers[n]).toBe(val);
        });
      }),
      params('stomp round trip'),
    );
  });

  it('mutated frames (content-length at extremes among them): frames or FrameError, bounded buffering', () => {
    const stream = frameArb.map((f) => encodeFrame(f.command, f.headers, f.body.length > 0 ? f.body : Buffer.from('x'), f.version, f.trailingLf));
    const withLength = fc.tuple(stream, fc.constantFrom(...EXTREME_LENGTHS), fc.boolean()).map(([b, len, apply]) => {
      if (!apply) return b;
      const s = b.toString('latin1');
      return Buffer.from(s.replace(/content-length:[^\n]*/, `content-length:${len}`), 'latin1');
    });
    fc.assert(
      fc.property(mutated(withLength, contentLengthDigits), version, fc.array(fc.nat(), { maxLength: 12 }), (bytes, v, cuts) => {
        const { frames, error, maxBuffered } = parse(chunked(bytes, cuts), v);
        if (error !== null) expect(error).toBeInstanceOf(FrameError);
        for (const f of frames) expect(f.body.length).toBeLessThanOrEqual(LIMITS.maxFrameSize);
        expect(maxBuffered).toBeLessThanOrEqual(LIMITS.maxFrameSize);
      }),
      params('stomp mutated frames', 2),
    );
  });

  it('a content-length far beyond max_frame_size is refused from the header', () => {
    for (const len of ['99999999999999999999', '4294967296', '4097']) {
      const { error } = parse([Buffer.from(`SEND\ndestination:/queue/a\ncontent-length:${len}\n\n`)], '1.2');
      expect(error).toBeInstanceOf(FrameError);
    }
  });
});
