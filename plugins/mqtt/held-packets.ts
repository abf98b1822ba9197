/**
 * Packets held while a resource alarm blocks publishing (RabbitMQ's memory and disk alarms,
 * `core.alarms`): a connection's next PUBLISH waits, and so does everything read after it, in
 * order (src/util/held-in-order.ts), while the connection stops reading. When the alarm
 * clears they are handled as usual; past `alarms.publish_deadline` the held publishes fail
 * explicitly (`pastDeadline`).
 */
import type { Packet } from './codec.js';
import type { MqttConnection } from './connection.js';
import { RC } from './errors.js';
import { dispatchPacket } from './handlers/index.js';
import { refuseHeldPublish } from './handlers/publish.js';
import { HeldInOrder } from '../../src/util/index.js';

export class HeldPackets {
  readonly #held = new HeldInOrder<Packet>();
  readonly #c: MqttConnection;

  constructor(c: MqttConnection) {
    this.#c = c;
  }

  get size(): number {
    return this.#held.size;
  }

  hold(packet: Packet): void {
    const c = this.#c;
    if (this.#held.size === 0) c.pauseReading();
    this.#held.hold(packet, c.ctx.core.alarms.settings.publishDeadlineMs, () => this.#pastDeadline());
  }

  /** The alarm cleared: handle what was held, in arrival order, and read again. */
  release(): void {
    if (this.#held.size > 0) this.#replay(this.#held.take(), null);
  }

  /** The connection ends: what was held is dropped with it (no ack was sent for it). */
  drop(): void {
    this.#held.take();
  }

  /**
   * Held past the alarm deadline. MQTT 5: each held QoS ≥ 1 PUBLISH gets PUBACK / PUBREC 0x97
   * Quota exceeded, the other packets are handled, and reading resumes (a later publish may be
   * held again); a held QoS 0 PUBLISH has no ack to say it was refused, so the connection
   * ends with DISCONNECT 0x97. MQTT 3.1.1 has no negative ack: the connection closes.
   */
  #pastDeadline(): void {
    const c = this.#c;
    const alarms = c.ctx.core.alarms;
    const why = `publishing blocked by a resource alarm (${alarms.reason}) for longer than ${alarms.settings.publishDeadlineMs} ms`;
    c.log.info('held publishes failed', { reason: why });
    if (c.version !== 5) {
      this.#held.take();
      return c.protocolError(RC.QUOTA_EXCEEDED, why);
    }
    this.#replay(this.#held.take(), why);
  }

  /** @param refuseWhy null: publish normally; else refuse each PUBLISH with this reason string */
  #replay(packets: Packet[], refuseWhy: string | null): void {
    const c = this.#c;
    let unackedRefused = false;
    for (const p of packets) {
      if (c.closed) return;
      try {
        if (refuseWhy !== null && p.cmd === 'publish') {
          if (!refuseHeldPublish(c, p, refuseWhy)) unackedRefused = true;
        } else {
          dispatchPacket(c, p);
        }
      } catch (e) {
        c.handlerFailed(e);
      }
    }
    if (c.closed) return;
    if (unackedRefused) {
      c.protocolError(RC.QUOTA_EXCEEDED, `${refuseWhy}: a QoS 0 message was not published`);
      return;
    }
    c.resumeReading();
  }
}
