/**
 * Live fuzzing: arbitrary and mutated byte streams, cut at arbitrary boundaries, sent over
 * real sockets to the AMQP, MQTT and STOMP listeners of one running broker. After each
 * protocol's batch, a well-behaved client of every protocol still works, no connection is
 * left behind, and nothing was thrown out of a socket handler (vitest fails the file on an
 * uncaught exception or unhandled rejection).
 */
import { connect as netConnect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMethodFrame } from '../../plugins/amqp/codec/methods.js';
import { M } from '../../plugins/amqp/codec/method-table.js';
import { encodeFrame } from '../../plugins/stomp/frame.js';
import { startManaged, type ManagedBroker } from '../plugins/management/helpers.js';
import { probeAll, until, type Ports } from '../helpers/live-probes.js';
import { frame, frameLengthFields, methodArb, propertiesArb, headerFrame } from './amqp-arbitraries.js';
import { remainingLengthFields, streamArb } from './mqtt-arbitraries.js';
import { chunked, mutated, params } from './fuzz-config.js';

let b: ManagedBroker;
let ports: Ports;
/** error-level log records: a handler that failed on input it should have refused cleanly */
const errorLogs: string[] = [];
/** warnings seen: the refusals themselves (and proof that the log is being watched) */
let warnings = 0;
const realWrite = process.stderr.write.bind(process.stderr);
beforeAll(async () => {
  // the broker's logger writes JSON lines to stderr (log level warn): keep the errors
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    if (text.includes('"level":"error"')) errorLogs.push(text.slice(0, 500));
    if (text.includes('"level":"warn"')) warnings++;
    return realWrite(chunk, ...rest);
  }) as typeof process.stderr.write;
  b = await startManaged({
    mqtt: true,
    stomp: true,
    extra: {
      amqp: { port: 0, host: '127.0.0.1', handshakeTimeout: 2000 },
      mqtt: { port: 0, host: '127.0.0.1', wsEnabled: false, connectTimeout: 2000 },
      stomp: { port: 0, host: '127.0.0.1', wsEnabled: false, loginTimeout: 2000, maxFrameSize: 65536 },
    },
  });
  ports = { amqp: b.broker.address('amqp').port, mqtt: b.broker.address('mqtt').port, stomp: b.broker.address('stomp').port };
});
afterAll(async () => {
  process.stderr.write = realWrite;
  await b?.stop();
});

/** Send chunks with a turn of the event loop between them, linger briefly, then close. */
function blast(port: number, chunks: Buffer[], lingerMs: number): Promise<void> {
  return new Promise((resolve) => {
    const s = netConnect({ port, host: '127.0.0.1' });
    s.on('error', () => {});
    s.on('data', () => {});
    s.on('close', () => resolve());
    s.on('connect', async () => {
      for (const c of chunks) {
        if (s.destroyed) break;
        s.write(c);
        await new Promise((r) => setImmediate(r));
      }
      setTimeout(() => s.destroy(), lingerMs);
    });
  });
}

const cuts = fc.array(fc.nat(), { maxLength: 16 });
const linger = fc.integer({ min: 0, max: 30 });
const randomBytes = fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b));

