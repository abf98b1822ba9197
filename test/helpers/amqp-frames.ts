/**
 * A small AMQP 0-9-1 frame builder and reader for frame-level tests.
 *
 * Written for the tests on purpose: it must not share code with the broker's codec, so
 * that a bug there cannot hide itself by being mirrored here. It knows only what the
 * raw-socket tests need: the primitive field types, field tables, the three frame kinds
 * plus heartbeat, and the few methods the handshake and error paths use.
 * Layout and type tags follow the AMQP 0-9-1 specification §4.2 (general frame format)
 * and §4.2.5 (field types), with RabbitMQ's table tags as listed in its errata.
 */

export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;

/** The protocol header a 0-9-1 client sends first (AMQP 0-9-1 §4.2.2). */
export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

/** Method ids as [class-id, method-id] pairs (AMQP 0-9-1 §1 "Classes and methods"). */
export const Method = {
  connectionStart: [10, 10],
  connectionStartOk: [10, 11],
  connectionTune: [10, 30],
  connectionTuneOk: [10, 31],
  connectionOpen: [10, 40],
  connectionOpenOk: [10, 41],
  connectionClose: [10, 50],
  connectionCloseOk: [10, 51],
  channelOpen: [20, 10],
  channelOpenOk: [20, 11],
  channelFlow: [20, 20],
  channelFlowOk: [20, 21],
  channelClose: [20, 40],
  channelCloseOk: [20, 41],
  queueDeclare: [50, 10],
  queueDeclareOk: [50, 11],
  basicPublish: [60, 40],
  basicGet: [60, 70],
  basicGetOk: [60, 71],
  basicGetEmpty: [60, 72],
} as const satisfies Record<string, readonly [number, number]>;

export type MethodId = readonly [number, number];

/** A field-table value whose AMQP type tag is given explicitly. */
export interface TypedValue {
  tag: string;
  value: unknown;
}

export type FieldValue = string | number | boolean | bigint | Buffer | null | FieldValue[] | FieldTable | TypedValue;
export interface FieldTable {
  [key: string]: FieldValue;
}

/** Appends AMQP primitive types to a growing list of chunks (AMQP 0-9-1 §4.2.5). */
export class ArgWriter {
  readonly #chunks: Buffer[] = [];
  #bitBuffer: number[] | null = null;

  octet(n: number): this {
    this.#flushBits();
    this.#chunks.push(Buffer.from([n & 0xff]));
    return this;
  }

  short(n: number): this {
    this.#flushBits();
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    this.#chunks.push(b);
    return this;
  }

  long(n: number): this {
    this.#flushBits();
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    this.#chunks.push(b);
    return this;
  }

  longlong(n: bigint | number): this {
    this.#flushBits();
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    this.#chunks.push(b);
    return this;
  }

  shortstr(s: string): this {
    this.#flushBits();
    const body = Buffer.from(s, 'utf8');
    if (body.length > 255) throw new RangeError('shortstr longer than 255 bytes');
    this.#chunks.push(Buffer.from([body.length]), body);
    return this;
  }

  longstr(s: string | Buffer): this {
    this.#flushBits();
    const body = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
    this.long(body.length);
    this.#chunks.push(body);
    return this;
  }

  /** Consecutive bits are packed into octets, low bit first (AMQP 0-9-1 §4.2.5.2). */
  bit(value: boolean): this {
    if (this.#bitBuffer === null || this.#bitBuffer.length === 8) {
      this.#flushBits();
      this.#bitBuffer = [];
    }
    this.#bitBuffer.push(value ? 1 : 0);
    return this;
  }

  table(t: FieldTable): this {
    this.#flushBits();
    this.longstr(encodeTableBody(t));
    return this;
  }

  raw(bytes: Buffer): this {
    this.#flushBits();
    this.#chunks.push(bytes);
    return this;
  }

