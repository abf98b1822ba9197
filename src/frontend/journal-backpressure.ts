/**
 * A body above `large_message_threshold` is written to the journal as it arrives (AMQP content
 * frames, a STOMP SEND with a content-length, an MQTT PUBLISH payload): its connection is read
 * no faster than the journal writes, so the bytes between the socket and the disk stay bounded
 * whatever the body's size.
 */
import type { LargeBodyWriter } from '../store/large-body.js';

/** Unwritten journal bytes past which a large body's publisher is not read until the journal caught up. */
export const JOURNAL_BACKLOG = 8 * 1024 * 1024;

/** The connection a large body arrives on. */
export interface BodySource {
  setReading(reading: boolean): void;
  /** a resource alarm holds its publishes: its gate, not the journal, resumes reading */
  readonly holding: boolean;
}

/** The core's resource alarms, as far as a paused body needs them. */
export interface BodyAlarms {
  readonly blocked: boolean;
  onChange(listener: () => void): () => void;
}

const waiting = new WeakSet<BodySource>();

/** After bytes were appended to `writer`: stop reading `source` while the journal is behind. */
export function keepUpWithJournal(source: BodySource, writer: LargeBodyWriter, alarms: BodyAlarms): void {
  if (writer.backlog <= JOURNAL_BACKLOG) return;
  source.setReading(false);
  if (waiting.has(source)) return;
  waiting.add(source);
  writer.whenWritten(() => {
    if (!alarms.blocked) return resume(source);
    // The journal caught up during an alarm: reading stays off until it clears. The publish
    // gate holds only whole publishes, so it has nothing to resume for a body half read.
    const stop = alarms.onChange(() => {
      if (alarms.blocked) return;
      stop();
      resume(source);
    });
  });
}

function resume(source: BodySource): void {
  waiting.delete(source);
  if (!source.holding) source.setReading(true);
}
