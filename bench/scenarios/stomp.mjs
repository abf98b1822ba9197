/**
 * stomp: 1 STOMP publisher → /queue/<name> → 1 STOMP subscriber with
 * ack:client-individual and one ACK frame per message, prefetch-count as
 * --prefetch. Transient messages; the queue is non-durable, shared and
 * auto-delete (headers on SEND and SUBSCRIBE), so nothing is left behind.
 *
 *   node bench/run.mjs --scenarios stomp \
 *     --url rabbitmq=stomp://guest:guest@127.0.0.1:61613 \
 *     --url warren=stomp://guest:guest@127.0.0.1:61614
 *
 * Same options, payload layout (timestamp, sequence) and result line as the
 * AMQP scenarios, so run.mjs and report.mjs tabulate it beside them. The
 * publisher and the subscriber run in this process (inline mode only).
 */
import { COMMON_OPTIONS, parseOptions, usage } from '../lib/args.mjs';
import { nowMs } from '../lib/clock.mjs';
import { CpuSampler, round2 } from '../lib/cpu-sampler.mjs';
import { redactUrl } from '../lib/connect.mjs';
import { LatencyHistogram } from '../lib/histogram.mjs';
import { makeBody, makeTemplate, readPublishedAt, readSequence } from '../lib/payload.mjs';
import { isMain } from '../lib/scenario-cli.mjs';
import { StompWire } from '../lib/stomp-wire.mjs';

