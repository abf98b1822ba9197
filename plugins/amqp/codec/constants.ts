/**
 * AMQP 0-9-1 framing constants (spec §2.3.5 "Frame Details", §4.2.3 "General Frame Format").
 *
 *   frame: type octet | channel uint16 | size uint32 | payload (size octets) | frame-end 0xCE
 */

export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;

/** type + channel + size */
export const FRAME_HEADER_SIZE = 7;
/** header + frame-end: what a frame adds around its payload */
export const FRAME_OVERHEAD = 8;
/** AMQP 0-9-1 §4.2.3: every peer accepts frames of at least this size, before and after tuning */
export const FRAME_MIN_SIZE = 4096;

export const CLASS_CONNECTION = 10;
export const CLASS_CHANNEL = 20;
export const CLASS_ACCESS = 30;
export const CLASS_EXCHANGE = 40;
export const CLASS_QUEUE = 50;
export const CLASS_BASIC = 60;
export const CLASS_CONFIRM = 85;
export const CLASS_TX = 90;

export const REPLY_SUCCESS = 200;

/** AMQP 0-9-1 §4.2.2: the protocol header a client opens with, and the one we answer a wrong header with. */
export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]); // "AMQP" 0 0 9 1

/** A heartbeat frame (always on channel 0, empty payload). */
export const HEARTBEAT_FRAME = Buffer.from([FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, FRAME_END]);

export type ProtocolHeaderCheck = 'ok' | 'incomplete' | 'bad';

/**
 * Check the first bytes a client sent. 'incomplete' while fewer than 8 bytes arrived and they
 * agree so far; 'bad' as soon as they cannot be the 0-9-1 header (then, per §4.2.2, answer
 * with PROTOCOL_HEADER and close).
 */
export function checkProtocolHeader(buf: Buffer): ProtocolHeaderCheck {
  const n = Math.min(buf.length, PROTOCOL_HEADER.length);
  for (let i = 0; i < n; i++) if (buf[i] !== PROTOCOL_HEADER[i]) return 'bad';
  return n === PROTOCOL_HEADER.length ? 'ok' : 'incomplete';
}
