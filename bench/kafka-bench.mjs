/**
 * The Kafka path beside Warren's own AMQP stream path (and RabbitMQ 3.10 streams over AMQP),
 * in one sitting, 100 B and 1 KiB records:
 *
 *   kafkajs-produce   kafkajs producer, acks=all, sends of --batch records, --in-flight sends at
 *                     once: MB/s and p50/p99 latency of a send (a whole produce request). The
 *                     defaults (100 × 10) keep 1,000 records outstanding, as --window does for AMQP
 *   kafkajs-produce-nodelay (--kafkajs-nodelay) the same with TCP_NODELAY on kafkajs' sockets (its
 *                     `socketFactory`): kafkajs leaves Nagle on, so a request's last segment can wait
 *                     for the broker's delayed ACK while the broker has nothing to answer yet
 *   kafkajs-ceiling   (--ceiling) the same producer against a trivial responder that stores
 *                     nothing (bench/lib/kafka-trivial-responder.mjs): kafkajs' own ceiling now
 *   kafkajs-fetch     a kafkajs consumer group reads the topic from the beginning: MB/s
 *   kcat-produce      kcat (librdkafka) -P with acks=all, lines on stdin: MB/s (process start
 *                     included; librdkafka batches by itself, no per-request latency here)
 *   kcat-fetch        kcat -C from the beginning to the end: MB/s
 *   amqp-produce      amqplib confirm channel into a stream queue, --window unconfirmed messages:
 *                     MB/s and p50/p99 publish → confirm latency of a message
 *   amqp-consume      amqplib consumer from `first`, prefetch 1000: MB/s
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/warren-build
 *   node bench/kafka-bench.mjs --warren-build /tmp/warren-build [--records 200000] [--rabbitmq] [--rounds 3] [--label <commit>]
 *
 * Warren runs from the build in its own process (bench/stream-server.mjs --kafka); --rabbitmq
 * starts a private RabbitMQ node (bench/lib/rabbitmq-node.mjs) for the AMQP rows. One JSON line
 * per measurement on stdout and in --out (default bench/results/kafka-<date>.jsonl), with the
 * broker's CPU time for the row (brokerCpuMs, from /proc/<pid>/stat: Warren's process, RabbitMQ's
 * Erlang VM) — on a loaded machine CPU per MB says more than MB/s. --rounds repeats every row in
 * the same sitting (same brokers), so medians and ratios come from one sitting. Every row also
 * records the client side's CPU (this process, plus kcat's as a waited-for child) as clientCpuMs
 * and clientCpuPct / brokerCpuPct of the row's wall time. --only <keys> runs some rows
 * (kafkajs-produce, kafkajs-produce-nodelay, kafkajs-ceiling, kafkajs-fetch, kcat-produce, kcat-fetch, amqp-produce,
 * amqp-consume); --broker-prof <dir> writes a V8 CPU profile of Warren there.
 */
import { fork, spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { LatencyHistogram } from './lib/histogram.mjs';
import { startRabbitmqNode } from './lib/rabbitmq-node.mjs';

const { values } = parseArgs({
  options: {
    'warren-build': { type: 'string' },
    records: { type: 'string', default: '200000' },
    sizes: { type: 'string', default: '100,1024' },
    batch: { type: 'string', default: '100' },
    'in-flight': { type: 'string', default: '10' },
    ceiling: { type: 'boolean', default: false },
    // one more kafkajs produce row whose sockets set TCP_NODELAY (kafkajs leaves Nagle on)
    'kafkajs-nodelay': { type: 'boolean', default: false },
    window: { type: 'string', default: '1000' },
    rabbitmq: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    label: { type: 'string', default: '' },
    // only these rows ('kafkajs-produce,kafkajs-fetch,kcat-produce,kcat-fetch,amqp-produce,amqp-consume')
    only: { type: 'string', default: '' },
    // write a V8 CPU profile of the Warren process into this directory (node --cpu-prof)
    'broker-prof': { type: 'string', default: '' },
    out: { type: 'string', default: `bench/results/kafka-${new Date().toISOString().slice(0, 10)}.jsonl` },
  },
});
const N = Number(values.records);
const BATCH = Number(values.batch);
const IN_FLIGHT = Number(values['in-flight']);
const WINDOW = Number(values.window);
const log = (s) => process.stderr.write(`${s}\n`);

function emit(row) {
  const line = JSON.stringify({ time: new Date().toISOString(), load: loadavg().map((l) => Number(l.toFixed(2))), records: N, batch: BATCH, inFlight: IN_FLIGHT, window: WINDOW, ...(values.label ? { label: values.label } : {}), ...row });
  process.stdout.write(`${line}\n`);
  appendFileSync(values.out, `${line}\n`);
}

const mbps = (bytes, ms) => Number((bytes / 1e6 / (ms / 1000)).toFixed(2));

/** CPU milliseconds (user + system) the process `pid` has used so far (/proc/<pid>/stat, clock ticks of 10 ms) */
function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * CPU milliseconds of the client side so far: this process (kafkajs, amqplib) plus its waited-for
 * children (kcat), from /proc/self/stat (utime, stime, cutime, cstime).
 */
function clientCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10;
}

