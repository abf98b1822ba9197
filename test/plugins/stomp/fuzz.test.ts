/**
 * Fuzzing: the codec against random and mutated input (a FrameError or frames, never any
 * other exception), the serializer and parser against each other on random frames, and the
 * running broker against connections that send garbage: it survives, frees what they held,
 * and a well-behaved client carries on throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, FrameError, FrameParser, type StompFrame, type StompVersion } from '../../../plugins/stomp/frame.js';
import { eventually, RawClient, startStompBroker, uniqueName, type StompTestBroker } from './helpers.js';
import { FUZZ_SEED } from '../../helpers/fuzz-seed.js';

/** mulberry32: a small seeded PRNG, so a failure can be replayed from its seed */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = FUZZ_SEED;
const COMMANDS = ['SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK', 'BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT', 'MESSAGE', 'ERROR'];
const ALPHABET = 'abcXYZ019:-_/\\\n\r .é日\0';

function randomText(r: () => number, max: number): string {
  let s = '';
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

function randomFrame(r: () => number, version: StompVersion): { command: string; headers: [string, string][]; body: Buffer } {
  const command = COMMANDS[Math.floor(r() * COMMANDS.length)]!;
  const headers: [string, string][] = [];
  const seen = new Set<string>();
  const count = Math.floor(r() * 6);
  for (let i = 0; i < count; i++) {
    // 1.0 cannot carry line breaks, ':' in names or NUL in headers; 1.1 cannot carry CR
    let name = randomText(r, 8).replace(/\0/g, '');
    let value = randomText(r, 20).replace(/\0/g, '');
    if (version === '1.0') {
      name = name.replace(/[\r\n:]/g, '');
      value = value.replace(/[\r\n]/g, '').trimStart();
    }
    if (version === '1.1') {
      name = name.replace(/\r/g, '');
      value = value.replace(/\r/g, '');
    }
    if (name === 'content-length' || seen.has(name)) continue;
    seen.add(name);
    headers.push([name, value]);
  }
  const body = Buffer.alloc(Math.floor(r() * 64));
  for (let i = 0; i < body.length; i++) body[i] = Math.floor(r() * 256);
  return { command, headers, body };
}

function parseAll(chunks: Buffer[], version: StompVersion | null): { frames: StompFrame[]; error: unknown } {
  const frames: StompFrame[] = [];
  const p = new FrameParser({ onFrame: (f) => frames.push(f) }, { maxFrameSize: 4096, maxHeaders: 16, maxHeaderLength: 256 });
  p.version = version;
  try {
    for (const c of chunks) p.push(c);
  } catch (e) {
    return { frames, error: e };
  }
  return { frames, error: null };
}

function split(r: () => number, buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    const n = 1 + Math.floor(r() * 40);
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

describe(`STOMP codec fuzz (seed ${SEED}; replay with WARREN_FUZZ_SEED)`, () => {
  it('parse(serialize(frames)) gives the frames back, however the bytes are cut', () => {
    const r = prng(SEED);
    for (let round = 0; round < 300; round++) {
      const version = (['1.0', '1.1', '1.2'] as const)[round % 3];
      const frames = Array.from({ length: 1 + Math.floor(r() * 5) }, () => randomFrame(r, version));
      const parts: Buffer[] = [];
      for (const f of frames) {
        parts.push(encodeFrame(f.command, f.headers, f.body, version, r() < 0.5));
        if (r() < 0.3) parts.push(Buffer.from(r() < 0.5 ? '\n' : '\r\n')); // heart-beats between frames
      }
      const { frames: parsed, error } = parseAll(split(r, Buffer.concat(parts)), version);
      expect(error).toBeNull();
      // header order is not kept for integer-like names (JS object key order): compare sorted
      const sorted = (h: [string, string][]) => [...h].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      expect(parsed.map((f) => [f.command, sorted(Object.entries(f.headers).filter(([k]) => k !== 'content-length')), f.body])).toEqual(
        frames.map((f) => [f.command, sorted(f.headers), f.body]),
      );
    }
  });

  it('random bytes: frames or a FrameError, never another exception', () => {
    const r = prng(SEED + 1);
    for (let round = 0; round < 2000; round++) {
      const buf = Buffer.alloc(Math.floor(r() * 300));
      for (let i = 0; i < buf.length; i++) buf[i] = r() < 0.2 ? [0, 10, 13, 58, 92][Math.floor(r() * 5)]! : Math.floor(r() * 256);
      const { error } = parseAll(split(r, buf), ([null, '1.0', '1.1', '1.2'] as const)[round % 4]);
      if (error !== null) expect(error).toBeInstanceOf(FrameError);
    }
  });

  it('mutated valid frames: frames or a FrameError, never another exception', () => {
    const r = prng(SEED + 2);
    for (let round = 0; round < 2000; round++) {
      const version = (['1.0', '1.1', '1.2'] as const)[round % 3];
      const f = randomFrame(r, version);
      const buf = Buffer.from(encodeFrame(f.command, f.headers, f.body, version));
      const mutations = 1 + Math.floor(r() * 4);
      let bytes = buf;
      for (let m = 0; m < mutations; m++) {
        const at = Math.floor(r() * bytes.length);
        const kind = r();
        if (kind < 0.4) bytes[at] = Math.floor(r() * 256);
        else if (kind < 0.7) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
        else bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([[0, 10, 92, 58][Math.floor(r() * 4)]!]), bytes.subarray(at)]);
      }
      const { error } = parseAll(split(r, bytes), version);
      if (error !== null) expect(error).toBeInstanceOf(FrameError);
    }
  });
});

