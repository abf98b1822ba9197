/**
 * Frames a STOMP connection received while a resource alarm blocks publishing (issue 9;
 * RabbitMQ's memory and disk alarms). The first SEND (or COMMIT) during an alarm is held and
 * the connection stops reading its transport, so the client feels backpressure; frames that
 * were already read after it are held too, in order (a DISCONNECT must not overtake the SEND
 * before it). When the alarm clears they are handled in arrival order and reading resumes.
 * Connections that only consume are never held: consumers keep draining.
 *
 * Beyond RabbitMQ, frames held longer than the core's `publishDeadlineMs` fail explicitly
 * (connection.ts): an ERROR frame naming the held SEND's receipt, then close.
 */
import type { StompFrame } from './frame.js';

export class HeldFrames {
  #frames: StompFrame[] = [];
  #deadline: NodeJS.Timeout | null = null;

  get size(): number {
    return this.#frames.length;
  }

  /** @param onDeadline called if the frames are still held after `deadlineMs` (0: never) */
  hold(frame: StompFrame, deadlineMs: number, onDeadline: () => void): void {
    this.#frames.push(frame);
    if (this.#deadline === null && deadlineMs > 0) {
      this.#deadline = setTimeout(() => {
        this.#deadline = null;
        onDeadline();
      }, deadlineMs);
      this.#deadline.unref();
    }
  }

  /** Everything held, in arrival order; the holder is empty afterwards. */
  take(): StompFrame[] {
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#deadline = null;
    const frames = this.#frames;
    this.#frames = [];
    return frames;
  }
}

/** Whether a frame publishes: a SEND outside a transaction, or a COMMIT (which publishes its SENDs). */
export function publishes(frame: StompFrame): boolean {
  return (frame.command === 'SEND' && frame.headers['transaction'] === undefined) || frame.command === 'COMMIT';
}
