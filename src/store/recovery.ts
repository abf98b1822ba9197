import { join } from 'node:path';
import {
  LSN_SEGMENT_FACTOR,
  MSG_FLAG_BODY_PARTS,
  MSG_FLAG_TRANSIENT,
  MsgView,
  RecordType,
  SEGMENT_HEADER_SIZE,
  decodeSegmentHeader,
  lsnOf,
  parseSegmentFileName,
  purgeKeptCount,
  readMsg,
  readU64,
  runsRecordCount,
  segmentFileName,
} from './format.js';
import { QueueReplay, resolveQueue, type RecoveredQueue } from './replay.js';
import { SegmentFileReader } from './log/segment-file.js';
import type { Disk } from './disk/disk.js';
import { scanSegment, type ScannedRecord } from './segment-scanner.js';
import type { RecoveredBodyEntry } from './large-bodies.js';

export type StoreLog = (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;

export interface RecoveryOptions {
  disk: Disk;
  dir: string;
  journalId: number;
  maxRecordSize: number;
  /** the previous run stopped cleanly (its marker was found) */
  cleanShutdown: boolean;
  /** references to queues this returns false for are dropped (queues gone from the metadata) */
  isKnownQueue?: (queueId: number) => boolean;
  log: StoreLog;
}

/** The torn tail cut off the last segment: everything from `offset` on was never confirmed. */
export interface TruncationReport {
  segment: number;
  offset: number;
  bytes: number;
  /** LSN at the cut: records ending after it are gone */
  lsn: number;
  reason: string;
}

/** Bytes of a sealed segment that could not be used (bit rot); later records were kept. */
export interface DamageReport {
  segment: number;
  offset: number;
  bytes: number;
  reason: string;
}

export interface RecoveryReport {
  uncleanShutdown: boolean;
  /** loaded from the clean-shutdown snapshot: no segment was scanned */
  fromSnapshot: boolean;
  millis: number;
  segmentsScanned: number;
  recordsReplayed: number;
  truncated: TruncationReport[];
  damaged: DamageReport[];
  /** files set aside (renamed `*.corrupt`) or removed (an empty torn segment) */
  removedFiles: string[];
  queues: number;
  messages: number;
  /** MSG targets and cancel records naming queues the metadata does not know */
  unknownQueueRefs: number;
}

export interface RecoveryResult {
  queues: RecoveredQueue[];
  /** 1 + the highest seq any surviving record names, per queue (seqs are never reused) */
  nextSeqs: Map<number, number>;
  segments: { number: number; size: number }[];
  /** segment → segments holding MSGs its cancel records still kill */
  cancelTargets: Map<number, Set<number>>;
  /** highest segment number seen (new segments continue above it) */
  lastSegment: number;
  maxMsgId: number;
  report: RecoveryReport;
  /** live entries whose MSG names a body in parts (large-body.ts) */
  bodyEntries: RecoveredBodyEntry[];
}

/**
 * Open-time recovery of one journal directory (STORE.md §3.9):
 * 1. list `*.wj` files (other names are ignored — never crash on foreign files);
 * 2. scan every segment, verifying every record's checksum. The last segment is cut at its
 *    first bad record — torn or corrupt, with everything after it: point-in-time recovery, as
 *    RocksDB's default mode, Kafka's `LogSegment.recover` and NATS's `rebuildState` do;
 *    anything past the cut was never reported durable. A sealed segment was fsynced before
 *    the next one was created, so damage there is bit rot: the bad range is skipped and
 *    reported, the records after it are used (the node still starts);
 * 3. replay MSG / ACK / PURGE / QUEUE_DELETE / DELIVERED into per-queue state and resolve it
 *    (replay.ts); after an unclean stop every recovered entry is flagged redelivered.
 */
export async function recoverJournal(o: RecoveryOptions): Promise<RecoveryResult> {
  const t0 = performance.now();
  const report: RecoveryReport = {
    uncleanShutdown: !o.cleanShutdown,
    fromSnapshot: false,
    millis: 0,
    segmentsScanned: 0,
    recordsReplayed: 0,
    truncated: [],
    damaged: [],
    removedFiles: [],
    queues: 0,
    messages: 0,
    unknownQueueRefs: 0,
  };
  const numbers = (await o.disk.readdir(o.dir))
    .map(parseSegmentFileName)
    .filter((n) => n > 0)
    .sort((a, b) => a - b);
  const replays = new Map<number, QueueReplay>();
  const replayOf = (queueId: number): QueueReplay | null => {
    if (o.isKnownQueue && !o.isKnownQueue(queueId)) {
      report.unknownQueueRefs++;
      return null;
    }
    let r = replays.get(queueId);
    if (!r) replays.set(queueId, (r = new QueueReplay(queueId)));
    return r;
  };
  const segments: { number: number; size: number }[] = [];
  let maxMsgId = 0;
  let dirChanged = false;
  const view = new MsgView();
  const reader = new SegmentFileReader(o.disk);
  /** part lists of MSGs whose body is in parts, by the MSG's location (few: only large bodies) */
  const partLists = new Map<number, Buffer>();

  for (let k = 0; k < numbers.length; k++) {
    const number = numbers[k];
    const last = k === numbers.length - 1;
    const name = segmentFileName(number);
    const path = join(o.dir, name);
    const buf = await reader.read(path);
    report.segmentsScanned++;
    const header = decodeSegmentHeader(buf);
    const headerProblem =
      typeof header === 'string'
        ? header
        : header.segment !== number
          ? `header names segment ${header.segment}`
          : header.journalId !== o.journalId
            ? `segment of journal ${header.journalId}, not ${o.journalId}`
            : null;
    if (headerProblem !== null) {
      if (last && buf.length <= SEGMENT_HEADER_SIZE) {
        // the crash hit while the segment was being created (its header is written alone,
        // before any record): nothing in it was ever durable
        await o.disk.unlink(path);
        dirChanged = true;
        report.removedFiles.push(name);
        report.truncated.push({ segment: number, offset: 0, bytes: buf.length, lsn: lsnOf(number, 0), reason: headerProblem });
        o.log('warn', `journal: removed torn segment ${name} (${headerProblem})`, { segment: number, bytes: buf.length });
      } else {
        await o.disk.rename(path, `${path}.corrupt`);
        dirChanged = true;
        report.removedFiles.push(name);
        report.damaged.push({ segment: number, offset: 0, bytes: buf.length, reason: headerProblem });
        o.log('error', `journal: segment ${name} set aside as ${name}.corrupt (${headerProblem})`, { segment: number });
      }
      continue;
    }

    const result = scanSegment(buf, { maxRecordSize: o.maxRecordSize, salvage: !last }, (b, rec) => {
      const ok = replayRecord(b, rec, number, view, replayOf);
      if (ok && rec.type === RecordType.MSG && (view.flags & MSG_FLAG_BODY_PARTS) !== 0) {
        partLists.set(number * LSN_SEGMENT_FACTOR + rec.offset, Buffer.from(b.subarray(view.bodyAt, view.bodyAt + view.bodyLength)));
      }
      if (ok && rec.type === RecordType.MSG && view.msgId > maxMsgId) maxMsgId = view.msgId;
      return ok;
    });
    report.recordsReplayed += result.records;
    for (const d of result.skipped) {
      report.damaged.push({ segment: number, offset: d.offset, bytes: d.length, reason: d.reason });
      o.log('error', `journal: ${d.length} damaged bytes skipped in sealed segment ${name} at ${d.offset} (${d.reason})`, {
        segment: number,
        offset: d.offset,
      });
    }
    let size = buf.length;
    if (result.stop !== null) {
      const cut = result.stop;
      await o.disk.truncate(path, cut.offset);
      size = cut.offset;
      dirChanged = true;
      report.truncated.push({
        segment: number,
        offset: cut.offset,
        bytes: cut.length,
        lsn: lsnOf(number, cut.offset),
        reason: cut.reason,
      });
      o.log('warn', `journal: cut ${cut.length} bytes off segment ${name} at offset ${cut.offset} (${cut.reason})`, {
        segment: number,
        offset: cut.offset,
        bytes: cut.length,
      });
    }
    segments.push({ number, size });
  }
  // a truncation or removal must be on disk before new segments follow it
  if (dirChanged) await o.disk.syncDirectory(o.dir);

  const cancelTargets = new Map<number, Set<number>>();
  const addCancelTarget = (segment: number, target: number): void => {
    if (segment === target) return;
    let set = cancelTargets.get(segment);
    if (!set) cancelTargets.set(segment, (set = new Set()));
    set.add(target);
  };
  const queues: RecoveredQueue[] = [];
  const nextSeqs = new Map<number, number>();
  for (const r of replays.values()) {
    nextSeqs.set(r.queueId, r.maxSeq + 1);
    const q = resolveQueue(r, !o.cleanShutdown, addCancelTarget);
    if (q && q.count > 0) {
      queues.push(q);
      report.messages += q.count;
    }
  }
  report.queues = queues.length;
  report.millis = performance.now() - t0;
  const bodyEntries: RecoveredBodyEntry[] = [];
  if (partLists.size > 0) {
    for (const q of queues) {
      for (let i = 0; i < q.count; i++) {
        const key = q.segment[i] * LSN_SEGMENT_FACTOR + q.offset[i];
        const partList = partLists.get(key);
        if (partList !== undefined) bodyEntries.push({ queueId: q.queueId, seq: q.seq[i], partList, key });
      }
    }
  }
  return {
    queues,
    nextSeqs,
    segments,
    cancelTargets,
    lastSegment: numbers.length > 0 ? numbers[numbers.length - 1] : 0,
    maxMsgId,
    report,
    bodyEntries,
  };
}

/** Apply one record to the replay state. @returns false when its payload does not decode. */
function replayRecord(
  b: Buffer,
  rec: ScannedRecord,
  segment: number,
  view: MsgView,
  replayOf: (queueId: number) => QueueReplay | null,
): boolean {
  const p = rec.payloadAt;
  switch (rec.type) {
    case RecordType.MSG: {
      if (!readMsg(b, p, rec.payloadLength, view)) return false;
      const n = view.targetCount;
      const transient = (view.flags & MSG_FLAG_TRANSIENT) !== 0;
      for (let i = 0; i < n; i++) {
        const r = replayOf(view.targetQueue(b, i));
        // a transient message paged to disk does not survive a restart; its seq stays used
        if (r && transient) r.noteSeq(view.targetSeq(b, i));
        else if (r) {
          r.addMsg(view.targetSeq(b, i), segment, rec.offset, rec.totalLength, view.bodyLength, n, view.priority, view.expiresAt);
        }
      }
      return true;
    }
    case RecordType.ACK:
    case RecordType.DELIVERED: {
      const runs = runsRecordCount(b, p, rec.payloadLength);
      if (runs < 0) return false;
      const r = replayOf(b.readUInt32LE(p));
      if (!r) return true;
      for (let j = 0, q = p + 8; j < runs; j++, q += 12) {
        const first = readU64(b, q);
        const count = b.readUInt32LE(q + 8);
        if (rec.type === RecordType.ACK) r.addAckRun(first, count, segment);
        else r.delivered.push(first, count);
      }
      return true;
    }
    case RecordType.PURGE: {
      const n = purgeKeptCount(b, p, rec.payloadLength);
      if (n < 0) return false;
      const r = replayOf(b.readUInt32LE(p));
      if (!r) return true;
      const upTo = readU64(b, p + 4);
      const kept = new Set<number>();
      for (let j = 0; j < n; j++) kept.add(readU64(b, p + 16 + j * 8));
      r.purges.push({ upTo, kept, segment });
      if (upTo > r.maxSeq) r.maxSeq = upTo;
      return true;
    }
    case RecordType.QUEUE_DELETE: {
      if (rec.payloadLength !== 4) return false;
      replayOf(b.readUInt32LE(p))?.deletes.push(segment);
      return true;
    }
    default:
      return true; // an optional type this version does not know: skipped (format.ts)
  }
}
