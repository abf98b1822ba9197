import { RecordType, type MsgFields, type MsgView } from './format.js';
import type { Journal } from './journal.js';
import type { StoreMetrics } from './metrics.js';
import type { QueueIndex } from './queue-index.js';
import type { ScannedRecord } from './segment-scanner.js';
import type { SegmentTable } from './segment-table.js';

/** What copying a record forward touches. */
export interface CopyContext {
  readonly journal: Journal;
  readonly segments: SegmentTable;
  readonly counters: StoreMetrics;
  index(queueId: number): QueueIndex | undefined;
  /** the journal placed a record: keep the active segment's size current */
  noteAppend(): void;
}

const liveQueues: number[] = [];
const liveSeqs: number[] = [];

/**
 * Re-append the MSG record at `rec` (in `segment`) with the targets still live *there* —
 * same msg id, same seqs, so recovery cannot tell a copy from the original — and point those
 * index entries at the copy. The liveness check and the append are one synchronous step, so
 * an ack can never fall between them. @returns the copy's LSN, or 0 when nothing was live
 */
export function copyMessageForward(ctx: CopyContext, buf: Buffer, rec: ScannedRecord, view: MsgView, segment: number): number {
  const n = view.targetCount;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const q = view.targetQueue(buf, i);
    const s = view.targetSeq(buf, i);
    if (ctx.index(q)?.isLiveAt(s, segment, rec.offset)) {
      liveQueues[k] = q;
      liveSeqs[k] = s;
      k++;
    }
  }
  if (k === 0) return 0;
  const j = ctx.journal;
  let lsn: number;
  if (k === n) {
    // every target still live: the record is copied byte for byte (same CRC)
    lsn = j.appendRecordParts([buf.subarray(rec.offset, rec.end)], rec.totalLength, RecordType.MSG);
  } else {
    const f: MsgFields = {
      msgId: view.msgId,
      publishedAt: view.publishedAt,
      expiresAt: view.expiresAt,
      priority: view.priority,
      flags: view.flags,
      exchange: view.exchange(buf),
      routingKey: view.routingKey(buf),
    };
    const props = buf.subarray(view.propertiesAt, view.propertiesAt + view.propertiesLength);
    const body = buf.subarray(view.bodyAt, view.bodyAt + view.bodyLength);
    lsn = j.appendMessage(f, liveQueues, liveSeqs, k, props, body);
  }
  for (let i = 0; i < k; i++) {
    ctx.index(liveQueues[i])?.relocate(liveSeqs[i], segment, rec.offset, j.lastSegment, j.lastOffset, j.lastLength, k);
  }
  ctx.noteAppend();
  ctx.counters.compactionBytesWritten += j.lastLength;
  ctx.counters.compactionRecordsCopied++;
  return lsn;
}

/**
 * Re-append a cancel record (ACK, PURGE, QUEUE_DELETE) verbatim: the copy cancels what the
 * original did (`targets`), so the original's segment no longer has to stay for it.
 */
export function copyCancelForward(ctx: CopyContext, buf: Buffer, rec: ScannedRecord, targets: Set<number>): number {
  const j = ctx.journal;
  const lsn = j.appendRecordParts([buf.subarray(rec.offset, rec.end)], rec.totalLength, rec.type);
  ctx.segments.addCancelTargets(j.lastSegment, targets);
  ctx.noteAppend();
  ctx.counters.compactionBytesWritten += rec.totalLength;
  ctx.counters.compactionRecordsCopied++;
  return lsn;
}