  toBuffer(): Buffer {
    this.#flushBits();
    return Buffer.concat(this.#chunks);
  }

  #flushBits(): void {
    if (this.#bitBuffer === null) return;
    let byte = 0;
    this.#bitBuffer.forEach((bit, i) => (byte |= bit << i));
    this.#chunks.push(Buffer.from([byte]));
    this.#bitBuffer = null;
  }
}

function encodeTableBody(t: FieldTable): Buffer {
  const w = new ArgWriter();
  for (const [key, value] of Object.entries(t)) {
    w.shortstr(key);
    writeFieldValue(w, value);
  }
  return w.toBuffer();
}

function writeFieldValue(w: ArgWriter, v: FieldValue): void {
  if (v === null) {
    w.raw(Buffer.from('V'));
  } else if (typeof v === 'string') {
    w.raw(Buffer.from('S')).longstr(v);
  } else if (typeof v === 'boolean') {
    w.raw(Buffer.from('t')).octet(v ? 1 : 0);
  } else if (typeof v === 'bigint') {
    const b = Buffer.alloc(9);
    b.write('l');
    b.writeBigInt64BE(v, 1);
    w.raw(b);
  } else if (typeof v === 'number') {
    const b = Buffer.alloc(Number.isInteger(v) ? 5 : 9);
    if (Number.isInteger(v)) {
      b.write('I');
      b.writeInt32BE(v, 1);
    } else {
      b.write('d');
      b.writeDoubleBE(v, 1);
    }
    w.raw(b);
  } else if (Buffer.isBuffer(v)) {
    w.raw(Buffer.from('x')).longstr(v);
  } else if (Array.isArray(v)) {
    const inner = new ArgWriter();
    for (const item of v) writeFieldValue(inner, item);
    w.raw(Buffer.from('A')).longstr(inner.toBuffer());
  } else if (isTypedValue(v)) {
    writeTypedValue(w, v);
  } else {
    w.raw(Buffer.from('F')).table(v);
  }
}

function isTypedValue(v: object): v is TypedValue {
  return 'tag' in v && 'value' in v && Object.keys(v).length === 2;
}

function writeTypedValue(w: ArgWriter, { tag, value }: TypedValue): void {
  const b = Buffer.alloc(9);
  b.write(tag);
  const n = value as number;
  switch (tag) {
    case 'b': b.writeInt8(n, 1); return void w.raw(b.subarray(0, 2));
    case 'B': b.writeUInt8(n, 1); return void w.raw(b.subarray(0, 2));
    case 's': b.writeInt16BE(n, 1); return void w.raw(b.subarray(0, 3));
    case 'u': b.writeUInt16BE(n, 1); return void w.raw(b.subarray(0, 3));
    case 'I': b.writeInt32BE(n, 1); return void w.raw(b.subarray(0, 5));
    case 'i': b.writeUInt32BE(n, 1); return void w.raw(b.subarray(0, 5));
    case 'f': b.writeFloatBE(n, 1); return void w.raw(b.subarray(0, 5));
    case 'l': b.writeBigInt64BE(BigInt(n), 1); return void w.raw(b);
    case 'T': b.writeBigUInt64BE(BigInt(n), 1); return void w.raw(b);
    case 'd': b.writeDoubleBE(n, 1); return void w.raw(b);
    default: throw new Error(`unsupported typed field tag ${tag}`);
  }
}

/** One whole frame: type, channel, size, payload, frame-end (AMQP 0-9-1 §4.2.3). */
export function frame(type: number, channel: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(channel, 1);
  head.writeUInt32BE(payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([FRAME_END])]);
}

export function methodFrame(channel: number, [classId, methodId]: MethodId, args?: ArgWriter | Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(classId, 0);
  head.writeUInt16BE(methodId, 2);
  const body = args === undefined ? Buffer.alloc(0) : Buffer.isBuffer(args) ? args : args.toBuffer();
  return frame(FRAME_METHOD, channel, Buffer.concat([head, body]));
}

/** The 14 basic-class properties in wire order, flag bit 15 first (AMQP 0-9-1 §4.2.6.1, basic class). */
export interface BasicProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: FieldTable;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

const PROPERTY_WRITERS: Array<[keyof BasicProperties, (w: ArgWriter, v: never) => void]> = [
  ['contentType', (w, v: string) => w.shortstr(v)],
  ['contentEncoding', (w, v: string) => w.shortstr(v)],
  ['headers', (w, v: FieldTable) => w.table(v)],
  ['deliveryMode', (w, v: number) => w.octet(v)],
  ['priority', (w, v: number) => w.octet(v)],
  ['correlationId', (w, v: string) => w.shortstr(v)],
  ['replyTo', (w, v: string) => w.shortstr(v)],
  ['expiration', (w, v: string) => w.shortstr(v)],
  ['messageId', (w, v: string) => w.shortstr(v)],
  ['timestamp', (w, v: number) => w.longlong(v)],
  ['type', (w, v: string) => w.shortstr(v)],
  ['userId', (w, v: string) => w.shortstr(v)],
  ['appId', (w, v: string) => w.shortstr(v)],
  ['clusterId', (w, v: string) => w.shortstr(v)],
];

