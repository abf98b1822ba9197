import { SEGMENT_HEADER_SIZE, StreamRecordView, readStreamRecord } from './stream-format.js';
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
    let at = SEGMENT_HEADER_SIZE;
    while (at < buf.length) {
      const problem = readStreamRecord(buf, at, buf.length, log.options.maxRecordSize, view);
      if (problem === 'skip') {
        at += 12 + buf.readUInt32LE(at + 4);
        continue;
      }
      if (problem !== null) break; // recovery cut torn tails; damage in an older segment ends its scan
      if (view.offset < log.committedOffset) visit(buf, view);
      at = view.end;
    }
  }
}
