/**
 * The clean-shutdown snapshot: what the store knew in memory when it closed cleanly, so the
 * next open need not scan the journal (STORE.md §3.9 step 3). It is a cache, never the truth:
 * used only when the clean-shutdown marker is there, when it reads back whole and checksummed,
 * and when the segment files on disk are exactly the ones it lists, with the same sizes.
 * Otherwise the journal is scanned as after a crash. Deleted at every open.
 *
 * File `snapshot.wx`: a segment header with magic "WRNX", then records framed as journal
 * records (format.ts), of optional types so they can never be taken for journal records:
 *   0x90 SEGMENT  segment u64 · size u64 · n u32 · n × cancel-target segment u64
 *   0x91 QUEUE    queue id u32 · next seq u64
 *   0x92 ENTRIES  queue id u32 · n u32 · n entries as the columns of index-columns.ts, one
 *                 after the other (seq f64 × n · expires-at f64 × n · segment, offset, length,
 *                 body size u32 × n · targets u16 × n · priority, flags u8 × n); at most one
 *                 index chunk per record
 *   0x9f END      last segment u64 · max msg id u64 · segments u32 · queues u32 · entries u64
 */
import { join } from 'node:path';
import type { Disk } from './disk/disk.js';
import {
  RECORD_HEADER_SIZE,
  SEGMENT_HEADER_SIZE,
  decodeSegmentHeader,
  encodeSegmentHeader,
  parseSegmentFileName,
  readU64,
  sealRecord,
  segmentFileName,
  writeRecordHeader,
  writeU64,
} from './format.js';
import { FLAG_DELIVERED, FLAG_LIVE, FLAG_REDELIVERED } from './index-chunk.js';
import { ENTRY_BYTES, allocColumns, columnBytes, gatherColumns } from './index-columns.js';
import type { StoreMetrics } from './metrics.js';
import type { StoreLog } from './recovery.js';
import { checkRecordAt } from './segment-scanner.js';
import { writeFully } from './log/segment-file.js';
import { StoreState } from './store-state.js';

const SNAPSHOT = 'snapshot.wx';
const MAGIC = 'WRNX';
const T_SEGMENT = 0x90;
const T_QUEUE = 0x91;
const T_ENTRIES = 0x92;
const T_END = 0x9f;

/**
 * Payload length of each record type: `length` bytes, plus `each` bytes per element when a
 * u32 count at `countAt` of the payload says how many follow.
 */
const PAYLOAD_LAYOUT = new Map<number, { length: number; countAt: number; each: number }>([
  [T_SEGMENT, { length: 20, countAt: 16, each: 8 }],
  [T_QUEUE, { length: 12, countAt: 0, each: 0 }],
  [T_ENTRIES, { length: 8, countAt: 4, each: ENTRY_BYTES }],
  [T_END, { length: 32, countAt: 0, each: 0 }],
]);

function record(type: number, payload: number): Buffer {
  const b = Buffer.alloc(RECORD_HEADER_SIZE + payload);
  writeRecordHeader(b, 0, payload, type);
  return b;
}

