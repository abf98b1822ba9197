/**
 * Scaling curves: AMQP throughput against message size, number of queues, number of
 * connections and number of topic bindings, for Warren (a fresh process from a build for every
 * point, bench/lib/brokers.mjs) and RabbitMQ when it answers on 5672 — short runs, one table
 * per curve.
 *
 *   npm run bench:scaling -- [--curves size,queues,connections,bindings] [--seconds 5] [--brokers warren,rabbitmq]
 *
 * Every point is one closed loop in this process over raw sockets (bench/lib/amqp-wire.mjs,
 * so the generator is not amqplib): publishers send transient messages, at most --window
 * (scaled down for large bodies) published and not yet consumed; consumers have prefetch 1,000
 * per queue and ack with `multiple` once per socket read. Setup (queues, bindings) and
 * teardown go through amqplib.
 *
 * - size: 1 publisher → 1 queue → 1 consumer; bodies of 16 B … 1 MiB.
 * - queues: N queues, 1 publisher connection cycling its routing key over them, one consumer
 *   connection consuming all of them; 128 B.
 * - connections: N publisher connections (each one channel), taking turns, → 1 queue → 1
 *   consumer; 128 B.
 * - bindings: topic exchange with N distinct patterns (bench/scenarios/topic.mjs) over 4 queues,
 *   the publisher cycling through the N keys that each match one binding; 128 B.
 *
 * RabbitMQ points that would need more connections (or queues) than its file-descriptor limit
 * allows are skipped (it runs with a soft limit of 1,024 here; running out crashed it).
 */
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { AmqpWire } from './lib/amqp-wire.mjs';
import { connectionHeadroom, rabbitmq, warren, warrenBuild } from './lib/brokers.mjs';
import { nowMs } from './lib/clock.mjs';
import { LatencyHistogram } from './lib/histogram.mjs';
import { bindingFor } from './scenarios/topic.mjs';

const CURVES = {
  size: [16, 128, 1024, 16384, 131072, 1048576],
  queues: [1, 10, 100, 1000, 10000],
  connections: [10, 100, 1000, 10000],
  bindings: [10, 100, 1000, 10000, 100000],
};
/** @type {Record<string, string>} */
const TITLES = { size: 'message size (bytes)', queues: 'queues', connections: 'publishing connections', bindings: 'topic bindings' };

const { values: o } = parseArgs({
  options: {
    curves: { type: 'string', default: Object.keys(CURVES).join(',') },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    window: { type: 'string', default: '200' },
    brokers: { type: 'string', default: 'warren,rabbitmq' },
    build: { type: 'string' },
    'rabbitmq-amqp': { type: 'string' },
    'rabbitmq-max-queues': { type: 'string', default: '1000' },
    help: { type: 'boolean' },
  },
});
if (o.help) {
  process.stdout.write('usage: node bench/scaling.mjs [--curves size,queues,connections,bindings] [--seconds 5] [--warmup 1] [--window 200]\n' +
    '                         [--brokers warren,rabbitmq] [--build dir] [--rabbitmq-amqp url] [--rabbitmq-max-queues 1000]\n');
  process.exit(0);
}
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One point: declare, run the closed loop, drain, tear down.
 * @param {string} url @param {string} curve @param {number} n
 * @returns {Promise<Record<string, any>>}
 */
