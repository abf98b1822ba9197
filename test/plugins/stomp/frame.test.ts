import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  escapeHeader,
  FrameError,
  FrameParser,
  unescapeHeader,
  type FrameLimits,
  type StompFrame,
  type StompVersion,
} from '../../../plugins/stomp/frame.js';
import { BAD_INPUT, FIXTURES } from './fixtures.js';

function parser(version: StompVersion | null, limits?: FrameLimits): { p: FrameParser; frames: StompFrame[] } {
  const frames: StompFrame[] = [];
  const p = new FrameParser({ onFrame: (f) => frames.push(f) }, limits);
  p.version = version;
  return { p, frames };
}

const bytes = (b: string | Buffer) => (typeof b === 'string' ? Buffer.from(b, 'utf8') : b);
/** headers as parsed, without the content-length the serializer adds by itself */
const headerList = (f: StompFrame) => Object.entries(f.headers).filter(([k]) => k !== 'content-length');

describe('STOMP frame parser: golden frames', () => {
  for (const fx of FIXTURES) {
    it(`parses: ${fx.name}`, () => {
      const { p, frames } = parser(fx.version);
      p.push(bytes(fx.bytes));
      expect(frames).toHaveLength(1);
      expect(frames[0]!.command).toBe(fx.command);
      expect(headerList(frames[0]!)).toEqual(fx.headers);
      expect(frames[0]!.body).toEqual(bytes(fx.body));
    });

    it(`parses byte by byte: ${fx.name}`, () => {
      const { p, frames } = parser(fx.version);
      const all = bytes(fx.bytes);
      for (let i = 0; i < all.length; i++) p.push(all.subarray(i, i + 1));
      expect(frames).toHaveLength(1);
      expect(headerList(frames[0]!)).toEqual(fx.headers);
      expect(frames[0]!.body).toEqual(bytes(fx.body));
      expect(p.buffered).toBe(0);
    });

    if (fx.canonical) {
      it(`serializes to the same bytes: ${fx.name}`, () => {
        expect(encodeFrame(fx.command, fx.headers, bytes(fx.body), fx.version ?? '1.2')).toEqual(bytes(fx.bytes));
      });
    }
  }
});

describe('STOMP frame parser: stream handling', () => {
  it('takes several frames from one chunk, with heart-beat EOLs (LF and CRLF) between them', () => {
    const { p, frames } = parser('1.2');
    p.push(Buffer.from('\n\r\nSEND\ndestination:/queue/a\n\none\0\n\n\nSEND\ndestination:/queue/b\n\ntwo\0\r\n'));
    expect(frames.map((f) => f.body.toString())).toEqual(['one', 'two']);
    expect(p.buffered).toBe(0);
  });

  it('keeps an incomplete frame until its end arrives, across many chunks', () => {
    const { p, frames } = parser('1.2');
    const body = Buffer.alloc(200_000, 0x61);
    const all = Buffer.concat([Buffer.from(`SEND\ncontent-length:${body.length}\n\n`), body, Buffer.from('\0')]);
    for (let i = 0; i < all.length; i += 1000) {
      p.push(all.subarray(i, i + 1000));
      if (i + 1000 < all.length) expect(frames).toHaveLength(0);
    }
    expect(frames).toHaveLength(1);
    expect(frames[0]!.body.equals(body)).toBe(true);
  });

  it('a body without content-length may arrive in pieces', () => {
    const { p, frames } = parser('1.1');
    p.push(Buffer.from('SEND\n\nabc'));
    p.push(Buffer.from('def'));
    expect(frames).toHaveLength(0);
    p.push(Buffer.from('ghi\0SEND\n\n'));
    expect(frames.map((f) => f.body.toString())).toEqual(['abcdefghi']);
    p.push(Buffer.from('x\0'));
    expect(frames.map((f) => f.body.toString())).toEqual(['abcdefghi', 'x']);
  });

  it('a lone CR at the end of a chunk waits for its LF', () => {
    const { p, frames } = parser('1.2');
    p.push(Buffer.from('\r'));
    p.push(Buffer.from('\nSEND\r'));
    p.push(Buffer.from('\n\r\n\0'));
    expect(frames.map((f) => f.command)).toEqual(['SEND']);
  });

  it('applies the version set between frames to the frames after it', () => {
    const frames: StompFrame[] = [];
    const q: FrameParser = new FrameParser({
      onFrame: (f) => {
        frames.push(f);
        if (f.command === 'CONNECT') q.version = '1.2';
      },
    });
    q.push(Buffer.from('CONNECT\nlogin:a\\c\n\n\0SEND\nx:a\\cb\n\n\0'));
    expect(frames[0]!.headers['login']).toBe('a\\c');
    expect(frames[1]!.headers['x']).toBe('a:b');
  });

  it('a large body cut from a big chunk is a view; a small one is copied', () => {
    const { p, frames } = parser('1.2');
    const big = Buffer.alloc(60_000, 0x62);
    p.push(Buffer.concat([Buffer.from('SEND\n\nsmall\0SEND\n\n'), big, Buffer.from('\0')]));
    expect(frames[0]!.body.toString()).toBe('small');
    expect(frames[0]!.body.buffer.byteLength).toBeLessThan(60_000);
    expect(frames[1]!.body.equals(big)).toBe(true);
  });
});