/** Write the snapshot of `state` (to a temporary name, synced, then renamed into place). */
export async function writeSnapshot(disk: Disk, dir: string, journalId: number, state: StoreState): Promise<void> {
  const tmp = join(dir, `${SNAPSHOT}.tmp`);
  const fh = await disk.openFile(tmp, 'w');
  let written = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const put = async (b: Buffer): Promise<void> => {
    if (b.length > RECORD_HEADER_SIZE) sealRecord(b);
    pending.push(b);
    pendingBytes += b.length;
    if (pendingBytes >= 1 << 20) await drain();
  };
  const drain = async (): Promise<void> => {
    if (pending.length > 0) await writeFully(fh, pending, written);
    written += pendingBytes;
    pending = [];
    pendingBytes = 0;
  };
  try {
    pending.push(encodeSegmentHeader({ segment: 0, createdAt: Date.now(), journalId }, MAGIC));
    const segments = state.segments.list();
    for (const s of segments) {
      const targets = s.cancelTargets ? [...s.cancelTargets] : [];
      const b = record(T_SEGMENT, 20 + targets.length * 8);
      writeU64(b, 12, s.number);
      writeU64(b, 20, s.size);
      b.writeUInt32LE(targets.length, 28);
      targets.forEach((t, i) => writeU64(b, 32 + i * 8, t));
      await put(b);
    }
    const queueIds = new Set([...state.nextSeqs.keys(), ...state.indexes.keys()]);
    for (const q of queueIds) {
      const b = record(T_QUEUE, 12);
      b.writeUInt32LE(q, 12);
      writeU64(b, 16, state.nextSeq(q));
      await put(b);
    }
    let entries = 0;
    for (const [q, idx] of state.indexes) {
      const records: Buffer[] = [];
      idx.exportChunks((c) => {
        const live = new Uint32Array(c.live);
        let n = 0;
        for (let i = c.head; i < c.count; i++) if ((c.flags[i] & FLAG_LIVE) !== 0) live[n++] = i;
        const cols = allocColumns(n);
        gatherColumns(c, live, n, cols);
        // delivered in this run, or flagged before: redelivered in the next one
        for (let j = 0; j < n; j++) cols.flags[j] = (cols.flags[j] & (FLAG_DELIVERED | FLAG_REDELIVERED)) !== 0 ? FLAG_REDELIVERED : 0;
        const b = record(T_ENTRIES, 8 + ENTRY_BYTES * n);
        b.writeUInt32LE(q, 12);
        b.writeUInt32LE(n, 16);
        b.set(columnBytes(cols, n), 20);
        records.push(b);
        entries += n;
      });
      for (const b of records) await put(b);
    }
    const end = record(T_END, 32);
    writeU64(end, 12, state.lastSegment);
    writeU64(end, 20, state.maxMsgId);
    end.writeUInt32LE(segments.length, 28);
    end.writeUInt32LE(queueIds.size, 32);
    writeU64(end, 36, entries);
    await put(end);
    await drain();
    await fh.sync();
  } finally {
    await fh.close();
  }
  await disk.rename(tmp, join(dir, SNAPSHOT));
}

/** Write the snapshot at a clean close; on failure remove it and say so (the next start scans: slower, not less correct). */
export async function writeSnapshotOrNot(disk: Disk, dir: string, journalId: number, state: StoreState, log: StoreLog): Promise<void> {
  try {
    await writeSnapshot(disk, dir, journalId, state);
  } catch (e) {
    await removeSnapshot(disk, dir);
    log('warn', `journal snapshot not written: ${(e as Error).message}`);
  }
}

/** Remove a snapshot (used or not): from here on it would be stale. */
export async function removeSnapshot(disk: Disk, dir: string): Promise<void> {
  await disk.rm(join(dir, SNAPSHOT));
  await disk.rm(join(dir, `${SNAPSHOT}.tmp`));
}

export interface SnapshotLoad {
  state: StoreState;
  queues: number;
  messages: number;
  unknownQueueRefs: number;
}

/**
 * Build the store state from the snapshot. @returns null, or the reason in `why`, when it
 * cannot be trusted (missing, damaged, or not matching the segment files on disk).
 */
