/**
 * Method frame payloads (AMQP 0-9-1 §4.2.4): class-id uint16 | method-id uint16 | fields.
 *
 * One generic decoder and encoder walk the field lists of `method-table.ts`; the methods a
 * busy publisher or consumer sends many times a second (basic.publish, basic.ack, basic.nack,
 * basic.reject) have hand-written decoders, and the confirms the broker sends back
 * (basic.ack/basic.nack) a hand-written encoder. basic.deliver is encoded with its content
 * in `content.ts`.
 *
 * Decoding is strict, as RabbitMQ's generated decoder is: a payload shorter or longer than
 * its fields is a 501 FRAME_ERROR "cannot decode"; an id the table lacks is 540 NOT_IMPLEMENTED.
 */
import { BrokerError } from '../../../src/core/index.js';
import { WireReader, frameError, fieldTableSize, shortstrLength, writeFieldTable, writeLongstr, writeShortstr, writeU64, type FieldTable } from '../../../src/codec/index.js';
import { FRAME_END, FRAME_HEADER_SIZE, FRAME_METHOD, FRAME_OVERHEAD } from './constants.js';
import { M, METHOD_SPECS, methodName, type AmqpMethod, type MethodSpec } from './method-table.js';

export { M, methodName, type AmqpMethod, type MethodOf, type MethodName } from './method-table.js';

/** The method id (class << 16 | method) of a method-frame payload, or -1 when too short. */
export function methodIdOf(payload: Buffer): number {
  return payload.length >= 4 ? payload.readUInt32BE(0) : -1;
}

/** Decode a method-frame payload. Throws BrokerError (501 malformed, 540 unknown method). */
export function decodeMethod(payload: Buffer): AmqpMethod {
  if (payload.length < 4) throw frameError(`method frame of ${payload.length} octet(s): no class and method id`);
  const id = payload.readUInt32BE(0);
  try {
    switch (id) {
      case M.basicPublish: return decodePublish(payload);
      case M.basicAck: return decodeAck(payload);
      case M.basicNack: return decodeNack(payload);
      case M.basicReject: return decodeReject(payload);
    }
    const spec = METHOD_SPECS.get(id);
    if (!spec) throw new BrokerError('NOT_IMPLEMENTED', `NOT_IMPLEMENTED - unknown method ${methodName(id)}`);
    return decodeGeneric(spec, payload);
  } catch (e) {
    throw nameMethod(e, id);
  }
}

/** Put the method's name into a decoding error ("cannot decode queue.declare: …"). */
function nameMethod(e: unknown, id: number): unknown {
  if (!(e instanceof BrokerError) || e.kind !== 'FRAME_ERROR') return e;
  const name = methodName(id);
  const detail = e.message.replace(/^FRAME_ERROR - cannot decode /, '');
  return detail.startsWith(name) ? e : frameError(`${name}: ${detail}`);
}

function decodeGeneric(spec: MethodSpec, payload: Buffer): AmqpMethod {
  const r = new WireReader(payload, 4);
  const m: Record<string, unknown> = { id: spec.id };
  let bits = 0;
  let bit = 8; // next bit to read in `bits`; 8 = a new octet is needed
  for (const f of spec.fields) {
    if (f.type === 'bit') {
      if (bit === 8) {
        bits = r.u8();
        bit = 0;
      }
      m[f.name] = ((bits >>> bit++) & 1) === 1;
      continue;
    }
    bit = 8;
    switch (f.type) {
      case 'octet': m[f.name] = r.u8(); break;
      case 'short': m[f.name] = r.u16(); break;
      case 'long': m[f.name] = r.u32(); break;
      case 'longlong': m[f.name] = r.u64(); break;
      case 'shortstr': m[f.name] = r.shortstr(); break;
      case 'longstr': m[f.name] = r.longstr(); break;
      case 'table': m[f.name] = r.table(); break;
    }
  }
  end(r, spec.name);
  return m as unknown as AmqpMethod;
}

function end(r: WireReader, name: string): void {
  if (r.pos !== r.end) throw frameError(`${name}: ${r.end - r.pos} octet(s) after the last field`);
}


// ---- hand-written decoders for the hot methods ---------------------------------------------

function decodePublish(payload: Buffer): AmqpMethod {
  const r = new WireReader(payload, 4);
  const ticket = r.u16();
  const exchange = r.shortstr();
  const routingKey = r.shortstr();
  const bits = r.u8();
  end(r, 'basic.publish');
  return { id: M.basicPublish, ticket, exchange, routingKey, mandatory: (bits & 1) !== 0, immediate: (bits & 2) !== 0 };
}

function decodeAck(payload: Buffer): AmqpMethod {
  if (payload.length !== 13) throw frameError(`basic.ack: ${payload.length - 4} octet(s) of fields, expected 9`);
  const deliveryTag = readTag(payload);
  return { id: M.basicAck, deliveryTag, multiple: (payload[12] & 1) !== 0 };
}

function decodeNack(payload: Buffer): AmqpMethod {
  if (payload.length !== 13) throw frameError(`basic.nack: ${payload.length - 4} octet(s) of fields, expected 9`);
  const deliveryTag = readTag(payload);
  return { id: M.basicNack, deliveryTag, multiple: (payload[12] & 1) !== 0, requeue: (payload[12] & 2) !== 0 };
}