const OPTIONS = {
  ...COMMON_OPTIONS,
  url: { kind: /** @type {const} */ ('string'), default: 'stomp://guest:guest@127.0.0.1:61613', help: 'STOMP URL of the broker under test' },
};

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @param {Record<string, any>} options @returns {Promise<Record<string, any>>} */
export async function runStomp(options) {
  const errors = [];
  const destination = `/queue/bench.stomp.${process.pid}.${Date.now().toString(36)}`;
  // transient, shared (RabbitMQ: non-durable implies exclusive unless told), gone with the subscriber
  const queueHeaders = { durable: 'false', exclusive: 'false', 'auto-delete': 'true' };
  const template = makeTemplate(options.size);
  const histogram = new LatencyHistogram();
  const state = {
    published: 0,
    consumed: 0,
    lastSequence: 0,
    outOfOrder: 0,
    redelivered: 0,
    measureAt: Infinity,
    stopAt: Infinity,
    publishing: false,
    stopped: false,
  };
  /** @type {(() => void) | null} */
  let wakePublisher = null;

  /** @type {StompWire | null} */
  let consumer = null;
  /** @type {StompWire | null} */
  let publisher = null;
  let measured = { consumed: 0, published: 0, seconds: 0 };
  /** @type {Record<string, any>} */
  let cpu = {};
  try {
    consumer = await StompWire.open(options.url, (frame) => {
      if (frame.command === 'MESSAGE') {
        const now = nowMs();
        const publishedAt = readPublishedAt(frame.body);
        const sequence = readSequence(frame.body);
        state.consumed++;
        if (publishedAt >= state.measureAt && publishedAt < state.stopAt) histogram.recordMs(now - publishedAt);
        if (sequence <= state.lastSequence) state.outOfOrder++;
        state.lastSequence = sequence;
        if (frame.headers.redelivered === 'true') state.redelivered++;
        /** @type {StompWire} */ (consumer).send('ACK', { id: frame.headers.ack });
        if (wakePublisher) {
          const wake = wakePublisher;
          wakePublisher = null;
          wake();
        }
      } else if (frame.command === 'ERROR') {
        errors.push(`consumer: ERROR ${frame.headers.message}: ${frame.body.toString()}`);
      }
    });
    consumer.send('SUBSCRIBE', {
      destination,
      id: 'bench',
      ack: 'client-individual',
      ...(options.prefetch > 0 ? { 'prefetch-count': String(options.prefetch) } : {}),
      ...queueHeaders,
      receipt: 'subscribed',
    });
    publisher = await StompWire.open(options.url, (frame) => {
      if (frame.command === 'ERROR') errors.push(`publisher: ERROR ${frame.headers.message}: ${frame.body.toString()}`);
    });
    await sleep(100); // the SUBSCRIBE is in place before the first SEND declares nothing new

    const pub = /** @type {StompWire} */ (publisher);
    const interval = options.rate > 0 ? 1000 / options.rate : 0;
    const startedAt = nowMs();
    state.publishing = true;
    const publishLoop = async () => {
      while (!state.stopped && errors.length === 0) {
        if (state.published - state.consumed >= options.window) {
          await new Promise((resolve) => {
            wakePublisher = () => resolve(undefined);
          });
          continue;
        }
        if (interval > 0) {
          const due = startedAt + state.published * interval;
          const wait = due - nowMs();
          if (wait > 1) await sleep(wait);
        }
        state.published++;
        const body = makeBody(template, nowMs(), state.published, 0);
        if (!pub.send('SEND', { destination, ...queueHeaders }, body)) {
          await new Promise((resolve) => pub.socket.once('drain', resolve));
        } else if ((state.published & 63) === 0) {
          await new Promise((resolve) => setImmediate(resolve)); // let the consumer's socket in
        }
      }
      state.publishing = false;
    };
    const loop = publishLoop();

    await sleep(options.warmup * 1000);
    const sampler = new CpuSampler(options.brokerPid || null);
    const generatorCpu = process.cpuUsage();
    state.measureAt = nowMs();
    const at = { consumed: state.consumed, published: state.published };
    await sleep(options.seconds * 1000);
    state.stopAt = nowMs();
    measured = {
      consumed: state.consumed - at.consumed,
      published: state.published - at.published,
      seconds: (state.stopAt - state.measureAt) / 1000,
    };
    const samples = sampler.finish();
    const used = process.cpuUsage(generatorCpu);
    cpu = { ...samples, generatorMicros: used.user + used.system };
    state.stopped = true;
    wakePublisher?.();
    await loop;

    const deadline = Date.now() + options.drainTimeout * 1000;
    while (state.consumed < state.published && Date.now() < deadline && errors.length === 0) await sleep(10);
    await sleep(200); // duplicates would show up now
  } catch (err) {
    errors.push(/** @type {Error} */ (err).message);
  } finally {
    await publisher?.close();
    await consumer?.close();
  }

  const perSecond = (/** @type {number} */ n) => (measured.seconds > 0 ? Math.round(n / measured.seconds) : 0);
  const lost = Math.max(0, state.published - state.consumed);
  const duplicates = Math.max(0, state.consumed - state.published);
  if (errors.length === 0) {
    if (lost > 0) errors.push(`lost ${lost} of ${state.published} messages`);
    if (duplicates > 0) errors.push(`${duplicates} deliveries more than published`);
    if (state.outOfOrder > 0) errors.push(`${state.outOfOrder} deliveries out of publish order`);
    if (measured.consumed === 0) errors.push('nothing was consumed during the measured interval');
  }
  const toCores = (/** @type {number} */ micros) => (measured.seconds > 0 ? round2(micros / 1e6 / measured.seconds) : null);
  const generator = toCores(cpu.generatorMicros ?? 0);
  const hostBusy = cpu.host_busy_cores ?? null;
  const broker = cpu.broker_cores ?? null;
  /** @type {Record<string, any>} */
  const result = {
    scenario: 'stomp',
    label: options.label,
    broker: redactUrl(options.url),
    mode: 'inline',
    seconds: Math.round(measured.seconds * 1000) / 1000,
    size: options.size,
    window: options.window,
    prefetch: options.prefetch,
    rate: options.rate,
    msgs_per_s: perSecond(measured.consumed),
    published_per_s: perSecond(measured.published),
    latency_ms: histogram.summary(),
    published: state.published,
    consumed: state.consumed,
    expected_deliveries: state.published,
    lost,
    duplicates,
    out_of_order: state.outOfOrder,
    redelivered: state.redelivered,
    protocol: 'stomp-1.2',
    ack: 'client-individual, one ACK per message',
    cpu_cores: {
      host_busy: hostBusy,
      broker,
      generator,
      of: cpu.cores ?? null,
      other: hostBusy !== null && broker !== null && generator !== null ? round2(Math.max(0, hostBusy - broker - generator)) : null,
    },
    ok: errors.length === 0,
  };
  if (errors.length > 0) result.errors = errors;
  return result;
}

if (isMain(import.meta.url)) {
  /** @type {Record<string, any>} */
  let options;
  try {
    options = parseOptions(OPTIONS, process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${/** @type {Error} */ (err).message}\n\nOptions:\n${usage(OPTIONS)}\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(`stomp: 1 STOMP publisher -> 1 queue -> 1 STOMP subscriber, ACK per message\n\nOptions:\n${usage(OPTIONS)}\n`);
    process.exit(0);
  }
  const watchdog = options.warmup + options.seconds + 2 * options.drainTimeout + 60;
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ scenario: 'stomp', label: options.label, ok: false, errors: [`watchdog: no result after ${watchdog} s`] })}\n`);
    process.exit(1);
  }, watchdog * 1000).unref();
  const result = await runStomp(options);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.ok ? 0 : 1);
}