export async function loadSnapshot(
  disk: Disk,
  dir: string,
  journalId: number,
  maxRecordSize: number,
  residentChunks: number,
  metrics: StoreMetrics,
  isKnownQueue: ((queueId: number) => boolean) | undefined,
  why: { reason: string },
): Promise<SnapshotLoad | null> {
  const state = new StoreState(disk, dir, residentChunks, metrics);
  let fh;
  try {
    fh = await disk.openFile(join(dir, SNAPSHOT), 'r');
  } catch {
    why.reason = 'no snapshot';
    return null;
  }
  const listed = new Map<number, number>();
  let queues = 0;
  let entries = 0;
  let unknown = 0;
  let endSeen = false;
  try {
    const size = await fh.size();
    // records are at most one index chunk: read the file in windows
    let buf = Buffer.allocUnsafe(Math.min(size, 4 << 20));
    let filePos = 0;
    let have = 0;
    let p = 0;
    const fill = async (): Promise<void> => {
      const rest = have - p;
      if (p > 0) buf.copy(buf, 0, p, have);
      have = rest;
      p = 0;
      if (buf.length - have < 1 << 20 && buf.length < size) {
        const bigger = Buffer.allocUnsafe(Math.min(size, buf.length * 2));
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const bytesRead = await fh.read(buf, have, buf.length - have, filePos);
      filePos += bytesRead;
      have += bytesRead;
    };
    await fill();
    const header = decodeSegmentHeader(buf.subarray(0, have), MAGIC);
    if (typeof header === 'string' || header.journalId !== journalId) {
      why.reason = `snapshot header: ${typeof header === 'string' ? header : 'another journal'}`;
      return null;
    }
    p = SEGMENT_HEADER_SIZE;
    while (!endSeen) {
      let problem = checkRecordAt(buf.subarray(0, have), p, maxRecordSize);
      if (problem !== null && filePos < size) {
        await fill();
        problem = checkRecordAt(buf.subarray(0, have), p, maxRecordSize);
      }
      if (problem !== null) {
        why.reason = `snapshot record at ${filePos - have + p}: ${problem}`;
        return null;
      }
      const type = buf[p + 8];
      const at = p + RECORD_HEADER_SIZE;
      const len = buf.readUInt32LE(p + 4);
      const layout = PAYLOAD_LAYOUT.get(type);
      if (layout !== undefined && (len < layout.length || len !== layout.length + layout.each * (layout.each === 0 ? 0 : buf.readUInt32LE(at + layout.countAt)))) {
        // the checksum covers what was written, not whether the writer counted right: a
        // count that does not fit its record would read the next record's bytes as its own
        why.reason = `snapshot record 0x${type.toString(16)} at ${filePos - have + p}: ${len} bytes do not fit its count`;
        return null;
      }
      if (type === T_SEGMENT) {
        const n = buf.readUInt32LE(at + 16);
        const number = readU64(buf, at);
        listed.set(number, readU64(buf, at + 8));
        state.segments.sealed(number, readU64(buf, at + 8));
        for (let i = 0; i < n; i++) state.segments.addCancelTarget(number, readU64(buf, at + 20 + i * 8));
      } else if (type === T_QUEUE) {
        const q = buf.readUInt32LE(at);
        if (!isKnownQueue || isKnownQueue(q)) state.nextSeqs.set(q, readU64(buf, at + 4));
        queues++;
      } else if (type === T_ENTRIES) {
        const q = buf.readUInt32LE(at);
        const n = buf.readUInt32LE(at + 4);
        entries += n;
        if (isKnownQueue && !isKnownQueue(q)) {
          unknown += n;
        } else {
          // the columns as in memory: copied once into aligned memory, appended from there
          const cols = allocColumns(n);
          columnBytes(cols, n).set(buf.subarray(at + 8, at + 8 + ENTRY_BYTES * n));
          state.indexFor(q).appendAll(cols, n);
        }
      } else if (type === T_END) {
        state.lastSegment = readU64(buf, at);
        state.maxMsgId = readU64(buf, at + 8);
        if (buf.readUInt32LE(at + 16) !== listed.size || buf.readUInt32LE(at + 20) !== queues || readU64(buf, at + 24) !== entries) {
          why.reason = 'snapshot counts do not match its records';
          return null;
        }
        endSeen = true;
      }
      p = at + len;
    }
    // the snapshot describes exactly the segment files there are
    const onDisk = (await disk.readdir(dir)).map(parseSegmentFileName).filter((n) => n > 0);
    if (onDisk.length !== listed.size || onDisk.some((n) => !listed.has(n))) {
      why.reason = 'the segment files are not the ones the snapshot lists';
      return null;
    }
    for (const n of onDisk) {
      const size = await disk.size(join(dir, segmentFileName(n)));
      if (size !== listed.get(n)) {
        why.reason = `segment ${n} is ${size} bytes, the snapshot says ${listed.get(n)}`;
        return null;
      }
    }
    if (onDisk.length > 0 && Math.max(...onDisk) > state.lastSegment) {
      why.reason = 'a segment newer than the snapshot';
      return null;
    }
    return { state, queues: state.indexes.size, messages: entries - unknown, unknownQueueRefs: unknown };
  } catch (e) {
    why.reason = `snapshot unreadable: ${(e as Error).message}`;
    return null;
  } finally {
    await fh.close();
    if (!endSeen || why.reason !== '') state.discard();
  }
}