async function point(url, curve, n) {
  const size = curve === 'size' ? n : 128;
  const queueCount = curve === 'queues' ? n : curve === 'bindings' ? 4 : 1;
  const publisherCount = curve === 'connections' ? n : 1;
  // a bounded window in bytes too: 200 × 1 MiB in flight would measure memory, not the broker
  const window = Math.max(2, Math.min(Number(o.window), Math.floor((16 << 20) / size)));
  const run = `bench.scaling.${process.pid}.${Date.now().toString(36)}`;
  const queues = Array.from({ length: queueCount }, (_, i) => `${run}.${i}`);
  const exchange = curve === 'bindings' ? `${run}.topic` : '';
  const setup = await amqp.connect(url, { noDelay: true });
  const ch = await setup.createChannel();
  /** @type {AmqpWire[]} */
  const wires = [];
  const errors = [];
  try {
    const t0 = Date.now();
    for (let i = 0; i < queues.length; i += 500) await Promise.all(queues.slice(i, i + 500).map((q) => ch.assertQueue(q, { durable: false, autoDelete: false })));
    /** @type {string[]} routing keys the publisher cycles through */
    let keys = queues;
    if (curve === 'bindings') {
      await ch.assertExchange(exchange, 'topic', { durable: false });
      keys = [];
      for (let i = 0; i < n; i += 500) {
        const batch = [];
        for (let k = i; k < Math.min(n, i + 500); k++) {
          const { pattern, key } = bindingFor(k);
          keys.push(key);
          batch.push(ch.bindQueue(queues[k % queues.length], exchange, pattern));
        }
        await Promise.all(batch);
      }
    }
    const setupSeconds = (Date.now() - t0) / 1000;

    const hist = new LatencyHistogram();
    let published = 0;
    let consumed = 0;
    let measuring = false;
    let measured = 0;
    let stopping = false;
    /** @type {(() => void) | null} */
    let wake = null;
    let ackScheduled = false;
    let lastTag = 0;
    /** @type {AmqpWire} */
    let consumer;
    const flushAck = () => {
      ackScheduled = false;
      consumer.ack(lastTag);
    };
    consumer = await AmqpWire.open(url, {
      onDeliver(body, tag) {
        consumed++;
        if (measuring) {
          measured++;
          hist.recordMs(nowMs() - body.readDoubleLE(0));
        }
        lastTag = tag;
        if (!ackScheduled) {
          ackScheduled = true;
          setImmediate(flushAck);
        }
        if (wake !== null && published - consumed < window / 2) {
          const w = wake;
          wake = null;
          w();
        }
      },
    });
    wires.push(consumer);
    await consumer.qos(1000);
    for (const q of queues) await consumer.consume(q);

    /** @type {AmqpWire[]} */
    const publishers = [];
    for (let i = 0; i < publisherCount; i += 200) {
      const batch = await Promise.all(Array.from({ length: Math.min(200, publisherCount - i) }, () => AmqpWire.open(url)));
      publishers.push(...batch);
      wires.push(...batch);
    }
    // one pre-encoded publish per routing key (per publisher: frame-max may differ only by broker)
    const templates = keys.map((k) => publishers[0].publishTemplate(exchange, k, size));
    let turn = 0;
    const publish = () => {
      while (!stopping && published - consumed < window) {
        const t = templates[published % templates.length];
        const bytes = Buffer.from(t.bytes);
        bytes.writeDoubleLE(nowMs(), t.bodyAt[0]);
        published++;
        const p = publishers[turn];
        turn = (turn + 1) % publishers.length;
        if (!p.write(bytes)) {
          p.socket.once('drain', publish);
          return;
        }
      }
      if (!stopping) wake = publish;
    };
    publish();
    await sleep(Number(o.warmup) * 1000);
    measuring = true;
    const start = performance.now();
    await sleep(Number(o.seconds) * 1000);
    measuring = false;
    const elapsed = (performance.now() - start) / 1000;
    stopping = true;
    const deadline = Date.now() + 20_000;
    while (consumed < published && Date.now() < deadline) await sleep(20);
    for (const w of wires) if (w.error) errors.push(w.error.message);
    if (consumed !== published) errors.push(`${published - consumed} of ${published} messages not delivered`);
    const s = hist.summary();
    return {
      curve, n, size, queues: queueCount, publishers: publisherCount, bindings: curve === 'bindings' ? n : 0, window,
      msgs_per_s: Math.round(measured / elapsed), mb_per_s: Math.round(((measured * size) / elapsed / 1e6) * 10) / 10,
      latency_ms: { p50: s.p50, p99: s.p99 }, setup_s: setupSeconds, published, consumed,
      ok: errors.length === 0, ...(errors.length ? { errors: [...new Set(errors)].slice(0, 3) } : {}),
    };
  } finally {
    for (const w of wires) w.close();
    for (let i = 0; i < queues.length; i += 500) await Promise.all(queues.slice(i, i + 500).map((q) => ch.deleteQueue(q).catch(() => undefined)));
    if (exchange) await ch.deleteExchange(exchange).catch(() => undefined);
    await setup.close().catch(() => undefined);
  }
}

