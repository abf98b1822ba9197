import type { Disk } from '../disk/disk.js';

/** Told how a `readAt` ended: `bytes` is less than asked only at the end of the file (or on error). */
export type ReadAtCallback = (error: Error | null, bytes: number) => void;

/**
 * Read-at-offset for every log: `length` bytes of an open segment file from file position
 * `position` into `buf` from 0, continuing short reads (a positional read may return less
 * than asked). One callback, no promise: this runs per delivery window of a journal queue
 * and per chunk of a stream consumer. Each log finds its records in what was read itself.
 */
export function readAt(disk: Disk, fd: number, buf: Buffer, length: number, position: number, cb: ReadAtCallback): void {
  readFrom(disk, fd, buf, length, position, 0, cb);
}

function readFrom(disk: Disk, fd: number, buf: Buffer, length: number, position: number, done: number, cb: ReadAtCallback): void {
  disk.fdRead(fd, buf, done, length - done, position + done, (error, n) => {
    if (error) return cb(error, done);
    done += n;
    if (n === 0 || done >= length) return cb(null, done);
    readFrom(disk, fd, buf, length, position, done, cb);
  });
}
