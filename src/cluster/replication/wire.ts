/**
 * The replication connection's framing (leader ↔ follower, one TCP connection per follower).
 *
 *  0          4      5                      5+n        9+n
 * +----------+------+----------------------+----------+
 * | length   | type | payload (n bytes)    | CRC-32   |
 * | u32 = n+5| u8   |                      | u32      |
 * +----------+------+----------------------+----------+
 *
 * Big-endian integers; `length` counts type, payload and CRC; the CRC (IEEE, zlib.crc32)
 * covers type and payload. A frame longer than MAX_FRAME, an unknown type or a bad CRC ends
 * the connection (the peer gets an ERROR frame when it can be told). Payloads: JSON for the
 * handshake and status frames, binary for OPS (ops.ts) and ACK.
 */
import { crc32 } from 'node:zlib';

export const FrameType = {
  /** leader → follower: { v, leaderId, epoch, nonce } */
  HELLO: 1,
  /** follower → leader: { nodeId, epoch, mac, nonce } */
  AUTH: 2,
  /** leader → follower: { mac } proving the leader knows the secret too */
  WELCOME: 3,
  /** follower → leader: what it holds (catch-up.ts FollowerState) */
  STATE: 4,
  /** leader → follower: a batch of ops (ops.ts) */
  OPS: 5,
  /** follower → leader: u64 position, everything up to it is durable on the follower */
  ACK: 6,
  /** leader → follower: { position } catch-up is over, live ops follow */
  LIVE: 7,
  /** leader → follower: send STATE again (another catch-up pass) */
  STATE_PLEASE: 8,
  /** either way: { message }, then the sender closes */
  ERROR: 9,
} as const;
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

/** Largest frame accepted (a catch-up chunk or a meta.db snapshot piece is far below it). */
export const MAX_FRAME = 64 * 1024 * 1024;
const KNOWN = new Set<number>(Object.values(FrameType));

/** Frame `payload` as `type` (the returned buffer is the whole frame). */
export function encodeFrame(type: FrameTypeValue, payload: Buffer | readonly Buffer[]): Buffer {
  const parts = Buffer.isBuffer(payload) ? [payload] : payload;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = Buffer.allocUnsafe(9 + n);
  out.writeUInt32BE(n + 5, 0);
  out[4] = type;
  let at = 5;
  for (const p of parts) {
    p.copy(out, at);
    at += p.length;
  }
  out.writeUInt32BE(crc32(out.subarray(4, 5 + n)), 5 + n);
  return out;
}

export const jsonFrame = (type: FrameTypeValue, value: unknown): Buffer => encodeFrame(type, Buffer.from(JSON.stringify(value)));

export function ackFrame(position: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(position));
  return encodeFrame(FrameType.ACK, b);
}

export interface Frame {
  type: FrameTypeValue;
  payload: Buffer;
}

export class FrameError extends Error {}

/**
 * Incremental frame parser: `push` socket chunks, get whole frames. Throws FrameError on a
 * frame too long, of unknown type, or with a bad CRC (the caller drops the connection).
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;

  push(chunk: Buffer): Frame[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const frames: Frame[] = [];
    while (this.#buffered >= 4) {
      const head = this.#peek(4);
      const length = head.readUInt32BE(0);
      if (length < 5 || length > MAX_FRAME) throw new FrameError(`bad frame length ${length}`);
      if (this.#buffered < 4 + length) break;
      const whole = this.#take(4 + length);
      const type = whole[4];
      if (!KNOWN.has(type)) throw new FrameError(`unknown frame type ${type}`);
      if (crc32(whole.subarray(4, length)) !== whole.readUInt32BE(length)) throw new FrameError('frame checksum mismatch');
      frames.push({ type: type as FrameTypeValue, payload: whole.subarray(5, length) });
    }
    return frames;
  }

  /** The first `n` buffered bytes (joined only when they span chunks). */
  #peek(n: number): Buffer {
    if (this.#chunks[0].length >= n) return this.#chunks[0];
    const joined = Buffer.concat(this.#chunks);
    this.#chunks = [joined];
    return joined;
  }

  #take(n: number): Buffer {
    const first = this.#peek(n);
    const out = first.subarray(0, n);
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#buffered -= n;
    return out;
  }
}

/** Parse a JSON frame payload into an object (FrameError when it is not one). */
export function parseJson(payload: Buffer): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(payload.toString('utf8'));
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new FrameError('malformed JSON frame');
}
