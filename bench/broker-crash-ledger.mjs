/**
 * What the clients of bench/broker-crash.mjs saw, and the rules it must satisfy. The clients
 * run in the bench's own process, which the SIGKILLs never touch, so the ledger is exact: a
 * message is *confirmed* when the broker's basic.ack reached the publisher, *delivered* when
 * a basic.deliver reached the consumer, *acked* when the consumer sent basic.ack.
 *
 * A stream is what one publisher sends to one destination (a queue, or the fan-out exchange
 * that reaches two queues), numbered 1, 2, 3 …; each queue holds several streams. Rules,
 * checked as deliveries arrive and at the end:
 *   - lost:        a confirmed message never acked by a consumer (it must survive every crash,
 *                  and a delivered-but-unacked one must come back);
 *   - out of order: within one broker incarnation, a queue delivers a stream's seqs strictly
 *                  increasing; and a message delivered for the first time never comes after
 *                  a later seq of its stream was (AMQP 0-9-1 §4.7, per publisher channel);
 *   - duplicate:   a second delivery is allowed only after a crash (the earlier delivery was
 *                  unacked at the crash, or its ack was not yet durable), flagged redelivered,
 *                  and only if no incarnation in between delivered past it (else an acked
 *                  message came back from the dead);
 *   - corrupt:     a body that is not exactly what was published, or a seq never published.
 * Messages not confirmed when the broker died may be there or not: counted, never a failure.
 */

const ACKED = 1;
const CONFIRMED = 1;
const NACKED = 2;
/** published, not confirmed when the broker died */
const IN_DOUBT = 4;

/** Growable byte/uint arrays indexed by seq. */
class Column {
  /** @param {typeof Uint8Array | typeof Uint16Array} Kind */
  constructor(Kind) {
    this.Kind = Kind;
    this.a = new Kind(1024);
  }
  /** @param {number} i */
  get(i) {
    return i < this.a.length ? this.a[i] : 0;
  }
  /** @param {number} i @param {number} v */
  set(i, v) {
    if (i >= this.a.length) {
      let n = this.a.length * 2;
      while (n <= i) n *= 2;
      const b = new this.Kind(n);
      b.set(this.a);
      this.a = b;
    }
    this.a[i] = v;
  }
}

/**
 * The body of message `seq` of stream `name`: "name|seq|" then a filler whose length and
 * letter follow from both, so any mix-up or damage shows. Every 97th message is ~20 KiB
 * (several frames on the wire, a large journal record).
 * @param {string} name @param {number} index stream number @param {number} seq
 */
export function bodyOf(name, index, seq) {
  const head = `${name}|${seq}|`;
  const len = seq % 97 === 0 ? 20_000 + (seq % 1000) : (seq * 131 + index * 17) % 600;
  return Buffer.from(head + String.fromCharCode(97 + ((seq + index) % 26)).repeat(len), 'latin1');
}

export class Stream {
  /** @param {string} name @param {number} index @param {string[]} queues where its messages go */
  constructor(name, index, queues) {
    this.name = name;
    this.index = index;
    this.queues = queues;
    /** the next seq to publish */
    this.next = 1;
    /** every seq below was confirmed, nacked or in doubt at a crash */
    this.decidedBelow = 1;
    this.state = new Column(Uint8Array);
  }
}

/** One stream as one queue sees it. */
class QueueStream {
  /** @param {Stream} stream */
  constructor(stream) {
    this.stream = stream;
    this.deliveries = new Column(Uint8Array);
    this.lastIncarnation = new Column(Uint16Array);
    this.flags = new Column(Uint8Array);
    /** per incarnation, the highest seq delivered */
    /** @type {Map<number, number>} */
    this.maxInIncarnation = new Map();
    this.maxFirstDelivered = 0;
  }
}

export class Ledger {
  constructor() {
    /** @type {Map<string, Stream>} */
    this.streams = new Map();
    /** @type {Map<string, Map<string, QueueStream>>} queue → stream name → state */
    this.queues = new Map();
    this.incarnation = 1;
    this.counts = {
      published: 0,
      confirmed: 0,
      nacked: 0,
      delivered: 0,
      acked: 0,
      duplicates: 0,
      duplicates_after_ack: 0,
      duplicates_unacked: 0,
      unconfirmed_at_crash: 0,
      unacked_at_crash: 0,
      redelivered_flags: 0,
      lost: 0,
      out_of_order: 0,
      corrupt: 0,
      unconfirmed_lost: 0,
      unconfirmed_survived: 0,
    };
    /** @type {string[]} */
    this.failures = [];
  }

  /** @param {string} text */
  fail(text) {
    if (this.failures.length < 50) this.failures.push(`incarnation ${this.incarnation}: ${text}`);
  }

  /** @param {string} name @param {string[]} queues */
  addStream(name, queues) {
    const s = new Stream(name, this.streams.size, queues);
    this.streams.set(name, s);
    for (const q of queues) {
      if (!this.queues.has(q)) this.queues.set(q, new Map());
      /** @type {Map<string, QueueStream>} */ (this.queues.get(q)).set(name, new QueueStream(s));
    }
    return s;
  }