describe('STOMP broker fuzz: garbage on the STOMP port', () => {
  let b: StompTestBroker;
  beforeAll(async () => {
    b = await startStompBroker({ max_frame_size: 65536 });
  });
  afterAll(async () => {
    await b?.stop();
  });

  it('survives random and mutated frames from many connections while a good client keeps working', async () => {
    const r = prng(SEED + 3);
    const queue = uniqueName('fuzz');
    const [good] = await RawClient.login(b.tcpPort);
    good.send('SUBSCRIBE', { destination: `/queue/${queue}`, id: 'good', ack: 'client-individual' });

    const valid = [
      'SEND\ndestination:/queue/' + queue + '-x\n\nhello\0',
      'SUBSCRIBE\ndestination:/topic/a.b\nid:s1\nack:client\n\n\0',
      'SUBSCRIBE\ndestination:/queue/' + queue + '-y\nid:s2\nprefetch-count:1\n\n\0',
      'ACK\nid:1-1-1\n\n\0',
      'NACK\nid:x\nrequeue:false\n\n\0',
      'BEGIN\ntransaction:t\n\n\0',
      'SEND\ndestination:/topic/a.b\ntransaction:t\ncontent-length:3\n\na\0b\0',
      'COMMIT\ntransaction:t\nreceipt:9\n\n\0',
      'UNSUBSCRIBE\nid:s1\n\n\0',
      'SEND\ndestination:/exchange/amq.fanout\nreply-to:/temp-queue/r\n\n\0',
    ];
    let sent = 0;
    const rounds = 60;
    for (let round = 0; round < rounds; round++) {
      const c = await RawClient.connect(b.tcpPort);
      const version = ['1.0', '1.1', '1.2'][round % 3]!;
      if (round % 4 !== 0) c.write(`CONNECT\naccept-version:${version}\nlogin:guest\npasscode:guest\n\n\0`);
      for (let i = 0; i < 8; i++) {
        let bytes = Buffer.from(valid[Math.floor(r() * valid.length)]!);
        if (r() < 0.6) {
          bytes = Buffer.from(bytes);
          for (let m = 0; m < 3; m++) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
        }
        if (r() < 0.1) {
          bytes = Buffer.alloc(Math.floor(r() * 2000));
          for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(r() * 256);
        }
        c.write(bytes);
      }
      if (r() < 0.5) c.close();
      else setTimeout(() => c.close(), 50);
      // the good client works between rounds
      if (round % 10 === 0) {
        good.send('SEND', { destination: `/queue/${queue}` }, `ok-${round}`);
        sent++;
      }
    }
    const got: string[] = [];
    while (got.length < sent) {
      const f = await good.next();
      expect(f.command).toBe('MESSAGE');
      got.push(f.body.toString());
      good.send('ACK', { id: f.headers['ack']! });
    }
    expect(got).toEqual(Array.from({ length: sent }, (_, i) => `ok-${i * 10}`));

    // the garbage connections are gone, and the broker still takes new ones
    await eventually(() => b.broker.core.connections.size === 1, 5000, 'fuzz connections to close');
    const [fresh] = await RawClient.login(b.tcpPort, '1.1');
    fresh.send('SEND', { destination: `/queue/${queue}`, receipt: 'r' }, 'after');
    expect((await good.next()).body.toString()).toBe('after');
    fresh.close();
    good.close();
    // bad input is the client's problem: nothing reached the internal-error path
    expect(b.logs.filter((l) => l.includes('internal error'))).toEqual([]);
  });
});
