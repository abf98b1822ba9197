/**
 * Deep backlog and recovery of the message store, without a broker around it:
 *  1. a child process appends `--messages` persistent messages of `--size` bytes to `--queues`
 *     queues with nobody consuming (durable, in fsync mode), prints its RSS, and exits without
 *     closing the store — an unclean stop;
 *  2. a second child opens the store (timing recovery), then consumes every queue in order in
 *     windows of `--window` messages (positional reads, acks as it goes), checking order and
 *     content, and prints its RSS along the way.
 * The store keeps `--resident-chunks` index chunks per queue in memory and spills the rest,
 * so RSS should stay flat however deep the backlog.
 *
 *   npm run build && node bench/store-backlog.mjs [--messages 1000000] [--size 1024] [--queues 1]
 *        [--window 2000] [--resident-chunks 8] [--clean] [--dir DIR]
 *
 * --clean     close the store after filling (clean stop: the reopen loads the snapshot)
 *             instead of exiting without closing (unclean stop: the reopen scans the journal)
 *
 * Prints one JSON line: append rate, backlog bytes, recovery millis, consume rate, peak RSS of
 * both phases.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    phase: { type: 'string' },
    messages: { type: 'string', default: '1000000' },
    size: { type: 'string', default: '1024' },
    queues: { type: 'string', default: '1' },
    window: { type: 'string', default: '2000' },
    'resident-chunks': { type: 'string', default: '8' },
    clean: { type: 'boolean', default: false },
    dir: { type: 'string' },
    build: { type: 'string' },
  },
});
const build = resolve(args.build ?? process.env.WARREN_BUILD ?? join(import.meta.dirname, '..', 'dist'));
const messages = Number(args.messages);
const size = Number(args.size);
const queues = Number(args.queues);
const mib = (/** @type {number} */ n) => Math.round(n / 1048576);

/** deterministic body of message `seq` in queue `q` */
function bodyOf(/** @type {number} */ q, /** @type {number} */ seq) {
  const b = Buffer.alloc(size, 0x2e);
  b.write(`${q}:${seq}:`, 0, 'latin1');
  return b;
}

async function openStore() {
  /** @type {any} */
  const { FileStore } = await import(pathToFileURL(join(build, 'src', 'store', 'file-store.js')).href);
  return FileStore.open({ dir: String(args.dir), indexResidentChunks: Number(args['resident-chunks']), log: () => {} });
}

async function fill() {
  const store = await openStore();
  let peak = 0;
  const t0 = performance.now();
  const props = Buffer.from([0x10, 0, 2]);
  let inFlight = 0;
  const listener = { onDurable: () => void inFlight-- };
  for (let i = 0; i < messages; i++) {
    const q = 1 + (i % queues);
    const seq = 1 + Math.floor(i / queues);
    const lsn = store.appendMessage({ exchange: 'x', routingKey: 'k', body: bodyOf(q, seq), publishedAt: Date.now(), priority: 0 }, props, 0, [q], [seq], 1);
    store.whenDurable(lsn, listener, 0);
    inFlight++;
    // like publishers with a confirm window: do not run ahead of the disk
    if (inFlight >= 8192) {
      while (inFlight > 1024) await new Promise((r) => setImmediate(r));
      peak = Math.max(peak, process.memoryUsage().rss);
    }
  }
  await store.flush();
  const seconds = (performance.now() - t0) / 1000;
  const m = store.metrics();
  process.stdout.write(`${JSON.stringify({ appendsPerSec: Math.round(messages / seconds), diskMiB: mib(m.diskBytes), peakRssMiB: mib(peak), indexSpilled: m.indexEntriesSpilled })}\n`);
  if (args.clean) await store.close(); // a clean stop: the next open loads the snapshot
  process.exit(0); // otherwise no close: an unclean stop
}

async function drain() {
  const t0 = performance.now();
  const store = await openStore();
  const recoveryMillis = Math.round(performance.now() - t0);
  const fromSnapshot = store.recovery.fromSnapshot;
  const afterOpenRss = process.memoryUsage().rss;
  let peak = afterOpenRss;
  let bad = 0;
  const t1 = performance.now();
  let count = 0;
  for (let q = 1; q <= queues; q++) {
    let after = 0;
    for (;;) {
      /** @type {any[]} */
      const batch = await new Promise((res, rej) =>
        store.read({ queueId: q, afterSeq: after, maxCount: Number(args.window) }, { onMessages: (/** @type {number} */ _t, /** @type {any[]} */ ms, /** @type {Error|null} */ e) => (e ? rej(e) : res(ms)) }, 0),
      );
      if (batch.length === 0) break;
      for (const m of batch) {
        if (m.seq !== after + 1 || !m.body.equals(bodyOf(q, m.seq))) bad++;
        after = m.seq;
        store.ack(q, m.seq);
        count++;
      }
      if (count % 100000 < Number(args.window)) peak = Math.max(peak, process.memoryUsage().rss);
    }
  }
  await store.flush();
  const seconds = (performance.now() - t1) / 1000;
  const m = store.metrics();
  await store.close();
  process.stdout.write(
    `${JSON.stringify({ recoveryMillis, fromSnapshot, recovered: m.recovery.messages, consumed: count, outOfOrderOrCorrupt: bad, consumePerSec: Math.round(count / seconds), afterOpenRssMiB: mib(afterOpenRss), peakRssMiB: mib(peak) })}\n`,
  );
}

if (args.phase === 'fill') await fill();
else if (args.phase === 'drain') await drain();
else {
  const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'warren-backlog-'));
  const common = [...(args.clean ? ['--clean'] : []), '--dir', dir, '--build', build, '--messages', String(messages), '--size', String(size), '--queues', String(queues), '--window', String(args.window), '--resident-chunks', String(args['resident-chunks'])];
  const run = (/** @type {string} */ phase) => {
    const r = spawnSync(process.execPath, [import.meta.filename, '--phase', phase, ...common], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`${phase} failed with ${r.status}`);
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  };
  const filled = run('fill');
  const drained = run('drain');
  if (!args.dir) rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ bench: 'store-backlog', messages, size, queues, fill: filled, drain: drained })}\n`);
  process.exitCode = drained.outOfOrderOrCorrupt === 0 && drained.consumed === messages ? 0 : 1;
}
