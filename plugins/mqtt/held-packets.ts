/**
 * Packets a connection received while a resource alarm blocks publishing (issue 9; RabbitMQ's
 * memory and disk alarms). The first PUBLISH during an alarm is held and the connection stops
 * reading its socket, so the client feels TCP backpressure; whatever was already read after
 * it is held too, in order (a PUBREL, a DISCONNECT must not overtake the PUBLISH before it).
 * When the alarm clears they are handled in arrival order and reading resumes. Connections
 * that only consume are never held: consumers keep draining.
 *
 * Beyond RabbitMQ, a publish held longer than the core's `publishDeadlineMs` fails
 * explicitly (connection.ts `#heldPastDeadline`): never silently dropped.
 */
import type { Packet } from './codec.js';

export class HeldPackets {
  #packets: Packet[] = [];
  #deadline: NodeJS.Timeout | null = null;

  get size(): number {
    return this.#packets.length;
  }

  /** @param onDeadline called if the packets are still held after `deadlineMs` (0: never) */
  hold(packet: Packet, deadlineMs: number, onDeadline: () => void): void {
    this.#packets.push(packet);
    if (this.#deadline === null && deadlineMs > 0) {
      this.#deadline = setTimeout(() => {
        this.#deadline = null;
        onDeadline();
      }, deadlineMs);
      this.#deadline.unref();
    }
  }

  /** Everything held, in arrival order; the holder is empty afterwards. */
  take(): Packet[] {
    this.#clearDeadline();
    const packets = this.#packets;
    this.#packets = [];
    return packets;
  }

  #clearDeadline(): void {
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#deadline = null;
  }
}
