/**
 * What an OPS frame carries: an ordered batch of changes to the data directory.
 *
 * OPS payload: position u64 (the last op's sequence number, 0 in catch-up frames, which
 * carry no live position), count u32, then `count` ops, each a kind byte and its fields:
 *
 *   WRITE     path · at u64 · length u32 · bytes      positional write (file created if missing)
 *   TRUNCATE  path · length u64                       cut, or create empty (length 0)
 *   UNLINK    path                                    remove a file (missing: nothing to do)
 *   RM        path                                    remove a directory tree
 *   FILE      path · length u32 · bytes               the whole file (written aside, renamed in)
 *   META      db · seq u64 · length u32 · JSON        one committed unit of database `db` [{sql, params}]
 *   SNAPSHOT  db · seq u64 · at u64 · total u64 · length u32 · bytes
 *                                                     bytes [at, at+length) of a copy of the whole
 *                                                     database (VACUUM INTO, `total` bytes), holding
 *                                                     its units ≤ seq; installed with its last piece
 *
 * path, db = u16 length + UTF-8, relative to the data directory (paths.ts says which are
 * shipped: meta.db and the MQTT plugin's databases as databases, the logs as files).
 * Integers big-endian.
 */
import { FrameError } from './wire.js';

export const OpKind = { WRITE: 1, TRUNCATE: 2, UNLINK: 3, RM: 4, FILE: 5, META: 6, SNAPSHOT: 7 } as const;

export type Op =
  | { kind: typeof OpKind.WRITE; path: string; at: number; bytes: Buffer }
  | { kind: typeof OpKind.TRUNCATE; path: string; length: number }
  | { kind: typeof OpKind.UNLINK; path: string }
  | { kind: typeof OpKind.RM; path: string }
  | { kind: typeof OpKind.FILE; path: string; bytes: Buffer }
  | { kind: typeof OpKind.META; path: string; seq: number; json: Buffer }
  | { kind: typeof OpKind.SNAPSHOT; path: string; seq: number; at: number; total: number; bytes: Buffer };

/** Ops carry at most this many data bytes, so a frame stays far below MAX_FRAME. */
export const MAX_OP_BYTES = 4 * 1024 * 1024;

/** `bytes` as [offset, piece] pairs of at most MAX_OP_BYTES (one, possibly empty, at least). */
function* pieces(bytes: Buffer): Generator<[number, Buffer]> {
  for (let at = 0; at === 0 || at < bytes.length; at += MAX_OP_BYTES) yield [at, bytes.subarray(at, at + MAX_OP_BYTES)];
}

/** A positional write, in pieces of at most MAX_OP_BYTES. */
export function writeOps(path: string, at: number, bytes: Buffer): Op[] {
  return [...pieces(bytes)].map(([offset, piece]) => ({ kind: OpKind.WRITE, path, at: at + offset, bytes: piece }));
}

/** A whole file: one FILE op (written aside, renamed in) when small, else emptied and rewritten in pieces. */
export function fileOps(path: string, bytes: Buffer): Op[] {
  if (bytes.length <= MAX_OP_BYTES) return [{ kind: OpKind.FILE, path, bytes }];
  return [{ kind: OpKind.TRUNCATE, path, length: 0 }, ...writeOps(path, 0, bytes)];
}

/** A database snapshot in pieces (the last one installs it). */
export function snapshotOps(path: string, seq: number, bytes: Buffer): Op[] {
  return [...pieces(bytes)].map(([at, piece]) => ({ kind: OpKind.SNAPSHOT, path, seq, at, total: bytes.length, bytes: piece }));
}

/** Bytes the op takes in a frame. */
export function opSize(op: Op): number {
  switch (op.kind) {
    case OpKind.WRITE:
      return 1 + 2 + Buffer.byteLength(op.path) + 8 + 4 + op.bytes.length;
    case OpKind.TRUNCATE:
      return 1 + 2 + Buffer.byteLength(op.path) + 8;
    case OpKind.UNLINK:
    case OpKind.RM:
      return 1 + 2 + Buffer.byteLength(op.path);
    case OpKind.FILE:
      return 1 + 2 + Buffer.byteLength(op.path) + 4 + op.bytes.length;
    case OpKind.META:
      return 1 + 2 + Buffer.byteLength(op.path) + 8 + 4 + op.json.length;
    case OpKind.SNAPSHOT:
      return 1 + 2 + Buffer.byteLength(op.path) + 24 + 4 + op.bytes.length;
  }
}

