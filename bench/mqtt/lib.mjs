/**
 * Shared pieces of the MQTT benchmarks: options, clients, payloads that carry their publish
 * time, and the result line. The latency histogram and the CPU sampler are the AMQP bench's
 * (bench/lib/), so both report the same way.
 */
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';

export { LatencyHistogram } from '../lib/histogram.mjs';
export { CpuSampler, sampleHostBusyCores } from '../lib/cpu-sampler.mjs';

export const DEFAULT_URL = 'mqtt://127.0.0.1:1883';

/** @returns {number} ms since the epoch with sub-ms precision (comparable across worker threads) */
export const now = () => performance.timeOrigin + performance.now();

/** Options every scenario takes. */
export const COMMON = {
  url: { type: 'string', default: DEFAULT_URL },
  label: { type: 'string', default: '' },
  pid: { type: 'string', default: '' },
  seconds: { type: 'string', default: '10' },
  warmup: { type: 'string', default: '1' },
  size: { type: 'string', default: '128' },
  window: { type: 'string', default: '1000' },
  qos: { type: 'string', default: '0' },
};

/** @param {Record<string, {type: 'string' | 'boolean', default?: string | boolean}>} extra */
export function options(extra = {}) {
  const { values } = parseArgs({ options: { ...COMMON, ...extra }, allowPositionals: false });
  return values;
}

/** Connect an MQTT.js client (MQTT 3.1.1, no reconnects). */
export function connect(url, clientId, extra = {}) {
  return mqtt.connectAsync(url, { clientId, protocolVersion: 4, clean: true, reconnectPeriod: 0, keepalive: 60, connectTimeout: 10_000, ...extra });
}

/** A payload of `size` bytes: publish time (float64 ms), sequence (uint32), publisher (uint32), padding. */
export function payload(size, seq, publisher) {
  const b = Buffer.alloc(Math.max(16, size), 0x2e);
  b.writeDoubleLE(now(), 0);
  b.writeUInt32LE(seq, 8);
  b.writeUInt32LE(publisher, 12);
  return b;
}

export const publishedAt = (b) => b.readDoubleLE(0);
export const sequenceOf = (b) => b.readUInt32LE(8);
export const publisherOf = (b) => b.readUInt32LE(12);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wait until `done()` or `ms` pass. */
export async function until(done, ms) {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await sleep(20);
  return done();
}

/** Print the one JSON result line. */
export function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
