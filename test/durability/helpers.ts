/**
 * Shared by the durability tests: an in-process broker over a data directory that outlives
 * it (with its log lines captured, so a test can read the 'vhost recovered' report), numbered
 * persistent messages published with confirms, draining a queue, and the records of a
 * journal segment (framing of src/store/format.ts) for tests that damage them on purpose.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Broker } from '../../src/index.js';
import { createLogger, type LogFields } from '../../src/log/index.js';
import { RECORD_HEADER_SIZE, RecordType, SEGMENT_FILE_SUFFIX, SEGMENT_HEADER_SIZE } from '../../src/store/format.js';

const made: string[] = [];

/** A temporary directory removed by `removeTempDirs` (call it from afterEach). */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export type LogRecord = LogFields & { level: string; msg: string };

export interface RunningBroker {
  broker: Broker;
  url: string;
  /** every log line of this broker so far, parsed */
  logs: LogRecord[];
  /** the 'vhost recovered' line of the default vhost */
  recovered: () => LogRecord;
}

/** Start a broker on `dataDir` (AMQP on an OS-chosen loopback port) with its log captured. */
export async function startOn(dataDir: string, options: { segmentSize?: number } = {}): Promise<RunningBroker> {
  const logs: LogRecord[] = [];
  const logger = createLogger({ level: 'info', output: { write: (line: string) => logs.push(JSON.parse(line) as LogRecord) } });
  const broker = new Broker(
    { dataDir, amqp: { port: 0, host: '127.0.0.1' }, ...(options.segmentSize ? { store: { segmentSize: options.segmentSize } } : {}) },
    { logger },
  );
  await broker.start();
  return {
    broker,
    url: broker.url('amqp'),
    logs,
    recovered: () => {
      const r = logs.find((l) => l.msg === 'vhost recovered' && l.vhost === '/');
      if (!r) throw new Error(`no 'vhost recovered' line in ${JSON.stringify(logs.map((l) => l.msg))}`);
      return r;
    },
  };
}

/** The body of message `i`: its number first (`m000042|`), then `size` filler bytes. */
export function numberedBody(i: number, size: number): Buffer {
  const head = `m${String(i).padStart(6, '0')}|`;
  return Buffer.concat([Buffer.from(head), Buffer.alloc(Math.max(0, size - head.length), 97 + (i % 26))]);
}

/** The number in a body made by `numberedBody`. */
export const numberOf = (body: Buffer): number => Number(body.toString('latin1', 1, 7));

/**
 * Declare the durable queue and publish messages `from` … `to - 1` to it, persistent, with
 * confirms; resolves once all are confirmed.
 */
export async function publishNumbered(url: string, queue: string, from: number, to: number, size: number): Promise<void> {
  const c = await amqp.connect(url);
  try {
    const ch = await c.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    for (let i = from; i < to; i++) {
      if (!ch.sendToQueue(queue, numberedBody(i, size), { persistent: true })) await new Promise((r) => ch.once('drain', r));
    }
    await ch.waitForConfirms();
  } finally {
    await c.close();
  }
}

/**
 * Consume `queue` until it has been empty (and silent) for `quietMs`, acking every delivery;
 * returns the message numbers in delivery order.
 */
export async function drainNumbers(url: string, queue: string, quietMs = 300, timeoutMs = 20_000): Promise<number[]> {
  const c = await amqp.connect(url);
  try {
    const ch = await c.createChannel();
    await ch.prefetch(500);
    const got: number[] = [];
    let last = Date.now();
    await ch.consume(queue, (m) => {
      if (!m) return;
      got.push(numberOf(m.content));
      last = Date.now();
      ch.ack(m);
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await new Promise((r) => setTimeout(r, 50));
      if (Date.now() > deadline) throw new Error(`draining ${queue}: still receiving after ${timeoutMs} ms (${got.length} so far)`);
      if (Date.now() - last < quietMs) continue;
      if ((await ch.checkQueue(queue)).messageCount === 0) break;
    }
    return got;
  } finally {
    await c.close();
  }
}

/** The journal directory of the default vhost (vhost id 1: the first one saved). */
export const journalDir = (dataDir: string): string => join(dataDir, 'vhosts', '1');

/** Segment files of a journal directory, oldest first. */
export function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(SEGMENT_FILE_SUFFIX))
    .sort()
    .map((f) => join(dir, f));
}

export interface JournalRecord {
  /** where the record's header starts */
  offset: number;
  /** where its payload starts, and how long it is */
  payloadAt: number;
  length: number;
  type: number;
  /** for MSG records made by `numberedBody`: the message number, else -1 */
  number: number;
}

/** Walk the records of a segment file (stopping at zero-filled space or a short tail). */
export function recordsOf(path: string): JournalRecord[] {
  const buf = readFileSync(path);
  const out: JournalRecord[] = [];
  let at = SEGMENT_HEADER_SIZE;
  while (at + RECORD_HEADER_SIZE <= buf.length) {
    const crc = buf.readUInt32LE(at);
    const length = buf.readUInt32LE(at + 4);
    if (crc === 0 && length === 0) break;
    const payloadAt = at + RECORD_HEADER_SIZE;
    if (payloadAt + length > buf.length) break;
    const type = buf[at + 8];
    let number = -1;
    if (type === RecordType.MSG) {
      // the body is last in a MSG record and starts with numberedBody's "m<6 digits>|"
      const m = /m(\d{6})\|/.exec(buf.toString('latin1', payloadAt, payloadAt + length));
      if (m) number = Number(m[1]);
    }
    out.push({ offset: at, payloadAt, length, type, number });
    at = payloadAt + length;
  }
  return out;
}