function startWarren(build) {
  const server = fileURLToPath(new URL('./stream-server.mjs', import.meta.url));
  return new Promise((resolve, reject) => {
    const prof = values['broker-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['broker-prof']] : [];
    const child = spawn(process.execPath, [...prof, server, '--build', build, '--kafka'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const k = /kafka (\d+)/.exec(out);
      const a = /ready (\d+)/.exec(out);
      if (k && a) resolve({ child, kafka: `127.0.0.1:${k[1]}`, amqp: `amqp://guest:guest@127.0.0.1:${a[1]}` });
    });
    child.on('exit', (code) => reject(new Error(`warren exited ${code}`)));
  });
}

/** kafkajs' own socket factory plus setNoDelay: what a user passes as `socketFactory` to turn Nagle off */
function noDelaySockets({ host, port, onConnect }) {
  const socket = connect({ host, port }, onConnect);
  socket.setKeepAlive(true, 60_000);
  socket.setNoDelay(true);
  return socket;
}

function kafkajsClient(brokers, noDelay = false) {
  return new Kafka({ clientId: 'bench', brokers: [brokers], logLevel: logLevel.NOTHING, ...(noDelay ? { socketFactory: noDelaySockets } : {}) });
}

async function kafkajsProduce(brokers, topic, size, noDelay = false) {
  const kafka = kafkajsClient(brokers, noDelay);
  const producer = kafka.producer();
  await producer.connect();
  const value = Buffer.alloc(size, 'x');
  const hist = new LatencyHistogram();
  let sent = 0;
  const start = performance.now();
  const worker = async () => {
    while (sent < N) {
      const n = Math.min(BATCH, N - sent);
      sent += n;
      const t = performance.now();
      await producer.send({ topic, acks: -1, messages: Array.from({ length: n }, () => ({ value })) });
      hist.recordMs(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const ms = performance.now() - start;
  await producer.disconnect();
  return { MBps: mbps(N * size, ms), p50Ms: hist.percentileMs(50), p99Ms: hist.percentileMs(99) };
}

async function kafkajsFetch(brokers, topic, size) {
  const kafka = kafkajsClient(brokers);
  const consumer = kafka.consumer({ groupId: `bench-${topic}-${Date.now()}`, maxBytesPerPartition: 4 * 1024 * 1024, maxBytes: 16 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let got = 0;
  const start = performance.now();
  await new Promise((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          got += batch.messages.length;
          if (got >= N) resolve();
        },
      })
      .catch(reject);
  });
  const ms = performance.now() - start;
  await consumer.disconnect();
  return { MBps: mbps(N * size, ms) };
}

function run(cmd, args, input) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`))));
    if (input) {
      const write = (i) => {
        while (i < input.length) {
          if (!p.stdin.write(input[i++])) return p.stdin.once('drain', () => write(i));
        }
        p.stdin.end();
      };
      write(0);
    } else p.stdin.end();
  });
}

async function kcatProduce(brokers, topic, size) {
  const line = Buffer.alloc(size, 'y');
  line[size - 1] = 0x0a;
  const chunks = [];
  for (let i = 0; i < N; i += 1000) chunks.push(Buffer.concat(Array.from({ length: Math.min(1000, N - i) }, () => line)));
  const start = performance.now();
  await run('kcat', ['-b', brokers, '-t', topic, '-P', '-X', 'acks=all', '-X', 'linger.ms=5'], chunks);
  return { MBps: mbps(N * size, performance.now() - start) };
}

async function kcatFetch(brokers, topic, size) {
  const start = performance.now();
  await run('kcat', ['-b', brokers, '-t', topic, '-C', '-o', 'beginning', '-e', '-q', '-c', String(N), '-X', 'fetch.max.bytes=16777216']);
  return { MBps: mbps(N * size, performance.now() - start) };
}

async function amqpProduce(url, queue, size) {
  const conn = await amqp.connect(url);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'stream' } });
  const body = Buffer.alloc(size, 'z');
  const hist = new LatencyHistogram();
  const start = performance.now();
  await new Promise((resolve, reject) => {
    let sent = 0;
    let confirmed = 0;
    let outstanding = 0;
    const pump = () => {
      while (sent < N && outstanding < WINDOW) {
        sent++;
        outstanding++;
        const t = performance.now();
        ch.sendToQueue(queue, body, { persistent: true }, (err) => {
          if (err) return reject(err);
          hist.recordMs(performance.now() - t);
          outstanding--;
          if (++confirmed === N) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  const ms = performance.now() - start;
  await conn.close();
  return { MBps: mbps(N * size, ms), p50Ms: hist.percentileMs(50), p99Ms: hist.percentileMs(99) };
}

async function amqpConsume(url, queue, size) {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.prefetch(1000);
  let got = 0;
  const start = performance.now();
  await new Promise((resolve) => {
    void ch.consume(
      queue,
      (m) => {
        if (!m) return;
        if (++got % 500 === 0 || got === N) ch.ack(m, true);
        if (got === N) resolve();
      },
      { arguments: { 'x-stream-offset': 'first' } },
    );
  });
  const ms = performance.now() - start;
  await conn.close();
  return { MBps: mbps(N * size, ms) };
}

const only = new Set(values.only.split(',').filter(Boolean));
const build = values['warren-build'];
if (!build) throw new Error('--warren-build is required (npx tsc -p tsconfig.json --outDir /tmp/warren-build)');
const warren = await startWarren(build);
const responder = values.ceiling ? fork(fileURLToPath(new URL('./lib/kafka-trivial-responder.mjs', import.meta.url)), [build]) : null;
const responderPort = responder ? await new Promise((res) => responder.once('message', (m) => res(m.port))) : 0;
const rabbit = values.rabbitmq ? await startRabbitmqNode('kafkabench') : null;
try {
  for (let round = 1; round <= Number(values.rounds); round++) for (const size of values.sizes.split(',').map(Number)) {
    const tag = `${size}-${Date.now()}`;
    // the broker's CPU per MB moved beside MB/s: on a shared, loaded machine it says more than the rate
    const row = async (broker, pid, client, test, run) => {
      const kind = test.includes('trivial') ? 'ceiling' : test.includes('nodelay') ? 'produce-nodelay' : test.includes('produce') || test.includes('publish') ? 'produce' : test === 'fetch' ? 'fetch' : 'consume';
      const key = `${client === 'amqplib' ? 'amqp' : client}-${kind}`;
      if (only.size > 0 && !only.has(key)) return;
      const cpu0 = cpuMsOf(pid);
      const client0 = clientCpuMs();
      const t0 = performance.now();
      const r = await run();
      const wallMs = performance.now() - t0;
      const brokerCpuMs = cpuMsOf(pid) - cpu0;
      const clientMs = clientCpuMs() - client0;
      const result = {
        ...r,
        brokerCpuMs,
        brokerCpuMsPerMB: Number((brokerCpuMs / ((N * size) / 1e6)).toFixed(2)),
        // the client's CPU over the row's wall time: near 100 % the client is the ceiling
        clientCpuMs: clientMs,
        clientCpuPct: Math.round((clientMs / wallMs) * 100),
        brokerCpuPct: Math.round((brokerCpuMs / wallMs) * 100),
      };
      emit({ round, broker, client, test, size, ...result });
      log(`${broker} ${client} ${test} ${size} B: ${JSON.stringify(result)}`);
    };
    const w = warren.child.pid;
    if (responder) await row('trivial-responder', responder.pid, 'kafkajs', 'produce-trivial-responder', () => kafkajsProduce(`127.0.0.1:${responderPort}`, `kjs-${tag}`, size));
    await row('warren', w, 'kafkajs', 'produce-acks-all', () => kafkajsProduce(warren.kafka, `kjs-${tag}`, size));
    await row('warren', w, 'kafkajs', 'fetch', () => kafkajsFetch(warren.kafka, `kjs-${tag}`, size));
    if (values['kafkajs-nodelay']) await row('warren', w, 'kafkajs', 'produce-acks-all-nodelay', () => kafkajsProduce(warren.kafka, `kjsnd-${tag}`, size, true));
    await row('warren', w, 'kcat', 'produce-acks-all', () => kcatProduce(warren.kafka, `kcat-${tag}`, size));
    await row('warren', w, 'kcat', 'fetch', () => kcatFetch(warren.kafka, `kcat-${tag}`, size));
    await row('warren', w, 'amqplib', 'stream-publish-confirm', () => amqpProduce(warren.amqp, `amqp-${tag}`, size));
    await row('warren', w, 'amqplib', 'stream-consume', () => amqpConsume(warren.amqp, `amqp-${tag}`, size));
    if (rabbit) {
      await row(`rabbitmq-${rabbit.version}`, rabbit.pid, 'amqplib', 'stream-publish-confirm', () => amqpProduce(rabbit.url, `amqp-${tag}`, size));
      await row(`rabbitmq-${rabbit.version}`, rabbit.pid, 'amqplib', 'stream-consume', () => amqpConsume(rabbit.url, `amqp-${tag}`, size));
    }
  }
} finally {
  warren.child.kill('SIGTERM');
  responder?.kill('SIGTERM');
  await rabbit?.stop();
}
