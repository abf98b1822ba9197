import type { StreamStore } from '../../../store/stream/stream-store.js';
import { preconditionFailed } from '../../errors.js';
import type { StreamCursor } from './stream-cursor.js';

/**
 * Where a stream's consumers resume: named consumers' offsets in the stream store (kept in
 * SQLite with its next flush), unnamed single-active groups' in memory only.
 */
export class StreamOffsets {
  /** committed offsets of unnamed single-active groups */
  readonly #groups = new Map<string, number>();

  constructor(
    readonly streams: StreamStore,
    readonly streamId: number,
  ) {}

  /** The offset a cursor resumes after (undefined: none stored, its offset spec decides). */
  resumeOf(cursor: StreamCursor): number | undefined {
    if (cursor.name !== null) return this.streams.storedOffset(this.streamId, cursor.name);
    if (cursor.group !== null) return this.#groups.get(cursor.group);
    return undefined;
  }

  /** Commit a named (or grouped) cursor's offset: in memory now, in SQLite with the next flush. */
  commit(cursor: StreamCursor): void {
    if (cursor.committed < 0) return;
    if (cursor.name !== null) this.streams.commitOffset(this.streamId, cursor.name, cursor.committed);
    else if (cursor.group !== null && cursor.committed > (this.#groups.get(cursor.group) ?? -1)) {
      this.#groups.set(cursor.group, cursor.committed);
    }
  }

  /**
   * Store an offset for a named consumer explicitly (beyond RabbitMQ's AMQP side; front-ends
   * and embedders use it, acks do it for consumers that name themselves).
   */
  commitOffset(consumerName: string, offset: number): void {
    if (!Number.isInteger(offset) || offset < 0) throw preconditionFailed(`invalid offset ${offset}`);
    this.streams.commitOffset(this.streamId, consumerName, offset);
  }

  storedOffset(consumerName: string): number | undefined {
    return this.streams.storedOffset(this.streamId, consumerName);
  }

  /** consumer name → stored offset, for every named consumer (and Kafka group) of the stream */
  storedOffsets(): Map<string, number> {
    return this.streams.storedOffsets(this.streamId);
  }
}
