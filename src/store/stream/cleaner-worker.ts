/**
 * The key-compaction worker (runs in a `worker_thread`: CRC checks and key hashing stay off
 * the event loop, STORE.md §3.7). Kafka's log cleaner in miniature:
 *
 * 1. Build key → newest offset over the stream's records, oldest first (sealed segments,
 *    then what is committed of the newer ones). The map is bounded: when it passes `maxKeys`
 *    at a segment boundary, only the segments up to there are cleaned this run (the rest stay
 *    for the next one — a too-small dedupe buffer must not kill the cleaner, as it does Kafka's).
 * 2. Rewrite each *dirty* input segment (one where something is superseded) keeping a record
 *    when it is the newest of its key, or has no key; a tombstone (flag bit 0, empty body) is
 *    dropped once older than the grace cutoff. Consecutive dirty segments are merged while
 *    the result fits a segment. Records are copied byte for byte (their CRC covers only
 *    themselves), so offsets and timestamps are preserved and gaps appear.
 * 3. Swap protocol (Kafka LogFileUtils/LogLoader): write `<base>.ws.cleaned` and fsync it,
 *    write `<base>.swapinfo` (the inputs) and fsync it, rename to `<base>.ws.swap`, fsync the
 *    directory. The main thread finishes the swap (cleaner.ts); recovery finishes or undoes
 *    an interrupted one (stream-recovery.ts).
 *
 * The function below runs as the worker's whole program (`new Worker(source, { eval: true })`,
 * so the same code works from sources and from the build): it imports nothing and repeats
 * the few format constants it needs from stream-format.ts / format.ts; the segment summary
 * it keeps is counted by segment-summary.ts's `noteInSummary`, given to it as an argument
 * (as source text in the worker). test/streams checks
 * that what it writes reads back with the main format code.
 */

import type { SummaryCounts, noteInSummary as NoteInSummary } from './segment-summary.js';

/** A segment the worker reads: inputs may be rewritten, the others only feed the key map. */
export interface CleanerSource {
  base: number;
  path: string;
  /** bytes to read (committed data only) */
  dataEnd: number;
}

export interface CleanerJob {
  id: number;
  dir: string;
  queueId: number;
  /** sealed segments that may be rewritten, oldest first */
  inputs: CleanerSource[];
  /** newer segments (committed part): they only supersede keys */
  newer: CleanerSource[];
  /** tombstones with an older timestamp (ms) are dropped */
  tombstoneCutoff: number;
  maxSegmentSize: number;
  maxRecordSize: number;
  maxKeys: number;
}

/** One rewritten group of inputs. */
export interface CleanerOutput extends SummaryCounts {
  /** base offset of the first input = name of the output (null output: every record was dropped) */
  base: number;
  inputs: number[];
  hasOutput: boolean;
  dataEnd: number;
  /** sparse index entries, flattened: offset, position, timestamp */
  entries: number[];
}

export interface CleanerResult {
  id: number;
  error: string | null;
  outputs: CleanerOutput[];
  bytesRead: number;
  bytesWritten: number;
  recordsRemoved: number;
  /** keys in the map */
  keys: number;
  /** how many inputs the key map covered (the others wait for the next run) */
  covered: number;
}

/** The synchronous file calls the cleaner makes: node:fs's in the worker, a Disk's inline. */
export type CleanerFs = Pick<
  typeof import('node:fs'),
  'openSync' | 'readSync' | 'writeSync' | 'fdatasyncSync' | 'fsyncSync' | 'closeSync' | 'renameSync'
>;

/** What the cleaner runs on when it runs inline (a disk other threads cannot see: disk.ts `workerThreads`). */
export interface InlineCleaner {
  fs: CleanerFs;
  crc32: (data: Uint8Array) => number;
  join: (...parts: string[]) => string;
}

/**
 * The worker program. Self-contained: it is turned into source text with `toString()`.
 * Called with `inline`, it uses those calls instead of requiring node modules and returns
 * the job runner instead of listening on the worker's port.
 */
