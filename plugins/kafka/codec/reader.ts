/**
 * Reading Kafka's primitive types (kafka.apache.org/protocol "Protocol Primitive Types") from
 * one request body. Every read checks bounds and throws `KafkaDecodeError` past the end, so a
 * malformed frame is an error to answer, never a crash. Compact (flexible-version) forms are
 * the unsigned-varint-length variants with length + 1 (0 = null).
 */
export class KafkaDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkaDecodeError';
  }
}

export class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  #need(n: number): number {
    const at = this.pos;
    if (n < 0 || at + n > this.end) throw new KafkaDecodeError(`truncated: ${n} bytes wanted at ${at}, ${this.end - at} left`);
    this.pos = at + n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.#need(1));
  }
  int16(): number {
    return this.buf.readInt16BE(this.#need(2));
  }
  int32(): number {
    return this.buf.readInt32BE(this.#need(4));
  }
  uint32(): number {
    return this.buf.readUInt32BE(this.#need(4));
  }
  /** int64 as a number: offsets, timestamps and producer ids stay far below 2^53 */
  int64(): number {
    return Number(this.buf.readBigInt64BE(this.#need(8)));
  }
  bool(): boolean {
    return this.buf[this.#need(1)] !== 0;
  }

  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.#need(1)]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
      shift += 7;
      if (shift > 28) throw new KafkaDecodeError('varint too long');
    }
  }
  /** zig-zag signed varint (record fields) */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  /**
   * zig-zag signed varlong, as a number (timestamp deltas): plain arithmetic, no BigInt (one
   * per record on the produce path); exact up to 2^53, as every int64 read here
   */
  varlong(): number {
    let value = 0;
    let scale = 1;
    for (let shift = 0; ; shift += 7) {
      if (shift > 63) throw new KafkaDecodeError('varlong too long');
      const b = this.buf[this.#need(1)]!;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) break;
      scale *= 0x80;
    }
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  }

  #text(len: number): string {
    const at = this.#need(len);
    return this.buf.toString('utf8', at, at + len);
  }
  string(): string {
    const len = this.int16();
    if (len < 0) throw new KafkaDecodeError('null where a string is required');
    return this.#text(len);
  }
  nullableString(): string | null {
    const len = this.int16();
    return len < 0 ? null : this.#text(len);
  }
  compactString(): string {
    const len = this.uvarint() - 1;
    if (len < 0) throw new KafkaDecodeError('null where a string is required');
    return this.#text(len);
  }
  compactNullableString(): string | null {
    const len = this.uvarint() - 1;
    return len < 0 ? null : this.#text(len);
  }
  /** a view into the request buffer, not a copy */
  bytes(): Buffer {
    const len = this.int32();
    if (len < 0) throw new KafkaDecodeError('null where bytes are required');
    const at = this.#need(len);
    return this.buf.subarray(at, at + len);
  }
  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len < 0) return null;
    const at = this.#need(len);
    return this.buf.subarray(at, at + len);
  }
  compactBytes(): Buffer {
    const len = this.uvarint() - 1;
    if (len < 0) throw new KafkaDecodeError('null where bytes are required');
    const at = this.#need(len);
    return this.buf.subarray(at, at + len);
  }
  raw(n: number): Buffer {
    const at = this.#need(n);
    return this.buf.subarray(at, at + n);
  }

  /** An array (int32 count; -1 = null) whose elements `item` reads. */
  array<T>(item: (r: Reader) => T): T[] {
    const n = this.int32();
    if (n < 0) throw new KafkaDecodeError('null where an array is required');
    return this.#items(n, item);
  }
  nullableArray<T>(item: (r: Reader) => T): T[] | null {
    const n = this.int32();
    return n < 0 ? null : this.#items(n, item);
  }
  compactArray<T>(item: (r: Reader) => T): T[] {
    const n = this.uvarint() - 1;
    if (n < 0) throw new KafkaDecodeError('null where an array is required');
    return this.#items(n, item);
  }
  compactNullableArray<T>(item: (r: Reader) => T): T[] | null {
    const n = this.uvarint() - 1;
    return n < 0 ? null : this.#items(n, item);
  }
  #items<T>(n: number, item: (r: Reader) => T): T[] {
    // every element takes at least one byte: a count beyond the bytes left is a lie
    if (n > this.remaining) throw new KafkaDecodeError(`array of ${n} elements in ${this.remaining} bytes`);
    const out: T[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = item(this);
    return out;
  }

  /** Tagged fields (flexible versions): none of the ones we read is needed, so skipped. */
  skipTaggedFields(): void {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.#need(this.uvarint());
    }
  }
}
