/**
 * Large message bodies whose every byte is a function of a per-message seed, so that a test
 * can check a received body in full: not only its length or its first bytes. A body is
 *
 *   bytes 0-3  the seed (uint32 LE)      bytes 4-7  the body's length (uint32 LE)
 *   bytes 8-   xorshift32 words from the seed, the last word cut to fit
 *
 * `checkBody` regenerates the body from the seed it names and compares every byte; a body
 * overwritten by the body pool's poison (0xDB, src/core/body-pool.ts) or by another message's
 * bytes fails it, and says where and with what. `SeedLedger` checks that the seeds received are
 * exactly the seeds sent (another message's intact body in this one's place is caught there).
 */
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { expect } from 'vitest';

/** The byte the body pool writes over a released body when `bodyPool.poison` is on. */
export const POISON_BYTE = 0xdb;

const HEADER = 8;

function fill(b: Buffer, seed: number): void {
  let x = (seed ^ 0x9e3779b9) >>> 0 || 1;
  const words = (b.length - HEADER) >>> 2;
  // Buffer.alloc gives a buffer at offset 0 of its own ArrayBuffer: aligned for a Uint32Array
  const view = new Uint32Array(b.buffer, b.byteOffset + HEADER, words);
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view[i] = x >>> 0;
  }
  for (let at = HEADER + words * 4, k = 0; at < b.length; at++, k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[at] = (x >>> (8 * k)) & 0xff;
  }
}

/** The body of `size` bytes (at least 8) for `seed`. */
export function seededBody(seed: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32LE(seed >>> 0, 0);
  b.writeUInt32LE(size, 4);
  fill(b, seed >>> 0);
  return b;
}

/** A size in 64 KiB .. 1 MiB for `seed`: a few round sizes and odd ones in between. */
export function sizeFor(seed: number, max = 1024 * 1024): number {
  const sizes = [64 * 1024, 64 * 1024 + 3, 100 * 1024 + 17, 128 * 1024, 200 * 1024 + 1, 256 * 1024, 512 * 1024 - 5, 1024 * 1024];
  const fitting = sizes.filter((s) => s <= max);
  return fitting[(Math.imul(seed, 2654435761) >>> 0) % fitting.length]!;
}

/** Why `body` is not the intact body it names, or null when it is. */
export function bodyProblem(body: Buffer): string | null {
  if (body.length < HEADER) return `a body of ${body.length} bytes (at least ${HEADER} expected)`;
  const seed = body.readUInt32LE(0);
  const size = body.readUInt32LE(4);
  const poisoned = seed === 0xdbdbdbdb;
  if (size !== body.length) return `body of ${body.length} bytes names length ${size} (seed ${seed.toString(16)}${poisoned ? ': the pool poison' : ''})`;
  const want = seededBody(seed, size);
  if (want.equals(body)) return null;
  let at = HEADER;
  while (want[at] === body[at]) at++;
  let poison = 0;
  for (let i = at; i < body.length; i++) if (body[i] === POISON_BYTE) poison++;
  return `body of seed ${seed} (${size} bytes) differs from byte ${at} on; ${poison} of the ${size - at} bytes from there are the pool poison 0xDB`;
}

/** Asserts that `body` is intact; @returns its seed. */
export function checkBody(body: Buffer, what = 'a body'): number {
  const problem = bodyProblem(body);
  expect(problem, `${what}: ${problem}`).toBeNull();
  return body.readUInt32LE(0);
}

/** Seeds handed out, and the bodies received checked against them. */
export class SeedLedger {
  #next: number;
  readonly sent: number[] = [];
  readonly received: number[] = [];

  /** `base`: where this ledger's seeds start (distinct per ledger, so bodies of two cannot pass for each other) */
  constructor(base: number) {
    this.#next = base;
  }

  /** A new body (of `size` bytes, else of a size from 64 KiB up to `maxSize` picked by its seed), recorded as sent. */
  body(maxSize?: number, size?: number): Buffer {
    const seed = this.#next++;
    this.sent.push(seed);
    return seededBody(seed, size ?? sizeFor(seed, maxSize));
  }

  /** Check a received body in full and record its seed. */
  receive(body: Buffer, what?: string): number {
    const seed = checkBody(body, what);
    this.received.push(seed);
    return seed;
  }

  /** Every seed sent arrived, each once (duplicates only where `allowRepeats`: redeliveries). */
  expectAllReceived(allowRepeats = false): void {
    const got = allowRepeats ? [...new Set(this.received)] : [...this.received];
    expect(got.sort((a, b) => a - b)).toEqual([...this.sent].sort((a, b) => a - b));
  }
}

/** Publish `n` persistent bodies of `ledger` (see `SeedLedger.body` for the sizes) and wait for their confirms. */
export async function publishSeeded(ch: ConfirmChannel, exchange: string, key: string, ledger: SeedLedger, n: number, maxSize?: number, size?: number): Promise<void> {
  for (let i = 0; i < n; i++) ch.publish(exchange, key, ledger.body(maxSize, size), { persistent: true });
  await ch.waitForConfirms();
}

/**
 * Consume (manual acks) until `count` bodies arrived, each checked in full into `ledger` as it
 * arrives; `settle` decides what to do with each. Resolves with the consumer tag; the consumer
 * stays (cancel it, or close its channel).
 */
export function consumeSeeded(
  ch: Channel,
  queue: string,
  ledger: SeedLedger,
  count: number,
  settle: (msg: ConsumeMessage, i: number) => void,
  args?: Record<string, unknown>,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let n = 0;
    let tag = '';
    ch.consume(
      queue,
      (msg) => {
        if (msg === null) return;
        try {
          ledger.receive(msg.content, `${queue} delivery ${n}`);
          settle(msg, n++);
          if (n === count) resolve(tag);
        } catch (e) {
          reject(e);
        }
      },
      { noAck: false, arguments: args },
    ).then((ok) => (tag = ok.consumerTag), reject);
  });
}
