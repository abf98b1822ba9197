/**
 * Socket reads into memory the broker owns, instead of a fresh buffer per read.
 *
 * A Node stream socket allocates a new 64 KiB ArrayBuffer for every read. With large messages
 * that is hundreds of MiB a second of short-lived external memory, and V8 answers external
 * memory with full mark-compact collections (measured with AMQP 1 MiB bodies: one every
 * 40–100 ms, the biggest single cost of the broker). Node offers reads into a buffer of the
 * caller's (`onread`: a buffer, or a function choosing the buffer of the next read) only for
 * sockets the process opens itself; an accepted socket gets the same here, through the slots
 * `net.Socket` fills from that option (`kBuffer`, `kBufferCb`, `kBufferGen`) and its handle's
 * `useUserBuffer`. Where those are missing (another Node), the stream is not a plain TCP socket
 * (TLS, a WebSocket stream, an in-memory pair), or bytes are already buffered, nothing changes:
 * the stream's 'data' events as before.
 *
 * A read lands either where the reader asks (`readInto`: the unfilled part of a message body,
 * so those bytes are never copied in user space) or in one scratch buffer shared by every
 * connection of the process. A chunk in the scratch buffer is valid only during `ownedRead`
 * (libuv runs the read callback to completion before it reads any other socket): what must
 * outlive the call is copied (`isSharedReadBuffer` tells).
 *
 * Only data goes this way: the end of the stream and errors still come as the stream's events.
 */
import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';

export interface OwnedReader {
  /** where the next read may go (filled from its start), or null for the shared scratch buffer */
  readInto(): Buffer | null;
  /** `n` bytes were read into the start of `buf`: a buffer `readInto` gave, or the scratch buffer (valid during the call only) */
  ownedRead(buf: Buffer, n: number): void;
}

/** the size of a read when the reader asks for nothing in particular: Node's own read size */
export const SHARED_READ_BYTES = 64 * 1024;
const scratch = Buffer.allocUnsafeSlow(SHARED_READ_BYTES);

/**
 * The first bytes of the shared read buffer, for a read meant to stop early: after a large body
 * read in place, the next read takes its frame end, the next message's method and header and
 * only the start of its body, whose rest is then read in place (../../plugins/amqp), instead of
 * up to 64 KiB of that body that would be copied out of the shared buffer.
 */
export const SHORT_READ_BYTES = 4 * 1024;
const shortRoom = scratch.subarray(0, SHORT_READ_BYTES);

/** where a short read goes: part of the shared read buffer (`isSharedReadBuffer` is true of it) */
export function sharedShortRead(): Buffer {
  return shortRoom;
}

/** true when `b` lies in the shared read buffer: its bytes are overwritten by the next read of any socket */
export function isSharedReadBuffer(b: Uint8Array): boolean {
  return b.buffer === scratch.buffer;
}

const READER = Symbol('owned reader');

interface NodeSlots {
  buffer: symbol;
  callback: symbol;
  next: symbol;
}

/** net.Socket's own slots for `onread` (found once, by their names); null when this Node has none */
let slots: NodeSlots | null | undefined;

function nodeSlots(socket: Socket): NodeSlots | null {
  if (slots !== undefined) return slots;
  const symbols = Object.getOwnPropertySymbols(socket);
  const find = (name: string): symbol | undefined => symbols.find((s) => s.description === name);
  const buffer = find('kBuffer');
  const callback = find('kBufferCb');
  const next = find('kBufferGen');
  slots = buffer !== undefined && callback !== undefined && next !== undefined ? { buffer, callback, next } : null;
  return slots;
}

type Slotted = Socket & Record<symbol, unknown> & { _handle?: { useUserBuffer?(b: Uint8Array): void } | null };

/**
 * Read `stream` into owned buffers from now on, when it is a plain TCP socket with nothing
 * buffered. @returns false when the stream keeps its 'data' events.
 */
export function readIntoOwnedBuffers(stream: Duplex, reader: OwnedReader): boolean {
  if (!(stream instanceof Socket) || stream instanceof TLSSocket || stream.readableLength > 0 || stream.destroyed) return false;
  const socket = stream as Slotted;
  const handle = socket._handle;
  if (handle == null || typeof handle.useUserBuffer !== 'function') return false;
  const s = nodeSlots(socket);
  if (s === null || socket[s.buffer] != null) return false;
  const first = reader.readInto() ?? scratch;
  socket[READER] = reader;
  socket[s.buffer] = first;
  socket[s.callback] = onOwnedRead;
  socket[s.next] = (): Buffer => reader.readInto() ?? scratch; // Node calls it as a plain function
  handle.useUserBuffer(first);
  return true;
}

// Node calls it as a method of the socket
function onOwnedRead(this: Slotted, n: number, buf: Buffer): void {
  (this[READER] as OwnedReader).ownedRead(buf, n);
}
