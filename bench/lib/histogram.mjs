/**
 * Latency histogram with bounded memory and < 1 % relative error.
 *
 * Values are recorded in whole microseconds. Below 256 µs every value has its
 * own bucket; above, each power of two is split into 128 buckets (the layout
 * HdrHistogram uses, simplified), so a 10-second run at 100 k msg/s costs the
 * same 3 k counters as a 1-second run, and histograms from several processes
 * merge by adding counts.
 */

const SUB_BITS = 7;
const SUB_BUCKETS = 1 << SUB_BITS; // 128 buckets per power of two
const LINEAR_LIMIT = SUB_BUCKETS * 2; // values below this are exact
const MAX_SHIFT = 23; // 2^31 µs ≈ 36 minutes: anything longer is clamped
const BUCKET_COUNT = LINEAR_LIMIT + MAX_SHIFT * SUB_BUCKETS;
const MAX_MICROS = 2 ** 31 - 1;

/** @param {number} micros a non-negative integer */
function bucketOf(micros) {
  if (micros < LINEAR_LIMIT) return micros;
  const topBit = 31 - Math.clz32(micros);
  const shift = topBit - SUB_BITS;
  const mantissa = micros >>> shift; // in [128, 255]
  return LINEAR_LIMIT + (shift - 1) * SUB_BUCKETS + (mantissa - SUB_BUCKETS);
}

/** @param {number} bucket @returns {number} the bucket's midpoint in µs */
function valueOf(bucket) {
  if (bucket < LINEAR_LIMIT) return bucket;
  const offset = bucket - LINEAR_LIMIT;
  const shift = Math.floor(offset / SUB_BUCKETS) + 1;
  const mantissa = (offset % SUB_BUCKETS) + SUB_BUCKETS;
  const width = 2 ** shift;
  return mantissa * width + width / 2;
}

export class LatencyHistogram {
  constructor() {
    this.counts = new Float64Array(BUCKET_COUNT);
    this.total = 0;
    this.sumMicros = 0;
    this.maxMicros = 0;
    /** samples below zero: the two processes' clocks disagree */
    this.negative = 0;
  }

  /** @param {number} ms latency in milliseconds (fractional) */
  recordMs(ms) {
    let micros = Math.round(ms * 1000);
    if (micros < 0) {
      this.negative++;
      micros = 0;
    } else if (micros > MAX_MICROS) {
      micros = MAX_MICROS;
    }
    this.counts[bucketOf(micros)]++;
    this.total++;
    this.sumMicros += micros;
    if (micros > this.maxMicros) this.maxMicros = micros;
  }

  /** @param {LatencyHistogram} other */
  merge(other) {
    for (let i = 0; i < BUCKET_COUNT; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
    this.sumMicros += other.sumMicros;
    this.negative += other.negative;
    if (other.maxMicros > this.maxMicros) this.maxMicros = other.maxMicros;
  }

  /** @param {number} percent 0..100 @returns {number | null} milliseconds */
  percentileMs(percent) {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(valueOf(i), this.maxMicros) / 1000;
    }
    return this.maxMicros / 1000;
  }

  /** @returns {{p50: number|null, p95: number|null, p99: number|null, max: number|null, mean: number|null, samples: number}} */
  summary() {
    const round = (/** @type {number|null} */ v) => (v === null ? null : Math.round(v * 1000) / 1000);
    return {
      p50: round(this.percentileMs(50)),
      p95: round(this.percentileMs(95)),
      p99: round(this.percentileMs(99)),
      max: this.total === 0 ? null : round(this.maxMicros / 1000),
      mean: this.total === 0 ? null : round(this.sumMicros / this.total / 1000),
      samples: this.total,
    };
  }

  /** Sparse form for sending between processes. */
  toWire() {
    /** @type {number[]} */
    const sparse = [];
    for (let i = 0; i < BUCKET_COUNT; i++) if (this.counts[i] !== 0) sparse.push(i, this.counts[i]);
    return { sparse, total: this.total, sumMicros: this.sumMicros, maxMicros: this.maxMicros, negative: this.negative };
  }

  /** @param {ReturnType<LatencyHistogram['toWire']>} wire */
  static fromWire(wire) {
    const h = new LatencyHistogram();
    for (let i = 0; i < wire.sparse.length; i += 2) h.counts[wire.sparse[i]] = wire.sparse[i + 1];
    h.total = wire.total;
    h.sumMicros = wire.sumMicros;
    h.maxMicros = wire.maxMicros;
    h.negative = wire.negative;
    return h;
  }
}