// AMQP: protocol header, a pipelined handshake as guest, a channel, then arbitrary methods and content
const PLAIN = Buffer.from('\0guest\0guest');
const amqpHandshake = Buffer.concat([
  Buffer.from('AMQP\0\0\x09\x01', 'latin1'),
  encodeMethodFrame(0, { id: M.connectionStartOk, clientProperties: {}, mechanism: 'PLAIN', response: PLAIN, locale: 'en_US' } as never),
  encodeMethodFrame(0, { id: M.connectionTuneOk, channelMax: 16, frameMax: 131072, heartbeat: 0 } as never),
  encodeMethodFrame(0, { id: M.connectionOpen, virtualHost: '/' } as never),
  encodeMethodFrame(1, { id: M.channelOpen } as never),
]);
/** the arguments and headers the broker interprets, with values of every kind */
const X_KEYS = ['x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-delay', 'x-delayed-type', 'x-delivery-limit', 'x-expires', 'x-match', 'x-max-age', 'x-max-length', 'x-max-length-bytes', 'x-max-priority', 'x-message-ttl', 'x-overflow', 'x-priority', 'x-queue-mode', 'x-queue-type', 'x-redelivery-backoff', 'x-reply-on-failure', 'x-single-active-consumer', 'x-stream-compaction', 'x-stream-compaction-key-header', 'x-stream-consumer-name', 'x-stream-max-segment-size-bytes', 'x-stream-offset', 'x-stream-tombstone-retention', 'x-death', 'x-cancel-on-ha-failover', 'alternate-exchange', 'x-reply-on-failure'];
const xValue = fc.oneof(
  fc.constantFrom(-1, 0, 1, 255, 256, 2 ** 31 - 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1.5, NaN, Infinity, '', '1', '-1', 'abc', '1s,10s', '10s', 'first', 'last', '1D', 'stream', 'classic', 'quorum', 'lazy', 'reject-publish', 'drop-head', 'reject-publish-dlx', 'any', 'all', 'amq.direct', 'nosuch', true, false, null),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constant([{ count: 'x', reason: 1 }]),
  fc.constant({ nested: { deeper: [1, 'a'] } }),
  fc.constant(new Date(0)),
  fc.constant(Buffer.from([0, 1])),
);
const xArgs = fc.dictionary(fc.constantFrom(...X_KEYS), xValue, { maxKeys: 4 });
const names = fc.constantFrom('fz', 'fz2', 'amq.direct', 'amq.topic', 'amq.headers', '', 'amq.fz', 'nosuch', 'fz-stream');
const semanticMethods = fc.oneof(
  fc.record({ queue: names, passive: fc.boolean(), durable: fc.boolean(), exclusive: fc.boolean(), autoDelete: fc.boolean(), arguments: xArgs }).map((m) => ({ id: M.queueDeclare, ticket: 0, noWait: false, ...m })),
  fc.record({ exchange: names, type: fc.constantFrom('direct', 'topic', 'fanout', 'headers', 'x-delayed-message', 'nosuch'), passive: fc.boolean(), durable: fc.boolean(), arguments: xArgs }).map((m) => ({ id: M.exchangeDeclare, ticket: 0, autoDelete: false, internal: false, noWait: false, ...m })),
  fc.record({ queue: names, exchange: names, routingKey: fc.constantFrom('', '#', '*.a', 'fz'), arguments: xArgs }).map((m) => ({ id: M.queueBind, ticket: 0, noWait: false, ...m })),
  fc.record({ queue: names, consumerTag: fc.constantFrom('', 'c1', 'c1'), noAck: fc.boolean(), exclusive: fc.boolean(), arguments: xArgs }).map((m) => ({ id: M.basicConsume, ticket: 0, noLocal: false, noWait: false, ...m })),
  fc.record({ prefetchCount: fc.integer({ min: 0, max: 65535 }), global: fc.boolean() }).map((m) => ({ id: M.basicQos, prefetchSize: 0, ...m })),
  fc.record({ deliveryTag: fc.constantFrom(0, 1, 2, 2 ** 53 - 1), multiple: fc.boolean(), requeue: fc.boolean() }).map((m) => ({ id: M.basicNack, ...m })),
  fc.record({ queue: names, noAck: fc.boolean() }).map((m) => ({ id: M.basicGet, ticket: 0, ...m })),
  fc.constantFrom({ id: M.confirmSelect, nowait: false }, { id: M.basicRecover, requeue: true }, { id: M.channelFlow, active: false }, { id: M.channelFlow, active: true }),
);
const headersArb = fc.dictionary(fc.constantFrom(...X_KEYS, 'x-stream-filter-value', 'CC', 'BCC'), xValue, { maxKeys: 3 });