  /** @param {Stream} s @returns {number} the seq to publish */
  publish(s) {
    this.counts.published++;
    return s.next++;
  }

  /** @param {Stream} s @param {number} seq @param {boolean} nacked */
  confirm(s, seq, nacked) {
    if (nacked) {
      s.state.set(seq, s.state.get(seq) | NACKED);
      this.counts.nacked++;
      return;
    }
    s.state.set(seq, s.state.get(seq) | CONFIRMED);
    this.counts.confirmed++;
  }

  /**
   * A delivery reached the consumer of `queue`.
   * @param {string} queue @param {Buffer} body @param {boolean} redelivered
   * @returns {{ qs: QueueStream, seq: number } | null} null when it could not be attributed
   */
  deliver(queue, body, redelivered) {
    this.counts.delivered++;
    if (redelivered) this.counts.redelivered_flags++;
    const head = body.toString('latin1', 0, Math.min(body.length, 48)).split('|');
    const qs = this.queues.get(queue)?.get(head[0]);
    const seq = Number(head[1]);
    if (!qs || !Number.isInteger(seq) || seq < 1 || seq >= qs.stream.next) {
      this.counts.corrupt++;
      this.fail(`${queue}: a message that was never published to it: ${JSON.stringify(head.slice(0, 2))}`);
      return null;
    }
    if (!body.equals(bodyOf(qs.stream.name, qs.stream.index, seq))) {
      this.counts.corrupt++;
      this.fail(`${queue}: ${qs.stream.name} seq ${seq}: body differs from what was published (${body.length} bytes)`);
    }
    const inc = this.incarnation;
    const maxHere = qs.maxInIncarnation.get(inc) ?? 0;
    if (seq <= maxHere) {
      this.counts.out_of_order++;
      this.fail(`${queue}: ${qs.stream.name} seq ${seq} delivered after seq ${maxHere} in the same incarnation`);
    } else qs.maxInIncarnation.set(inc, seq);

    const before = qs.deliveries.get(seq);
    if (before === 0) {
      if (seq < qs.maxFirstDelivered) {
        this.counts.out_of_order++;
        this.fail(`${queue}: ${qs.stream.name} seq ${seq} first delivered after seq ${qs.maxFirstDelivered}`);
      } else qs.maxFirstDelivered = seq;
    } else {
      this.counts.duplicates++;
      const prev = qs.lastIncarnation.get(seq);
      if (qs.flags.get(seq) & ACKED) this.counts.duplicates_after_ack++;
      else this.counts.duplicates_unacked++;
      if (prev === inc) this.fail(`${queue}: ${qs.stream.name} seq ${seq} delivered twice without a crash in between`);
      else if (!redelivered) this.fail(`${queue}: ${qs.stream.name} seq ${seq} delivered again after a crash without the redelivered flag`);
      for (let j = prev + 1; j < inc; j++) {
        const m = qs.maxInIncarnation.get(j) ?? 0;
        if (m > seq) {
          this.fail(`${queue}: ${qs.stream.name} seq ${seq} came back although incarnation ${j} delivered up to ${m} without it`);
          break;
        }
      }
    }
    qs.deliveries.set(seq, Math.min(255, before + 1));
    qs.lastIncarnation.set(seq, inc);
    qs.flags.set(seq, qs.flags.get(seq) & ~ACKED);
    return { qs, seq };
  }

  /** The consumer sent basic.ack for this delivery. @param {QueueStream} qs @param {number} seq */
  ack(qs, seq) {
    qs.flags.set(seq, qs.flags.get(seq) | ACKED);
    this.counts.acked++;
  }

  /** The broker was killed: count what was in doubt, and start a new incarnation. */
  crash() {
    for (const s of this.streams.values()) {
      for (let seq = s.decidedBelow; seq < s.next; seq++) {
        if (s.state.get(seq) !== 0) continue;
        s.state.set(seq, IN_DOUBT);
        this.counts.unconfirmed_at_crash++;
      }
      s.decidedBelow = s.next;
    }
    for (const m of this.queues.values()) {
      for (const qs of m.values()) {
        for (let seq = 1; seq < qs.stream.next; seq++) {
          if (qs.lastIncarnation.get(seq) === this.incarnation && !(qs.flags.get(seq) & ACKED)) this.counts.unacked_at_crash++;
        }
      }
    }
    this.incarnation++;
  }

  /** A new broker incarnation without a crash before it (a clean restart). */
  restart() {
    this.incarnation++;
  }

  /** After the final drain: every confirmed message must have been acked by a consumer. */
  finish() {
    for (const [queue, m] of this.queues) {
      for (const qs of m.values()) {
        for (let seq = 1; seq < qs.stream.next; seq++) {
          const st = qs.stream.state.get(seq);
          const done = (qs.flags.get(seq) & ACKED) !== 0;
          if (st & CONFIRMED) {
            if (!done) {
              this.counts.lost++;
              this.fail(`${queue}: confirmed ${qs.stream.name} seq ${seq} lost (${qs.deliveries.get(seq)} deliveries, none acked)`);
            }
          } else if (qs.deliveries.get(seq) === 0) this.counts.unconfirmed_lost++;
          else this.counts.unconfirmed_survived++;
        }
      }
    }
  }
}