async function main() {
  const wanted = new Set(String(o.brokers).split(','));
  const kinds = [];
  if (wanted.has('warren')) kinds.push(warren(warrenBuild(o.build)));
  if (wanted.has('rabbitmq')) {
    const r = await rabbitmq({ amqp: o['rabbitmq-amqp'], stomp: 'none', mqtt: 'none' });
    if (r) kinds.push(r);
    else process.stderr.write('[scaling] RabbitMQ not found on 5672: Warren only\n');
  }
  const curves = String(o.curves).split(',');
  for (const c of curves) if (!(c in CURVES)) throw new Error(`unknown curve '${c}' (size, queues, connections, bindings)`);
  /** @type {string[]} */
  const tables = [];
  let failed = false;
  for (const curve of curves) {
    /** @type {Map<string, Record<string, any>>} */
    const results = new Map();
    for (const n of CURVES[/** @type {keyof CURVES} */ (curve)]) {
      for (const kind of kinds) {
        const broker = await kind.start('amqp');
        try {
          if (kind.label === 'rabbitmq') {
            const headroom = broker.pid ? connectionHeadroom(broker.pid) : 500;
            const tooMany = (curve === 'connections' && n + 2 > headroom) || (curve === 'queues' && n > Number(o['rabbitmq-max-queues']));
            if (tooMany) {
              results.set(`${n}/${kind.label}`, { curve, n, skipped: curve === 'connections' ? `file descriptors (headroom ${headroom})` : `--rabbitmq-max-queues` });
              continue;
            }
          }
          process.stderr.write(`[scaling] ${curve} ${n} on ${kind.label} …\n`);
          /** @type {Record<string, any>} */
          let r;
          try {
            r = await point(/** @type {string} */ (broker.urls.amqp), curve, n);
          } catch (err) {
            r = { curve, n, ok: false, errors: [/** @type {Error} */ (err).message] };
          }
          r.label = kind.label;
          if (!r.ok) failed = true;
          results.set(`${n}/${kind.label}`, r);
          process.stdout.write(`${JSON.stringify(r)}\n`);
        } finally {
          await broker.stop();
        }
      }
    }
    const labels = kinds.map((k) => k.label);
    const lines = [`### Throughput against ${TITLES[curve]}`, '', `| ${TITLES[curve]} | ${labels.map((l) => `${l} msg/s | ${l} p50 ms`).join(' | ')}${labels.length > 1 ? ` | ${labels[0]} ÷ ${labels[1]}` : ''} |`,
      `|---:|${labels.map(() => '---:|---:').join('|')}${labels.length > 1 ? '|---:' : ''}|`];
    for (const n of CURVES[/** @type {keyof CURVES} */ (curve)]) {
      const cells = labels.map((l) => {
        const r = results.get(`${n}/${l}`);
        if (!r) return '– | –';
        if (r.skipped) return `skipped (${r.skipped}) | –`;
        if (!r.ok) return `FAILED: ${(r.errors ?? []).join('; ').slice(0, 80)} | –`;
        return `${r.msgs_per_s.toLocaleString('en-US')}${curve === 'size' ? ` (${r.mb_per_s} MB/s)` : ''} | ${r.latency_ms.p50}`;
      });
      const a = results.get(`${n}/${labels[0]}`);
      const b = labels.length > 1 ? results.get(`${n}/${labels[1]}`) : undefined;
      const ratio = a?.ok && b?.ok && b.msgs_per_s > 0 ? (a.msgs_per_s / b.msgs_per_s).toFixed(2) : '';
      lines.push(`| ${n.toLocaleString('en-US')} | ${cells.join(' | ')}${labels.length > 1 ? ` | ${ratio}` : ''} |`);
    }
    tables.push(lines.join('\n'));
  }
  process.stdout.write(`\n${tables.join('\n\n')}\n\n(${o.seconds} s measured per point after ${o.warmup} s of warm-up)\n`);
  return failed ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    process.stderr.write(`scaling: ${err.message}\n`);
    process.exitCode = 2;
  },
);