const amqpStream = fc
  .array(
    fc.oneof(
      methodArb.map((m) => encodeMethodFrame(1, m)),
      semanticMethods.map((m) => encodeMethodFrame(1, m as never)),
      semanticMethods.map((m) => encodeMethodFrame(1, m as never)),
      fc.tuple(names, fc.constantFrom('fz', '', '#'), headersArb, fc.record({ expiration: fc.constantFrom('0', '-1', 'abc', '1', '99999999999999999999'), priority: fc.integer({ min: 0, max: 255 }), deliveryMode: fc.constantFrom(1, 2, 0, 9) }, { requiredKeys: [] })).map(([ex, rk, headers, p]) =>
        Buffer.concat([encodeMethodFrame(1, { id: M.basicPublish, ticket: 0, exchange: ex, routingKey: rk, mandatory: true, immediate: false } as never), headerFrame(1, 3, { ...p, headers } as never), frame(3, 1, Buffer.from('abc'))]),
      ),
      fc.tuple(fc.string({ maxLength: 8 }), fc.nat({ max: 300 }), propertiesArb).map(([rk, n, p]) =>
        Buffer.concat([encodeMethodFrame(1, { id: M.basicPublish, ticket: 0, exchange: '', routingKey: rk, mandatory: false, immediate: false } as never), headerFrame(1, n, p), frame(3, 1, Buffer.alloc(n, 0x61))]),
      ),
    ),
    { maxLength: 8 },
  )
  .map((frames) => Buffer.concat([amqpHandshake, ...frames]));

// STOMP: CONNECT as guest, then frames with arbitrary headers and bodies
const stompStream = fc
  .array(
    fc.record({
      command: fc.constantFrom('SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK', 'BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT', 'CONNECT', 'FOO'),
      headers: fc.array(fc.tuple(fc.constantFrom('destination', 'id', 'ack', 'receipt', 'transaction', 'content-type', 'x-max-length', 'prefetch-count', 'persistent', 'subscription', 'message-id', 'x'), fc.oneof(fc.constantFrom('/queue/fz', '/topic/fz', '/exchange/amq.topic/x', '/amq/queue/fz', 'client-individual', '-1', '99999999999'), fc.string({ maxLength: 12 }))), { maxLength: 5 }),
      body: fc.uint8Array({ maxLength: 100 }).map((x) => Buffer.from(x)),
    }),
    { maxLength: 6 },
  )
  .map((frames) => Buffer.concat([Buffer.from('CONNECT\naccept-version:1.0,1.1,1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0'), ...frames.map((f) => encodeFrame(f.command, f.headers, f.body, '1.2'))]));

function stompLengthFields(buf: Buffer): { at: number; width: 1 }[] {
  const s = buf.toString('latin1');
  const out: { at: number; width: 1 }[] = [];
  for (let i = s.indexOf('content-length:'); i >= 0; i = s.indexOf('content-length:', i + 1)) out.push({ at: i + 15, width: 1 });
  return out;
}

const cases = [
  { name: 'AMQP', port: () => ports.amqp, valid: amqpStream, lengths: (b: Buffer) => frameLengthFields(b.subarray(8)).map((f) => ({ ...f, at: f.at + 8 })) },
  { name: 'MQTT', port: () => ports.mqtt, valid: streamArb.map((s) => s.bytes), lengths: remainingLengthFields },
  { name: 'STOMP', port: () => ports.stomp, valid: stompStream, lengths: stompLengthFields },
] as const;

describe('live broker fuzz: arbitrary byte streams on each protocol port', () => {
  for (const c of cases) {
    it(`${c.name}: random, valid and mutated streams; the broker keeps serving every protocol`, async () => {
      const baseline = b.broker.core.connections.size;
      const input = fc.oneof(randomBytes, c.valid, mutated(c.valid, c.lengths as (b: Buffer) => { at: number; width: 1 | 2 | 4 }[]));
      // the valid and lightly mutated streams get connections opened: the fuzz reaches past the handshake
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, b.broker.core.connections.size)), 1);
      await fc.assert(
        fc.asyncProperty(input, cuts, linger, async (bytes, at, lingerMs) => {
          await blast(c.port(), chunked(bytes, at), lingerMs);
        }),
        params(`live ${c.name} streams`, 0.2),
      );
      clearInterval(sampler);
      expect(peak).toBeGreaterThan(baseline);
      const rtt = await probeAll(ports);
      expect(rtt.amqp).toBeGreaterThan(0);
      await until(() => b.broker.core.connections.size === baseline, 15_000, `${c.name} fuzz connections to be released`);
      // bad input is refused with the protocol's error (logged as a warning), never an internal error
      expect(errorLogs).toEqual([]);
      expect(warnings).toBeGreaterThan(0);
    }, 60_000);
  }
});
