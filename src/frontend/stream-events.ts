/**
 * A connection hears its stream through methods, not closures: `listenTo` registers four
 * module-level functions on the stream and keeps the connection on the stream itself, so an
 * idle connection costs no function objects for its events (ws keeps its WebSocket on the
 * socket the same way). A chunk costs one property read more than a closure would.
 */
import type { Duplex } from 'node:stream';

export interface StreamListener {
  /** a chunk read from the client */
  streamData(chunk: Buffer): void;
  /** the stream failed (a reset, a write after the peer left); 'close' follows */
  streamError(error: Error): void;
  /** the stream is gone, both ways */
  streamClosed(): void;
  /**
   * the client ended its side; without this method 'close' alone tells. Heard only on a stream
   * that stays half open (a WebSocket stream): one that does not (`allowHalfOpen` false: the TCP
   * and TLS sockets of the listeners, `ListenerSet.accept`'s streams) ends its own side and
   * closes right after, and a second 'end' listener would cost each idle connection ~130 bytes
   * (Node listens to 'end' itself, so the event's listeners become an array).
   */
  streamEnded?(): void;
  /** what was buffered for the client has been written: deliveries may go on */
  streamDrained?(): void;
}

const LISTENER = Symbol('stream listener');

interface Listened {
  [LISTENER]: StreamListener;
}

export function listenTo(stream: Duplex, listener: StreamListener): void {
  (stream as unknown as Listened)[LISTENER] = listener;
  stream.on('data', onData);
  stream.on('error', onError);
  stream.on('close', onClose);
  if (listener.streamEnded !== undefined && stream.allowHalfOpen !== false) stream.on('end', onEnd);
  if (listener.streamDrained !== undefined) stream.on('drain', onDrain);
}

function onData(this: Listened, chunk: Buffer): void {
  this[LISTENER].streamData(chunk);
}

function onError(this: Listened, error: Error): void {
  this[LISTENER].streamError(error);
}

function onClose(this: Listened): void {
  this[LISTENER].streamClosed();
}

function onEnd(this: Listened): void {
  this[LISTENER].streamEnded!();
}

function onDrain(this: Listened): void {
  this[LISTENER].streamDrained!();
}

/**
 * End a stream the polite way: what is queued is written first (`end`), then the stream is
 * destroyed once written, or after `graceMs` whatever the peer does (a client that never
 * reads must not keep it). No closure: the timer carries the stream.
 */
export function endStream(stream: Duplex, graceMs: number): void {
  stream.once('finish', destroyThis);
  stream.end();
  setTimeout(destroyStream, graceMs, stream).unref();
}

function destroyThis(this: Duplex): void {
  this.destroy();
}

/** A timer's callback that cuts the stream it was given (`setTimeout(destroyStream, ms, stream)`). */
export function destroyStream(stream: Duplex): void {
  stream.destroy();
}
