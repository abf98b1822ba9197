import { scanRecords } from '../log/record-scan.js';
import { SEGMENT_HEADER_SIZE, STREAM_RECORD_TYPE, StreamRecordView, decodeStreamRecord, isStreamRecordType } from './stream-format.js';
import type { StreamLog } from './stream-log.js';

/**
 * Visit every committed record of a log, oldest first, reading the segment files
 * synchronously — for small logs read once at start (a key-compacted state stream such as
 * the MQTT retained messages), never on a hot path: consumers read through cursors.
 * `buf` and `view` are valid during the call only.
 */
export function scanLogSync(log: StreamLog, visit: (buf: Buffer, view: StreamRecordView) => void): void {
  const view = new StreamRecordView();
  const disk = log.disk;
  for (const s of [...log.segments]) {
    const end = s.readableEnd;
    if (end <= SEGMENT_HEADER_SIZE || s.removed) continue;
    const fd = disk.openSync(s.pendingPath ?? s.path, 'r');
    let buf: Buffer;
    try {
      buf = Buffer.allocUnsafe(end);
      let done = 0;
      while (done < end) {
        const n = disk.readSync(fd, buf, done, end - done, done);
        if (n === 0) break;
        done += n;
      }
      buf = buf.subarray(0, done);
    } finally {
      disk.closeSync(fd);
    }
    // recovery cut torn tails; damage in an older segment ends its scan
    scanRecords(buf, SEGMENT_HEADER_SIZE, { maxRecordSize: log.options.maxRecordSize, knownType: isStreamRecordType, salvage: false }, (b, rec) => {
      if (rec.type !== STREAM_RECORD_TYPE) return null;
      const problem = decodeStreamRecord(b, rec.offset, view);
      if (problem === null && view.offset < log.committedOffset) visit(b, view);
      return problem;
    });
  }
}
