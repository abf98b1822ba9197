/**
 * Heartbeats both ways (AMQP 0-9-1 §4.2.7), ticking every half interval on the front-ends'
 * shared deadlines (src/frontend/deadlines.ts: no timer or closure of its own per connection):
 * - send: a heartbeat frame on each tick when nothing else was written since the last one;
 * - receive: a peer from which nothing (any frame counts) arrived for two whole intervals is
 *   dead (RabbitMQ's rule): the connection's `heartbeatTimedOut` is called. Four silent
 *   half-interval ticks in a row span at least two intervals, so a live peer is never dropped
 *   early.
 */
import { deadlines, type Expiring } from '../../src/frontend/index.js';
import { HEARTBEAT_FRAME } from './codec/constants.js';
import type { FrameWriter } from './frame-writer.js';

const SILENT_TICKS_BEFORE_TIMEOUT = 4;

/** What the monitor tells of a dead peer. */
export interface HeartbeatOwner {
  heartbeatTimedOut(): void;
}

export class HeartbeatMonitor implements Expiring {
  /** set by the connection on every chunk read from the socket */
  received = true;
  /** set while the connection deliberately stops reading (a resource alarm): silence is ours, not the peer's */
  paused = false;
  deadlineToken = 0;
  readonly #writer: FrameWriter;
  readonly #owner: HeartbeatOwner;
  readonly #tickMs: number;
  #silentTicks = 0;

  constructor(intervalSeconds: number, writer: FrameWriter, owner: HeartbeatOwner) {
    this.#writer = writer;
    this.#owner = owner;
    this.#tickMs = (intervalSeconds * 1000) / 2;
    deadlines.set(this, Date.now() + this.#tickMs);
  }

  stop(): void {
    deadlines.clear(this);
  }

  /** a tick */
  deadlinePassed(): void {
    if (this.received || this.paused) {
      this.received = false;
      this.#silentTicks = 0;
    } else if (++this.#silentTicks >= SILENT_TICKS_BEFORE_TIMEOUT) {
      this.#owner.heartbeatTimedOut();
      return;
    }
    if (!this.#writer.wroteSinceTick) {
      this.#writer.out.push(HEARTBEAT_FRAME);
      this.#writer.flush();
    }
    this.#writer.wroteSinceTick = false;
    deadlines.set(this, Date.now() + this.#tickMs);
  }
}
