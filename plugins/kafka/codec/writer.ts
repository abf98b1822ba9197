/**
 * Writing Kafka's primitive types into a growing buffer: one allocation per response in the
 * common case (the buffer doubles when it must), and `bytes()` of a large payload (fetched
 * record batches) may be kept as a separate chunk so it is not copied (`toChunks`).
 */
export class Writer {
  #buf: Buffer;
  #pos = 0;
  /** finished chunks before #buf (large payloads appended without a copy) */
  readonly #chunks: Buffer[] = [];
  #chunkBytes = 0;

  /** whether `raw()` keeps large payloads as separate chunks (false: one contiguous buffer) */
  readonly #splitLarge: boolean;

  constructor(size = 256, splitLarge = true) {
    this.#buf = Buffer.allocUnsafe(size);
    this.#splitLarge = splitLarge;
  }

  /** Leave `n` bytes to be written in place later (a header before the data it covers). */
  skip(n: number): this {
    this.#room(n);
    return this;
  }

  get length(): number {
    return this.#chunkBytes + this.#pos;
  }

  #room(n: number): number {
    if (this.#pos + n > this.#buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n));
      this.#buf.copy(next, 0, 0, this.#pos);
      this.#buf = next;
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  int8(v: number): this {
    {
      const at = this.#room(1);
      this.#buf.writeInt8(v, at);
    }
    return this;
  }
  int16(v: number): this {
    {
      const at = this.#room(2);
      this.#buf.writeInt16BE(v, at);
    }
    return this;
  }
  int32(v: number): this {
    {
      const at = this.#room(4);
      this.#buf.writeInt32BE(v | 0, at);
    }
    return this;
  }
  uint32(v: number): this {
    {
      const at = this.#room(4);
      this.#buf.writeUInt32BE(v >>> 0, at);
    }
    return this;
  }
  int64(v: number | bigint): this {
    {
      const at = this.#room(8);
      this.#buf.writeBigInt64BE(BigInt(v), at);
    }
    return this;
  }
  bool(v: boolean): this {
    {
      const at = this.#room(1);
      this.#buf[at] = v ? 1 : 0;
    }
    return this;
  }
  uvarint(v: number): this {
    // #room may replace #buf: take the position first
    while (v >= 0x80) {
      const at = this.#room(1);
      this.#buf[at] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    const at = this.#room(1);
    this.#buf[at] = v;
    return this;
  }
  varint(v: number): this {
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  /** zig-zag varlong from a number (no BigInt: exact up to 2^53, as every int64 here) */
  varlong(v: number): this {
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  string(s: string): this {
    const n = Buffer.byteLength(s);
    this.int16(n);
    const at = this.#room(n);
    this.#buf.write(s, at, 'utf8');
    return this;
  }
  nullableString(s: string | null): this {
    return s === null ? this.int16(-1) : this.string(s);
  }
  /** A string's UTF-8 bytes, no length (the caller wrote it). */
  utf8(s: string): this {
    const n = Buffer.byteLength(s, 'utf8');
    const at = this.#room(n);
    this.#buf.write(s, at, 'utf8');
    return this;
  }
  compactString(s: string): this {
    const n = Buffer.byteLength(s);
    this.uvarint(n + 1);
    const at = this.#room(n);
    this.#buf.write(s, at, 'utf8');
    return this;
  }
  compactNullableString(s: string | null): this {
    return s === null ? this.uvarint(0) : this.compactString(s);
  }
  bytes(b: Uint8Array): this {
    this.int32(b.length);
    return this.raw(b);
  }
  nullableBytes(b: Uint8Array | null): this {
    return b === null ? this.int32(-1) : this.bytes(b);
  }
  compactBytes(b: Uint8Array): this {
    this.uvarint(b.length + 1);
    return this.raw(b);
  }
  raw(b: Uint8Array): this {
    if (b.length >= 16 * 1024 && this.#splitLarge) {
      // large payloads become their own chunk: no copy into the response buffer
      this.#chunks.push(this.#buf.subarray(0, this.#pos), Buffer.from(b.buffer, b.byteOffset, b.length));
      this.#chunkBytes += this.#pos + b.length;
      this.#buf = Buffer.allocUnsafe(Math.max(256, this.#buf.length - this.#pos));
      this.#pos = 0;
      return this;
    }
    const at = this.#room(b.length);
    this.#buf.set(b, at);
    return this;
  }
  array<T>(items: readonly T[], item: (w: Writer, v: T) => void): this {
    this.int32(items.length);
    for (const v of items) item(this, v);
    return this;
  }
  compactArray<T>(items: readonly T[], item: (w: Writer, v: T) => void): this {
    this.uvarint(items.length + 1);
    for (const v of items) item(this, v);
    return this;
  }
  /** no tagged fields */
  emptyTaggedFields(): this {
    return this.uvarint(0);
  }

  /** Reserve 4 bytes for an int32 written later with `patchInt32` (frame and batch lengths). */
  reserveInt32(): number {
    if (this.#chunks.length > 0) throw new Error('reserve before any large chunk');
    return this.#room(4);
  }
  patchInt32(at: number, v: number): void {
    // a reserved place is in the first chunk once large payloads were split off
    (this.#chunks[0] ?? this.#buf).writeInt32BE(v, at);
  }

  /** The written bytes as one buffer (copies when large chunks were kept apart). */
  toBuffer(): Buffer {
    const tail = this.#buf.subarray(0, this.#pos);
    if (this.#chunks.length === 0) return tail;
    return Buffer.concat([...this.#chunks, tail]);
  }
  toChunks(): Buffer[] {
    const tail = this.#buf.subarray(0, this.#pos);
    return this.#chunks.length === 0 ? [tail] : [...this.#chunks, tail];
  }
  /** the current contiguous buffer, for in-place checksums (no large chunk may have been added) */
  get current(): Buffer {
    return this.#buf;
  }
}
