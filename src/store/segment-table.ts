/**
 * Per-segment liveness, in memory only (recomputed by recovery: counters that drift on disk
 * are the bug of cloudamqp/lavinmq#1296).
 *
 * A record is *needed* while it can still change what recovery rebuilds (docs/store.md §Reclaim):
 * - a MSG while any of its targets is live — counted in `liveRefs`;
 * - an ACK / PURGE / QUEUE_DELETE while a MSG it cancels still exists in another segment —
 *   kept as the set `cancelTargets` of segments holding such MSGs. Cancel records only ever
 *   point at the same or older segments (an ack logged after a copy refers to the copy).
 * A sealed segment with no needed record is deleted; one with few is compacted.
 */
export class SegmentInfo {
  readonly number: number;
  /** bytes of the file (header included) */
  size = 0;
  /** complete, synced and closed by the journal: eligible for reclaim */
  sealed = false;
  /** when it was sealed (ms since the epoch; 0 for segments found at recovery) */
  sealedAt = 0;
  /** unlinked and the directory synced: gone for good */
  deleted = false;
  deleting = false;
  compacting = false;
  /** live (queue, seq) targets of MSG records here */
  liveRefs = 0;
  /** bytes of MSG records attributed to live targets (record size / target count each) */
  liveBytes = 0;
  /** bodies with parts here that are still alive (large-body.ts): kept, and never compacted (parts do not move) */
  partRefs = 0;
  /** segments holding MSGs that cancel records here kill */
  cancelTargets: Set<number> | null = null;
  /** positional reads in flight: the file must stay until they finish */
  readers = 0;
  /** the file failed its checksum scan or could not be read: never compacted */
  damaged = false;

  constructor(number: number) {
    this.number = number;
  }
}

export class SegmentTable {
  readonly #segments = new Map<number, SegmentInfo>();
  /** set when something changed that may make a segment reclaimable */
  dirty = false;
  /** total live refs over all segments (messages on disk, counting each queue) */
  liveRefs = 0;

  get size(): number {
    return this.#segments.size;
  }

  get(segment: number): SegmentInfo | undefined {
    return this.#segments.get(segment);
  }

  ensure(segment: number): SegmentInfo {
    let s = this.#segments.get(segment);
    if (!s) this.#segments.set(segment, (s = new SegmentInfo(segment)));
    return s;
  }

  /** in segment-number order */
  list(): SegmentInfo[] {
    return [...this.#segments.values()].sort((a, b) => a.number - b.number);
  }

  retain(segment: number, refs: number, bytes: number): void {
    const s = this.ensure(segment);
    s.liveRefs += refs;
    s.liveBytes += bytes;
    this.liveRefs += refs;
  }

  release(segment: number, refs: number, bytes: number): void {
    const s = this.#segments.get(segment);
    if (!s) return;
    s.liveRefs -= refs;
    s.liveBytes -= bytes;
    this.liveRefs -= refs;
    if (s.liveRefs <= 0) {
      s.liveBytes = 0; // shares are rounded: do not let rounding leave phantom bytes
      this.dirty = true;
    }
  }

  /** A live body has parts in `segment`. */
  retainParts(segment: number): void {
    this.ensure(segment).partRefs++;
  }

  releaseParts(segment: number): void {
    const s = this.#segments.get(segment);
    if (!s) return;
    if (--s.partRefs <= 0) this.dirty = true;
  }

  /** A cancel record in `segment` kills a MSG held in `target`. */
  addCancelTarget(segment: number, target: number): void {
    if (segment === target) return;
    const s = this.ensure(segment);
    (s.cancelTargets ??= new Set()).add(target);
  }

  addCancelTargets(segment: number, targets: Iterable<number>): void {
    for (const t of targets) this.addCancelTarget(segment, t);
  }

  sealed(segment: number, size: number, at = 0): void {
    const s = this.ensure(segment);
    s.sealed = true;
    s.sealedAt = at;
    s.size = size;
    this.dirty = true;
  }

  /** Whether any segment this one's cancel records refer to still exists (prunes the gone ones). */
  cancelsNeeded(s: SegmentInfo): boolean {
    const targets = s.cancelTargets;
    if (targets === null) return false;
    for (const t of targets) {
      const target = this.#segments.get(t);
      if (!target || target.deleted) targets.delete(t);
    }
    if (targets.size === 0) s.cancelTargets = null;
    return s.cancelTargets !== null;
  }

  /** Sealed segments with nothing needed and nobody reading them. */
  deletable(): SegmentInfo[] {
    this.dirty = false;
    const out: SegmentInfo[] = [];
    for (const s of this.#segments.values()) {
      if (!s.sealed || s.deleted || s.deleting || s.compacting || s.readers > 0 || s.liveRefs > 0 || s.partRefs > 0) continue;
      if (this.cancelsNeeded(s)) continue;
      out.push(s);
    }
    return out.sort((a, b) => a.number - b.number);
  }

  markDeleted(s: SegmentInfo): void {
    s.deleted = true;
    s.deleting = false;
    this.#segments.delete(s.number);
    this.dirty = true; // segments whose cancel records pointed here may go now
  }

  /** bytes on disk, over all segments (the active one included) */
  diskBytes(): number {
    let n = 0;
    for (const s of this.#segments.values()) n += s.size;
    return n;
  }

  liveBytes(): number {
    let n = 0;
    // a segment holding parts of a live body is counted whole: its parts are not accounted one by one
    for (const s of this.#segments.values()) n += s.partRefs > 0 ? s.size : s.liveBytes;
    return n;
  }
}