export function cleanerWorkerMain(
  inline: InlineCleaner | undefined,
  noteInSummary: typeof NoteInSummary,
): ((job: CleanerJob) => CleanerResult) | undefined {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const fs: CleanerFs = inline ? inline.fs : (require('node:fs') as typeof import('node:fs'));
  const crc32 = inline ? inline.crc32 : (require('node:zlib') as typeof import('node:zlib')).crc32;
  const join = inline ? inline.join : (require('node:path') as typeof import('node:path')).join;
  const SEGMENT_HEADER = 32;
  const RECORD_HEADER = 12;
  const FIXED = 32;
  const TYPE = 0x30;
  const FLAG_TOMBSTONE = 1;
  const FLAG_CHUNK_START = 2;
  const FLAG_KEY_IS_ROUTING_KEY = 4;
  const INDEX_INTERVAL = 4096;
  const TWO32 = 4294967296;

  const mask = (c: number): number => ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
  const u64 = (b: Buffer, o: number): number => b.readUInt32LE(o) + b.readUInt32LE(o + 4) * TWO32;
  const name = (base: number, suffix: string): string => `${String(base).padStart(20, '0')}${suffix}`;

  function readSegment(path: string, dataEnd: number): Buffer {
    const fd = fs.openSync(path, 'r');
    try {
      const buf = Buffer.allocUnsafe(dataEnd);
      let done = 0;
      while (done < dataEnd) {
        const n = fs.readSync(fd, buf, done, dataEnd - done, done);
        if (n === 0) break;
        done += n;
      }
      return buf.subarray(0, done);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Visit every good record; stops at the first bad one (the main thread verified these files). */
  function forEach(buf: Buffer, maxRecordSize: number, visit: (at: number, end: number, flags: number, offset: number, ts: number, key: string | null) => void): void {
    let at = SEGMENT_HEADER;
    while (at + RECORD_HEADER <= buf.length) {
      const length = buf.readUInt32LE(at + 4);
      if (length > maxRecordSize || at + RECORD_HEADER + length > buf.length) return;
      const end = at + RECORD_HEADER + length;
      if (mask(crc32(buf.subarray(at + 4, end))) !== buf.readUInt32LE(at)) throw new Error(`checksum mismatch at ${at}`);
      const flags = buf[at + 9];
      if (buf[at + 8] !== TYPE) {
        at = end;
        continue;
      }
      const p = at + RECORD_HEADER;
      const keyLength = buf.readUInt16LE(p + 16);
      const exchangeLength = buf.readUInt16LE(p + 18);
      const routingKeyLength = buf.readUInt16LE(p + 20);
      let key: string | null;
      if ((flags & FLAG_KEY_IS_ROUTING_KEY) !== 0) {
        const k = p + FIXED + keyLength + exchangeLength;
        key = buf.toString('latin1', k, k + routingKeyLength);
      } else key = keyLength > 0 ? buf.toString('latin1', p + FIXED, p + FIXED + keyLength) : null;
      visit(at, end, flags, u64(buf, p), u64(buf, p + 8), key);
      at = end;
    }
  }

  function fsyncDir(dir: string): void {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  function segmentHeader(base: number, queueId: number): Buffer {
    const b = Buffer.alloc(SEGMENT_HEADER);
    b.write('WRNS', 0, 'latin1');
    b.writeUInt16LE(1, 4);
    b.writeUInt32LE(base % TWO32, 8);
    b.writeUInt32LE(Math.floor(base / TWO32), 12);
    const now = Date.now();
    b.writeUInt32LE(now % TWO32, 16);
    b.writeUInt32LE(Math.floor(now / TWO32), 20);
    b.writeUInt32LE(queueId, 24);
    b.writeUInt32LE(mask(crc32(b.subarray(0, 28))), 28);
    return b;
  }

  function run(job: CleanerJob): CleanerResult {
    const result: CleanerResult = { id: job.id, error: null, outputs: [], bytesRead: 0, bytesWritten: 0, recordsRemoved: 0, keys: 0, covered: 0 };
    // 1. key map, oldest first, bounded at segment boundaries
    const newest = new Map<string, number>();
    let cleanable = 0; // inputs covered by the map
    const all = [...job.inputs, ...job.newer];
    for (let i = 0; i < all.length; i++) {
      const buf = readSegment(all[i].path, all[i].dataEnd);
      result.bytesRead += buf.length;
      forEach(buf, job.maxRecordSize, (_at, _end, _flags, offset, _ts, key) => {
        if (key !== null) newest.set(key, offset);
      });
      if (i < job.inputs.length) cleanable = i + 1;
      if (newest.size > job.maxKeys) break;
    }
    result.keys = newest.size;
    result.covered = cleanable;

    // 2. rewrite dirty inputs, merging neighbours
    let out: { base: number; inputs: number[]; parts: Buffer[]; size: number; o: CleanerOutput; lastIndexed: number } | null = null;
    const finish = (): void => {
      if (!out) return;
      const o = out.o;
      o.hasOutput = o.records > 0;
      o.dataEnd = out.size;
      o.inputs = out.inputs;
      if (o.hasOutput) {
        const cleaned = join(job.dir, name(out.base, '.ws.cleaned'));
        const fd = fs.openSync(cleaned, 'w');
        try {
          let pos = 0;
          for (const part of out.parts) pos += fs.writeSync(fd, part, 0, part.length, pos);
          fs.fdatasyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        result.bytesWritten += out.size;
      }
      const info = join(job.dir, name(out.base, '.swapinfo'));
      const fd = fs.openSync(info, 'w');
      try {
        const text = Buffer.from(JSON.stringify({ inputs: out.inputs, output: o.hasOutput ? out.base : null }));
        fs.writeSync(fd, text, 0, text.length, 0);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      if (o.hasOutput) fs.renameSync(join(job.dir, name(out.base, '.ws.cleaned')), join(job.dir, name(out.base, '.ws.swap')));
      fsyncDir(job.dir);
      result.outputs.push(o);
      out = null;
    };
    for (let i = 0; i < cleanable; i++) {
      const input = job.inputs[i];
      const buf = readSegment(input.path, input.dataEnd);
      const kept: [number, number, number, number, number][] = [];
      let removed = 0;
      let keptBytes = 0;
      forEach(buf, job.maxRecordSize, (at, end, flags, offset, ts, key) => {
        const superseded = key !== null && newest.get(key) !== offset;
        const expiredTombstone = (flags & FLAG_TOMBSTONE) !== 0 && ts < job.tombstoneCutoff;
        if (superseded || expiredTombstone) {
          removed++;
          return;
        }
        kept.push([at, end, flags, offset, ts]);
        keptBytes += end - at;
      });
      if (removed === 0) {
        finish(); // a clean segment stays as it is, and ends any merge
        continue;
      }
      result.recordsRemoved += removed;
      if (out && out.size + keptBytes > job.maxSegmentSize) finish();
      if (!out) {
        const o: CleanerOutput = {
          base: input.base, inputs: [], hasOutput: false, records: 0, firstOffset: -1, lastOffset: -1,
          firstTimestamp: 0, lastTimestamp: 0, lastChunkStart: -1, dataEnd: 0, entries: [],
        };
        out = { base: input.base, inputs: [], parts: [segmentHeader(input.base, job.queueId)], size: SEGMENT_HEADER, o, lastIndexed: -INDEX_INTERVAL };
      }
      const cur = out as NonNullable<typeof out>;
      cur.inputs.push(input.base);
      for (const [at, end, flags, offset, ts] of kept) {
        const o = cur.o;
        noteInSummary(o, offset, ts, (flags & FLAG_CHUNK_START) !== 0);
        if (cur.size - cur.lastIndexed >= INDEX_INTERVAL) {
          cur.lastIndexed = cur.size;
          o.entries.push(offset, cur.size, ts);
        }
        cur.parts.push(buf.subarray(at, end));
        cur.size += end - at;
      }
    }
    finish();
    return result;
  }

  const runSafely = (job: CleanerJob): CleanerResult => {
    try {
      return run(job);
    } catch (e) {
      return { id: job.id, error: (e as Error).stack ?? String(e), outputs: [], bytesRead: 0, bytesWritten: 0, recordsRemoved: 0, keys: 0, covered: 0 };
    }
  };
  if (inline) return runSafely;
  const { parentPort } = require('node:worker_threads') as typeof import('node:worker_threads');
  parentPort!.on('message', (job: CleanerJob) => parentPort!.postMessage(runSafely(job)));
  return undefined;
}
