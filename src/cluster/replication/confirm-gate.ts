import { NotReplicatedError } from '../../store/log/append-observer.js';

export interface ConfirmGateOptions {
  /** nodes (this leader counted) that must hold a record before it is confirmed */
  minIsr: number;
  /** below minIsr, a held round is refused after this long */
  refuseAfterMs: number;
  /** an ISR member that has not acked a held round for this long is reported lagging */
  ackDeadlineMs: number;
  /** an ISR member missed the deadline */
  onLagging(id: string): void;
  /** fencing: false while this node may no longer confirm (its lease may have lapsed): rounds stay held */
  mayConfirm?: () => boolean;
}

interface Held {
  target: number;
  since: number;
  release: (refusal: NotReplicatedError | null) => void;
}

/**
 * The confirm rule, on the leader. A group commit that has fdatasynced a round asks to
 * release its confirms (`hold`, from the append observer's gate); the round's target is the
 * outbox position at that moment — every write of the round was enqueued before its
 * fdatasync. It is released once every member of the in-sync set has acked that position
 * (each acks after its own fdatasync) and the set, with the leader, has at least `minIsr`
 * nodes. Below `minIsr` the round waits, and is refused after `refuseAfterMs` (negative
 * confirms; the log carries on). A member that stays behind a held round past
 * `ackDeadlineMs` is reported (`onLagging`) once per stall: the round stays held until the
 * owner of the ISR removes it in etcd and calls `setIsr` — a confirm never goes out on
 * fewer copies than the ISR in etcd promises. Rounds are released in order, and only while
 * `mayConfirm` (the lease check) allows, checked at the moment of release.
 */
export class ConfirmGate {
  readonly #o: ConfirmGateOptions;
  #isr: readonly string[] = [];
  readonly #acked = new Map<string, number>();
  readonly #lagging = new Set<string>();
  readonly #held: Held[] = [];
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: ConfirmGateOptions) {
    this.#o = options;
  }

  get isr(): readonly string[] {
    return this.#isr;
  }
  get heldCount(): number {
    return this.#held.length;
  }

  setIsr(members: readonly string[]): void {
    this.#isr = [...new Set(members)];
    for (const id of this.#lagging) if (!this.#isr.includes(id)) this.#lagging.delete(id);
    this.#check();
  }

  /** `id` has everything up to `position` durable. */
  acked(id: string, position: number): void {
    if ((this.#acked.get(id) ?? 0) < position) this.#acked.set(id, position);
    this.#lagging.delete(id);
    if (this.#held.length > 0) this.#check();
  }

  ackedPosition(id: string): number {
    return this.#acked.get(id) ?? 0;
  }

  /** Forget a follower's acks (it reconnects and catches up from what it reports). */
  forget(id: string): void {
    this.#acked.delete(id);
  }

  hold(target: number, release: (refusal: NotReplicatedError | null) => void): void {
    if (this.#closed) return release(new NotReplicatedError('replication is closed'));
    if (this.#held.length === 0 && this.#satisfied(target)) return release(null);
    this.#held.push({ target, since: Date.now(), release });
    this.#timer ??= setInterval(() => this.#check(), Math.max(5, Math.min(50, this.#o.ackDeadlineMs / 4, this.#o.refuseAfterMs / 4)));
    this.#timer.unref();
  }

  /** Refuse every held round (the leader is closing: nothing more will be confirmed). */
  close(): void {
    this.#closed = true;
    this.#stopTimer();
    for (const h of this.#held.splice(0)) h.release(new NotReplicatedError('replication is closed'));
  }

  #satisfied(target: number): boolean {
    if (this.#isr.length + 1 < this.#o.minIsr) return false;
    if (this.#o.mayConfirm !== undefined && !this.#o.mayConfirm()) return false;
    for (const id of this.#isr) if ((this.#acked.get(id) ?? 0) < target) return false;
    return true;
  }

  #check(): void {
    const now = Date.now();
    while (this.#held.length > 0) {
      const h = this.#held[0];
      if (this.#satisfied(h.target)) {
        this.#held.shift();
        h.release(null);
        continue;
      }
      if (this.#isr.length + 1 < this.#o.minIsr) {
        if (now - h.since < this.#o.refuseAfterMs) break;
        this.#held.shift();
        h.release(new NotReplicatedError(`not confirmed: ${this.#isr.length + 1} of the ${this.#o.minIsr} nodes required are in sync`));
        continue;
      }
      if (now - h.since >= this.#o.ackDeadlineMs) {
        for (const id of this.#isr) {
          if ((this.#acked.get(id) ?? 0) >= h.target || this.#lagging.has(id)) continue;
          this.#lagging.add(id);
          this.#o.onLagging(id);
        }
      }
      break;
    }
    if (this.#held.length === 0) this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