function decodeReject(payload: Buffer): AmqpMethod {
  if (payload.length !== 13) throw frameError(`basic.reject: ${payload.length - 4} octet(s) of fields, expected 9`);
  return { id: M.basicReject, deliveryTag: readTag(payload), requeue: (payload[12] & 1) !== 0 };
}

function readTag(payload: Buffer): number {
  return payload.readUInt32BE(4) * 0x1_0000_0000 + payload.readUInt32BE(8);
}

// ---- encoding --------------------------------------------------------------------------------

/** A whole method frame (header, payload, frame-end) for `method` on `channel`. */
export function encodeMethodFrame(channel: number, method: AmqpMethod): Buffer {
  const spec = METHOD_SPECS.get(method.id);
  if (!spec) throw new TypeError(`unknown method id 0x${(method.id as number).toString(16)}`);
  const fields = method as unknown as Record<string, unknown>;
  const size = 4 + fieldsSize(spec, fields);
  const buf = Buffer.allocUnsafe(FRAME_OVERHEAD + size);
  buf[0] = FRAME_METHOD;
  buf.writeUInt16BE(channel, 1);
  buf.writeUInt32BE(size, 3);
  buf.writeUInt32BE(spec.id, FRAME_HEADER_SIZE);
  const at = writeFields(buf, FRAME_HEADER_SIZE + 4, spec, fields);
  buf[at] = FRAME_END;
  return buf;
}

/** A method's payload alone (class, method id, fields): for tests and tools. */
export function encodeMethodPayload(method: AmqpMethod): Buffer {
  const frame = encodeMethodFrame(0, method);
  return frame.subarray(FRAME_HEADER_SIZE, frame.length - 1);
}

function fieldsSize(spec: MethodSpec, m: Record<string, unknown>): number {
  let size = 0;
  let bitsOpen = false;
  for (const f of spec.fields) {
    if (f.type === 'bit') {
      if (!bitsOpen) size++;
      bitsOpen = true;
      continue;
    }
    bitsOpen = false;
    const v = m[f.name];
    switch (f.type) {
      case 'octet': size += 1; break;
      case 'short': size += 2; break;
      case 'long': size += 4; break;
      case 'longlong': size += 8; break;
      case 'shortstr': size += 1 + (v === undefined ? 0 : shortstrLength(v as string)); break;
      case 'longstr': size += 4 + (v === undefined ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : (v as Buffer).length); break;
      case 'table': size += v === undefined ? 4 : fieldTableSize(v as FieldTable); break;
    }
  }
  return size;
}

function writeFields(buf: Buffer, o: number, spec: MethodSpec, m: Record<string, unknown>): number {
  let bitsAt = -1; // offset of the octet collecting consecutive bits
  let bit = 0;
  for (const f of spec.fields) {
    const v = m[f.name];
    if (f.type === 'bit') {
      if (bitsAt < 0 || bit === 8) {
        bitsAt = o++;
        buf[bitsAt] = 0;
        bit = 0;
      }
      if (v === true) buf[bitsAt] |= 1 << bit;
      bit++;
      continue;
    }
    bitsAt = -1;
    switch (f.type) {
      case 'octet': buf[o++] = (v as number) ?? 0; break;
      case 'short': buf.writeUInt16BE((v as number) ?? 0, o); o += 2; break;
      case 'long': buf.writeUInt32BE((v as number) ?? 0, o); o += 4; break;
      case 'longlong': o = writeU64(buf, o, (v as number) ?? 0); break;
      case 'shortstr': o = writeShortstr(buf, o, (v as string) ?? ''); break;
      case 'longstr': o = writeLongstr(buf, o, (v as Buffer | string) ?? ''); break;
      case 'table': o = writeFieldTable(buf, o, (v as FieldTable) ?? {}); break;
    }
  }
  return o;
}

// ---- hand-written encoders for publisher confirms --------------------------------------------

/** basic.ack (`ack`) or basic.nack (requeue=false) from the broker to a confirm-mode publisher. */
export function encodeConfirmFrame(channel: number, deliveryTag: number, multiple: boolean, ack: boolean): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_OVERHEAD + 13);
  writeConfirmFrame(buf, 0, channel, deliveryTag, multiple, ack);
  return buf;
}

/** Size of one confirm frame, for callers packing several into one buffer. */
export const CONFIRM_FRAME_SIZE = FRAME_OVERHEAD + 13;

export function writeConfirmFrame(buf: Buffer, o: number, channel: number, deliveryTag: number, multiple: boolean, ack: boolean): number {
  buf[o] = FRAME_METHOD;
  buf.writeUInt16BE(channel, o + 1);
  buf.writeUInt32BE(13, o + 3);
  buf.writeUInt32BE(ack ? M.basicAck : M.basicNack, o + 7);
  writeU64(buf, o + 11, deliveryTag);
  buf[o + 19] = multiple ? 1 : 0; // nack: requeue bit (2) stays clear, the broker never asks to requeue
  buf[o + 20] = FRAME_END;
  return o + CONFIRM_FRAME_SIZE;
}
