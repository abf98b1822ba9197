/**
 * What a Jepsen-style run observed, and the checker (Jepsen's total-queue, as rabbitmq/jepsen
 * uses it): every id a publisher sent, whether the broker confirmed it, and every delivery.
 *
 * - lost: confirmed, never delivered — must be 0 (a confirm is a promise);
 * - unexpected: delivered, never sent — must be 0;
 * - duplicated: delivered more than once — allowed (at-least-once, after a failover), counted;
 * - recovered: delivered though never confirmed (its confirm was lost with a connection).
 * Also the order of first deliveries per queue and publisher (a later id delivered first
 * for the first time is counted as reordered).
 */
export interface Verdict {
  sent: number;
  confirmed: number;
  delivered: number;
  lost: number;
  unexpected: number;
  duplicated: number;
  recovered: number;
  reordered: number;
  lostIds: string[];
  /** confirmed ids per publisher (`p0` AMQP, `mq0` MQTT, `st0` STOMP …) */
  confirmedBy: Record<string, number>;
}

export class History {
  /** id → confirmed? (false while unconfirmed or nacked) */
  readonly #sent = new Map<string, boolean>();
  readonly #deliveries = new Map<string, number>();
  /** `${queue}|${publisher}` → last seq first-delivered */
  readonly #lastFirst = new Map<string, number>();
  #reordered = 0;
  /** when each confirm arrived and when its connection was opened (ms), for failover times */
  readonly confirmTimes: number[] = [];
  readonly #confirmSessions: number[] = [];

  sent(id: string): void {
    this.#sent.set(id, false);
  }

  /** @param sessionStart when the connection that got the confirm was opened */
  confirmed(id: string, sessionStart: number): void {
    this.#sent.set(id, true);
    this.confirmTimes.push(Date.now());
    this.#confirmSessions.push(sessionStart);
  }

  /** ids look like `<publisher>:<seq>` */
  delivered(queue: string, id: string): void {
    const n = this.#deliveries.get(id) ?? 0;
    this.#deliveries.set(id, n + 1);
    if (n > 0) return;
    const colon = id.lastIndexOf(':');
    const key = `${queue}|${id.slice(0, colon)}`;
    const seq = Number(id.slice(colon + 1));
    const last = this.#lastFirst.get(key) ?? -1;
    if (seq < last) this.#reordered++;
    else this.#lastFirst.set(key, seq);
  }

  get deliveryCount(): number {
    return this.#deliveries.size;
  }

  /**
   * The first confirm on a connection opened after `t` (ms), or null. Only such a connection
   * can have reached a leader elected after a fault at `t`: confirms still arriving from the
   * old leader (sent before it was killed or stopped) do not count.
   */
  firstConfirmAfter(t: number): number | null {
    for (let i = 0; i < this.confirmTimes.length; i++) {
      if (this.#confirmSessions[i]! > t && this.confirmTimes[i]! >= t) return this.confirmTimes[i]!;
    }
    return null;
  }

  verdict(): Verdict {
    let confirmed = 0;
    let lost = 0;
    let recovered = 0;
    const lostIds: string[] = [];
    const confirmedBy: Record<string, number> = {};
    for (const [id, ok] of this.#sent) {
      const delivered = this.#deliveries.has(id);
      if (ok) {
        confirmed++;
        const publisher = id.slice(0, id.lastIndexOf(':'));
        confirmedBy[publisher] = (confirmedBy[publisher] ?? 0) + 1;
        if (!delivered) {
          lost++;
          if (lostIds.length < 20) lostIds.push(id);
        }
      } else if (delivered) recovered++;
    }
    let unexpected = 0;
    let duplicated = 0;
    for (const [id, n] of this.#deliveries) {
      if (!this.#sent.has(id)) unexpected++;
      if (n > 1) duplicated++;
    }
    return { sent: this.#sent.size, confirmed, delivered: this.#deliveries.size, lost, unexpected, duplicated, recovered, reordered: this.#reordered, lostIds, confirmedBy };
  }
}
