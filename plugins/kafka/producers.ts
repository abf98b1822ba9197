/**
 * Idempotent producers (KIP-98): per producer id and partition, the sequence number of the
 * last batch appended and where it went, so a retried batch is answered with its first
 * offset instead of being appended again, and a gap is OUT_OF_ORDER_SEQUENCE_NUMBER.
 * Kept in memory and in the log: the first record of every idempotent batch carries its
 * producer id, epoch, base sequence and count (producer-recovery.ts), and the first
 * idempotent produce to a stream after a start rebuilds this state from the stream's tail.
 */
export interface SequenceState {
  epoch: number;
  /** base sequence and record count of the recent batches, with their first offsets (Kafka keeps 5) */
  batches: { baseSequence: number; count: number; baseOffset: number }[];
}

export type SequenceCheck = { kind: 'append' } | { kind: 'duplicate'; baseOffset: number } | { kind: 'error'; code: number };

const KEPT_BATCHES = 5;

export class ProducerStates {
  readonly #states = new Map<string, SequenceState>();
  /** streams whose producer state was rebuilt from the log since the start */
  readonly #recovered = new Set<string>();

  recovered(stream: string): boolean {
    return this.#recovered.has(stream);
  }

  markRecovered(stream: string): void {
    this.#recovered.add(stream);
  }

  check(producerId: number, epoch: number, stream: string, baseSequence: number, count: number): SequenceCheck {
    const s = this.#states.get(`${producerId}/${stream}`);
    if (s === undefined) return { kind: 'append' };
    if (epoch < s.epoch) return { kind: 'error', code: 47 }; // INVALID_PRODUCER_EPOCH
    if (epoch > s.epoch) return baseSequence === 0 ? { kind: 'append' } : { kind: 'error', code: 45 };
    for (const b of s.batches) if (b.baseSequence === baseSequence && b.count === count) return { kind: 'duplicate', baseOffset: b.baseOffset };
    const last = s.batches[s.batches.length - 1];
    const expected = last === undefined ? 0 : last.baseSequence + last.count;
    if (baseSequence !== expected) return { kind: 'error', code: 45 }; // OUT_OF_ORDER_SEQUENCE_NUMBER
    return { kind: 'append' };
  }

  appended(producerId: number, epoch: number, stream: string, baseSequence: number, count: number, baseOffset: number): void {
    const key = `${producerId}/${stream}`;
    let s = this.#states.get(key);
    if (s === undefined || s.epoch !== epoch) {
      s = { epoch, batches: [] };
      this.#states.set(key, s);
    }
    s.batches.push({ baseSequence, count, baseOffset });
    if (s.batches.length > KEPT_BATCHES) s.batches.shift();
  }
}