/** Content header frame for class basic (60), weight 0 (AMQP 0-9-1 §4.2.6.1). */
export function headerFrame(channel: number, bodySize: number, props: BasicProperties = {}): Buffer {
  let flags = 0;
  const list = new ArgWriter();
  PROPERTY_WRITERS.forEach(([name, write], i) => {
    const value = props[name];
    if (value === undefined) return;
    flags |= 1 << (15 - i);
    write(list, value as never);
  });
  const payload = new ArgWriter().short(60).short(0).longlong(bodySize).short(flags).raw(list.toBuffer());
  return frame(FRAME_HEADER, channel, payload.toBuffer());
}

export function bodyFrame(channel: number, body: Buffer): Buffer {
  return frame(FRAME_BODY, channel, body);
}

export const HEARTBEAT_FRAME = frame(FRAME_HEARTBEAT, 0, Buffer.alloc(0));

/** A basic.publish followed by its header and a single body frame (empty body: no body frame). */
export function publishFrames(
  channel: number,
  exchange: string,
  routingKey: string,
  body: Buffer,
  props: BasicProperties = {},
): Buffer {
  const publish = methodFrame(
    channel,
    Method.basicPublish,
    new ArgWriter().short(0).shortstr(exchange).shortstr(routingKey).bit(false).bit(false),
  );
  const parts = [publish, headerFrame(channel, body.length, props)];
  if (body.length > 0) parts.push(bodyFrame(channel, body));
  return Buffer.concat(parts);
}

// ---- reading ----

export interface Frame {
  type: number;
  channel: number;
  payload: Buffer;
}

/** Splits a byte stream into frames; `push` returns the complete frames seen so far. */
export class FrameReader {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: Frame[] = [];
    while (this.#pending.length >= 8) {
      const size = this.#pending.readUInt32BE(3);
      if (this.#pending.length < size + 8) break;
      if (this.#pending[size + 7] !== FRAME_END) throw new Error('frame-end octet missing in server output');
      frames.push({
        type: this.#pending[0]!,
        channel: this.#pending.readUInt16BE(1),
        payload: this.#pending.subarray(7, 7 + size),
      });
      this.#pending = this.#pending.subarray(size + 8);
    }
    return frames;
  }
}

export function methodOf(f: Frame): MethodId | null {
  if (f.type !== FRAME_METHOD) return null;
  return [f.payload.readUInt16BE(0), f.payload.readUInt16BE(2)];
}

export function isMethod(f: Frame, [classId, methodId]: MethodId): boolean {
  const m = methodOf(f);
  return m !== null && m[0] === classId && m[1] === methodId;
}

/** Reads method arguments in order, mirroring ArgWriter. */
export class ArgReader {
  readonly buf: Buffer;
  #offset: number;
  /** `offset` 4 skips the class and method ids of a method frame's payload. */
  constructor(buf: Buffer, offset = 4) {
    this.buf = buf;
    this.#offset = offset;
  }
  octet(): number {
    return this.buf.readUInt8(this.#offset++);
  }
  short(): number {
    const v = this.buf.readUInt16BE(this.#offset);
    this.#offset += 2;
    return v;
  }
  long(): number {
    const v = this.buf.readUInt32BE(this.#offset);
    this.#offset += 4;
    return v;
  }
  longlong(): bigint {
    const v = this.buf.readBigUInt64BE(this.#offset);
    this.#offset += 8;
    return v;
  }
  shortstr(): string {
    const len = this.octet();
    const s = this.buf.toString('utf8', this.#offset, this.#offset + len);
    this.#offset += len;
    return s;
  }
  longstr(): Buffer {
    const len = this.long();
    const s = this.buf.subarray(this.#offset, this.#offset + len);
    this.#offset += len;
    return s;
  }
}

export interface CloseFields {
  replyCode: number;
  replyText: string;
  classId: number;
  methodId: number;
}

/** Fields of connection.close or channel.close (identical layouts). */
export function readClose(f: Frame): CloseFields {
  const r = new ArgReader(f.payload);
  return { replyCode: r.short(), replyText: r.shortstr(), classId: r.short(), methodId: r.short() };
}

export interface TuneFields {
  channelMax: number;
  frameMax: number;
  heartbeat: number;
}

export function readTune(f: Frame): TuneFields {
  const r = new ArgReader(f.payload);
  return { channelMax: r.short(), frameMax: r.long(), heartbeat: r.short() };
}
