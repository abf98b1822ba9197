import type { StreamSegment } from './stream-segment.js';

/** A stream's retention settings; -1 = no limit. */
export interface RetentionLimits {
  /** x-max-length-bytes */
  maxBytes: number;
  /** x-max-age in ms */
  maxAgeMs: number;
}

/**
 * How many of the oldest segments retention removes now: while the stream is over
 * `maxBytes`, or the segment's newest record is older than `maxAgeMs` — whole segments,
 * oldest first, only sealed ones, never the active (last) one nor the newest segment that
 * holds records (STORE.md §3.7; RabbitMQ and Osiris evaluate retention per segment the same
 * way and always keep one, LavinMQ's `drop_overflow` too). Keeping a segment with records also
 * keeps the next offset on disk: offsets are never reused after a restart, so stored consumer
 * offsets stay meaningful. A stream may stay over `maxBytes` by less than one segment.
 */
export function selectRetention(segments: readonly StreamSegment[], limits: RetentionLimits, now: number): number {
  if (limits.maxBytes < 0 && limits.maxAgeMs < 0) return 0;
  let total = 0;
  for (const s of segments) total += s.size;
  const cutoff = limits.maxAgeMs >= 0 ? now - limits.maxAgeMs : -Infinity;
  let newestWithRecords = segments.length - 1;
  while (newestWithRecords > 0 && segments[newestWithRecords].records === 0) newestWithRecords--;
  let drop = 0;
  while (drop < newestWithRecords) {
    const s = segments[drop];
    if (!s.sealed) break;
    const overSize = limits.maxBytes >= 0 && total > limits.maxBytes;
    const tooOld = s.records === 0 || s.lastTimestamp < cutoff;
    if (!overSize && !tooOld) break;
    total -= s.size;
    drop++;
  }
  return drop;
}
