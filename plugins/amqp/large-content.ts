/**
 * A publish whose body is above `large_message_threshold` (message.ts streams it into the
 * journal as its frames arrive): the socket is read no faster than the journal writes, so the
 * bytes between them stay bounded whatever the body's size.
 */
import type { LargeBodyWriter } from '../../src/core/index.js';
import type { AmqpConnection } from './connection.js';

/** Unwritten journal bytes past which a large body's publisher is not read until the journal caught up. */
export const JOURNAL_BACKLOG = 8 * 1024 * 1024;

const waiting = new WeakSet<AmqpConnection>();

/** Stop reading `conn` until everything appended to the journal so far is written. */
export function waitForJournal(conn: AmqpConnection, writer: LargeBodyWriter): void {
  conn.setReading(false);
  if (waiting.has(conn)) return;
  waiting.add(conn);
  writer.whenWritten(() => {
    waiting.delete(conn);
    // a resource alarm holding publishes keeps the socket paused: the gate resumes it
    if (!conn.gate.holding && !conn.core.alarms.blocked && conn.state === 'running') conn.setReading(true);
  });
}