/**
 * Encode `ops` as an OPS payload ending at `position`: small fields go into one header
 * buffer per op, data buffers are referenced, not copied (encodeFrame copies once).
 */
export function encodeOps(position: number, ops: readonly Op[]): Buffer[] {
  const head = Buffer.allocUnsafe(12);
  head.writeBigUInt64BE(BigInt(position), 0);
  head.writeUInt32BE(ops.length, 8);
  const parts: Buffer[] = [head];
  for (const op of ops) {
    const path = 'path' in op ? Buffer.from(op.path) : null;
    const h = Buffer.allocUnsafe(1 + (path ? 2 + path.length : 0) + 28);
    h[0] = op.kind;
    let at = 1;
    if (path) {
      h.writeUInt16BE(path.length, 1);
      path.copy(h, 3);
      at = 3 + path.length;
    }
    switch (op.kind) {
      case OpKind.WRITE:
        h.writeBigUInt64BE(BigInt(op.at), at);
        h.writeUInt32BE(op.bytes.length, at + 8);
        parts.push(h.subarray(0, at + 12), op.bytes);
        break;
      case OpKind.TRUNCATE:
        h.writeBigUInt64BE(BigInt(op.length), at);
        parts.push(h.subarray(0, at + 8));
        break;
      case OpKind.UNLINK:
      case OpKind.RM:
        parts.push(h.subarray(0, at));
        break;
      case OpKind.FILE:
        h.writeUInt32BE(op.bytes.length, at);
        parts.push(h.subarray(0, at + 4), op.bytes);
        break;
      case OpKind.META:
        h.writeBigUInt64BE(BigInt(op.seq), at);
        h.writeUInt32BE(op.json.length, at + 8);
        parts.push(h.subarray(0, at + 12), op.json);
        break;
      case OpKind.SNAPSHOT:
        h.writeBigUInt64BE(BigInt(op.seq), at);
        h.writeBigUInt64BE(BigInt(op.at), at + 8);
        h.writeBigUInt64BE(BigInt(op.total), at + 16);
        h.writeUInt32BE(op.bytes.length, at + 24);
        parts.push(h.subarray(0, at + 28), op.bytes);
        break;
    }
  }
  return parts;
}

/** Decode an OPS payload (data buffers are views of `payload`). Throws FrameError when malformed. */
export function decodeOps(payload: Buffer): { position: number; ops: Op[] } {
  let at = 0;
  const need = (n: number) => {
    if (at + n > payload.length) throw new FrameError('truncated OPS frame');
  };
  const u64 = () => {
    need(8);
    const v = payload.readBigUInt64BE(at);
    at += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FrameError('integer out of range');
    return Number(v);
  };
  const u32 = () => {
    need(4);
    at += 4;
    return payload.readUInt32BE(at - 4);
  };
  const bytes = (n: number) => {
    need(n);
    at += n;
    return payload.subarray(at - n, at);
  };
  const path = () => {
    need(2);
    const n = payload.readUInt16BE(at);
    at += 2;
    return bytes(n).toString('utf8');
  };
  const position = u64();
  const count = u32();
  const ops: Op[] = [];
  for (let i = 0; i < count; i++) {
    need(1);
    const kind = payload[at++];
    switch (kind) {
      case OpKind.WRITE: {
        const p = path();
        const off = u64();
        ops.push({ kind, path: p, at: off, bytes: bytes(u32()) });
        break;
      }
      case OpKind.TRUNCATE:
        ops.push({ kind, path: path(), length: u64() });
        break;
      case OpKind.UNLINK:
      case OpKind.RM:
        ops.push({ kind, path: path() });
        break;
      case OpKind.FILE: {
        const p = path();
        ops.push({ kind, path: p, bytes: bytes(u32()) });
        break;
      }
      case OpKind.META: {
        const p = path();
        const seq = u64();
        ops.push({ kind, path: p, seq, json: bytes(u32()) });
        break;
      }
      case OpKind.SNAPSHOT: {
        const p = path();
        const seq = u64();
        const off = u64();
        const total = u64();
        const data = bytes(u32());
        if (off + data.length > total) throw new FrameError('snapshot piece past its total');
        ops.push({ kind, path: p, seq, at: off, total, bytes: data });
        break;
      }
      default:
        throw new FrameError(`unknown op kind ${kind}`);
    }
  }
  if (at !== payload.length) throw new FrameError('trailing bytes in OPS frame');
  return { position, ops };
}
