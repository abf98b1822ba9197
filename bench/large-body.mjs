/**
 * One body larger than the broker should hold, through AMQP: Warren in its own process (a
 * build of this checkout), amqplib with publisher confirms, a durable queue, a body of
 * `--mib` MiB (256 by default) published once and consumed once, `--rounds` times, each round
 * on a fresh broker. Prints and appends one JSON line per round: publish-to-confirm and
 * publish-to-delivered times, MB/s, the broker's peak RSS (the larger of VmHWM at the end and
 * VmRSS sampled every 20 ms from /proc) and its CPU time. The same measurement as
 * test/plugins/amqp/huge-body.test.ts, kept as a results file.
 *
 *   node bench/large-body.mjs [--build <dir>] [--mib 256] [--rounds 2] [--label x] [--out bench/results/large-body-<date>.jsonl]
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { REPO, warrenBuild } from './lib/brokers.mjs';

const { values } = parseArgs({
  options: {
    build: { type: 'string' },
    mib: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '2' },
    label: { type: 'string', default: 'large-body' },
    out: { type: 'string', default: `bench/results/large-body-${new Date().toISOString().slice(0, 10)}.jsonl` },
  },
});
const MiB = 1024 * 1024;
const size = Number(values.mib) * MiB;
const build = warrenBuild(values.build);

/** @param {number} pid */
function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (/** @type {string} */ name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** @param {number} pid CPU seconds (user + system) of a process */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function body() {
  const unit = randomBytes(MiB);
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size / MiB; i++) {
    unit.copy(b, i * MiB);
    b.writeUInt32LE(i, i * MiB);
  }
  return b;
}

const sha = (/** @type {Buffer} */ b) => createHash('sha256').update(b).digest('hex');
const payload = body();
const expected = sha(payload);

for (let round = 1; round <= Number(values.rounds); round++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-large-body-'));
  const child = spawn(process.execPath, [join(REPO, 'bench', 'warren-server.mjs'), '--build', build, '--protocols', 'amqp', '--data-dir', dataDir, '--max-message-size', String(Math.max(size, 128 * MiB))], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /ready (\{.*\})/.exec(out);
      if (m) resolve(JSON.parse(m[1]).amqp);
    });
    child.once('exit', (code) => reject(new Error(`broker exited (${code})`)));
  });
  const pid = /** @type {number} */ (child.pid);
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, memory(pid).rss);
    } catch {}
  }, 20);
  const cpu0 = cpuSeconds(pid);
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue('large', { durable: true });
  const t0 = performance.now();
  await new Promise((resolve, reject) => ch.sendToQueue('large', payload, { persistent: true }, (e) => (e ? reject(e) : resolve(undefined))));
  const confirmed = performance.now() - t0;
  const got = await new Promise((resolve) => void ch.consume('large', (m) => m && resolve(m), { noAck: true }));
  const delivered = performance.now() - t0;
  clearInterval(sampler);
  const intact = got.content.length === size && sha(got.content) === expected;
  const { hwm } = memory(pid);
  const line = {
    bench: 'large-body',
    label: values.label,
    round,
    at: new Date().toISOString(),
    body_bytes: size,
    intact,
    confirm_ms: Math.round(confirmed),
    delivered_ms: Math.round(delivered),
    publish_mb_s: Math.round(size / 1e6 / (confirmed / 1000)),
    round_trip_mb_s: Math.round(size / 1e6 / (delivered / 1000)),
    broker_peak_rss_mib: Math.round((Math.max(peak, hwm) / MiB) * 10) / 10,
    broker_cpu_s: Math.round((cpuSeconds(pid) - cpu0) * 100) / 100,
    load_average_1m: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  appendFileSync(values.out, `${JSON.stringify(line)}\n`);
  await conn.close();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
