/**
 * A SEND whose content-length is above `large_message_threshold`: its body is not buffered by
 * the frame parser but written to the vhost's journal as it arrives (src/store/large-body.ts),
 * and the frame reaches the SEND handler with the body as `bodyRef`. The transport is not read
 * while the journal is behind (src/frontend/journal-backpressure.ts).
 * A body above max_message_size is left to the parser, which refuses it as too large.
 */
import type { LargeBodyWriter } from '../../src/core/index.js';
import { keepUpWithJournal } from '../../src/frontend/index.js';
import type { StompConnection } from './connection.js';
import type { StompFrame, StreamedBody } from './frame.js';

export function streamedSend(c: StompConnection, frame: StompFrame, length: number): StreamedBody | null {
  const core = c.core;
  if (frame.command !== 'SEND' || !c.isOpen || c.coreConnection === null) return null;
  if (length <= core.largeMessageThreshold || length > core.maxMessageSize) return null;
  const writer = core.beginLargeBody(c.coreConnection.info.vhost, length);
  return writer === null ? null : new JournalBody(c, frame, writer);
}

class JournalBody implements StreamedBody {
  readonly #c: StompConnection;
  readonly #frame: StompFrame;
  readonly #writer: LargeBodyWriter;

  constructor(c: StompConnection, frame: StompFrame, writer: LargeBodyWriter) {
    this.#c = c;
    this.#frame = frame;
    this.#writer = writer;
  }

  write(bytes: Buffer): void {
    const w = this.#writer;
    w.append(bytes); // copied into the part being filled
    if (w.received === w.size) this.#frame.bodyRef = w.finish();
    else keepUpWithJournal(this.#c, w, this.#c.core.alarms);
  }

  abort(): void {
    this.#writer.abort();
  }
}