describe('STOMP frame parser: bad input', () => {
  for (const bad of BAD_INPUT) {
    it(`refuses ${bad.name}`, () => {
      const { p } = parser(bad.version);
      let error: unknown;
      try {
        p.push(Buffer.from(bad.bytes));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FrameError);
      expect((error as FrameError).summary).toBe(bad.summary);
    });
  }

  const limits: FrameLimits = { maxFrameSize: 1024, maxHeaders: 3, maxHeaderLength: 64 };

  it('refuses a frame larger than max_frame_size, declared by content-length before the body arrives', () => {
    const { p } = parser('1.2', limits);
    expect(() => p.push(Buffer.from('SEND\ncontent-length:5000\n\n'))).toThrow(/at most 1024 bytes/);
  });

  it('refuses a NUL-terminated body that grows past max_frame_size', () => {
    const { p } = parser('1.2', limits);
    p.push(Buffer.from('SEND\n\n'));
    expect(() => {
      for (let i = 0; i < 20; i++) p.push(Buffer.alloc(100, 0x61));
    }).toThrow(FrameError);
  });

  it('refuses too many headers', () => {
    const { p } = parser('1.2', limits);
    expect(() => p.push(Buffer.from('SEND\na:1\nb:2\nc:3\nd:4\n\n\0'))).toThrow(/at most 3 headers/);
  });

  it('refuses a header line longer than max_header_length, even before its end arrives', () => {
    const { p } = parser('1.2', limits);
    p.push(Buffer.from('SEND\nx:'));
    expect(() => {
      for (let i = 0; i < 10; i++) p.push(Buffer.alloc(10, 0x61));
    }).toThrow(/header line may be at most 64 bytes/);
  });

  it('refuses an over-long command line', () => {
    const { p } = parser(null, limits);
    expect(() => p.push(Buffer.alloc(100, 0x41))).toThrow(/at most 64 bytes/);
  });

  it('stays dead after an error', () => {
    const { p, frames } = parser('1.2');
    expect(() => p.push(Buffer.from('SEND\nbad\n\n\0'))).toThrow(FrameError);
    p.push(Buffer.from('SEND\n\n\0'));
    expect(frames).toHaveLength(0);
  });
});

describe('STOMP header escaping', () => {
  const samples = ['plain', 'a:b', 'line\nbreak', 'cr\rlf\n', 'back\\slash', '\\n literal', ':\\:\r\n', ''];
  for (const version of ['1.1', '1.2'] as const) {
    it(`escape then unescape is the identity in ${version} (except CR in 1.1, sent raw)`, () => {
      for (const s of samples) {
        const escaped = escapeHeader(s, version);
        expect(escaped).not.toMatch(version === '1.2' ? /[\r\n:]/ : /[\n:]/);
        expect(unescapeHeader(escaped, version)).toBe(s);
      }
    });
  }

  it('1.0 has no escaping: line breaks become spaces, the rest is untouched', () => {
    expect(escapeHeader('a:b\\c\nd\re', '1.0')).toBe('a:b\\c d e');
  });

  it('serializes a MESSAGE with a NUL body and content-length, and a trailing EOL when asked', () => {
    const f = encodeFrame('MESSAGE', [['destination', '/queue/x']], Buffer.from([1, 0, 2]), '1.2', true);
    expect(f).toEqual(Buffer.concat([Buffer.from('MESSAGE\ndestination:/queue/x\ncontent-length:3\n\n'), Buffer.from([1, 0, 2, 0, 10])]));
  });
});
