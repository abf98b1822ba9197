/**
 * Heartbeats both ways (AMQP 0-9-1 §4.2.7), with one timer ticking every half interval:
 * - send: a heartbeat frame on each tick when nothing else was written since the last one;
 * - receive: a peer from which nothing (any frame counts) arrived for two whole intervals is
 *   dead (RabbitMQ's rule): `onTimeout` is called. Four silent half-interval ticks in a row
 *   span at least two intervals, so a live peer is never dropped early.
 */
import { HEARTBEAT_FRAME } from './codec/constants.js';
import type { FrameWriter } from './frame-writer.js';

const SILENT_TICKS_BEFORE_TIMEOUT = 4;

export class HeartbeatMonitor {
  /** set by the connection on every chunk read from the socket */
  received = true;
  readonly #writer: FrameWriter;
  readonly #onTimeout: () => void;
  readonly #timer: NodeJS.Timeout;
  #silentTicks = 0;

  constructor(intervalSeconds: number, writer: FrameWriter, onTimeout: () => void) {
    this.#writer = writer;
    this.#onTimeout = onTimeout;
    this.#timer = setInterval(() => this.#tick(), (intervalSeconds * 1000) / 2);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** set while the connection deliberately stops reading (a resource alarm): silence is ours, not the peer's */
  paused = false;

  #tick(): void {
    if (this.received || this.paused) {
      this.received = false;
      this.#silentTicks = 0;
    } else if (++this.#silentTicks >= SILENT_TICKS_BEFORE_TIMEOUT) {
      this.stop();
      this.#onTimeout();
      return;
    }
    if (!this.#writer.wroteSinceTick) {
      this.#writer.out.push(HEARTBEAT_FRAME);
      this.#writer.flush();
    }
    this.#writer.wroteSinceTick = false;
  }
}
