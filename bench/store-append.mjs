/**
 * Micro-benchmark of the message journal's append path: publishers appending persistent
 * messages and waiting for them to be durable (what publisher confirms wait for), with
 * group commit doing one gather write + one fdatasync per batch.
 *
 *   npm run build && node bench/store-append.mjs [--seconds 5] [--sizes 128,4096]
 *        [--durability fsync|write] [--window 4096] [--per-turn 256] [--queues 4] [--dir DIR]
 *
 * --window     appends not yet durable, at most (publishers with confirms in flight)
 * --per-turn   appends per event-loop turn (messages decoded from one socket read)
 * --build      the compiled project (default: dist/, or $WARREN_BUILD)
 *
 * Prints, per record size: appends/s, fsyncs/s, records per fsync, MB/s of journal writes,
 * and append → durable latency percentiles; then one JSON line per size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '128,4096' },
    durability: { type: 'string', default: 'fsync' },
    window: { type: 'string', default: '4096' },
    'per-turn': { type: 'string', default: '256' },
    queues: { type: 'string', default: '4' },
    dir: { type: 'string' },
    build: { type: 'string' },
  },
});

const build = resolve(args.build ?? process.env.WARREN_BUILD ?? join(import.meta.dirname, '..', 'dist'));
/** @type {any} */
const { FileStore } = await import(pathToFileURL(join(build, 'src', 'store', 'file-store.js')).href);

const seconds = Number(args.seconds);
const window = Number(args.window);
const perTurn = Number(args['per-turn']);
const queues = Number(args.queues);

/**
 * @param {number} size
 * @returns {Promise<Record<string, number | string>>}
 */
async function run(size) {
  const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'warren-bench-'));
  const store = await FileStore.open({ dir, durability: args.durability, log: () => {} });
  const body = Buffer.alloc(size, 0x61);
  const properties = Buffer.from([0x10, 0x00, 0x02]); // content-header flags: delivery-mode 2
  const seqs = new Array(queues).fill(0);
  let inFlight = 0;
  let confirmed = 0;
  let appended = 0;
  const listener = {
    onDurable() {
      inFlight--;
      confirmed++;
    },
  };
  const until = performance.now() + seconds * 1000;
  await new Promise((done) => {
    const turn = () => {
      if (performance.now() >= until) return done(undefined);
      for (let i = 0; i < perTurn && inFlight < window; i++) {
        const q = appended % queues;
        const message = { exchange: 'bench', routingKey: 'k', body, publishedAt: Date.now(), priority: 0 };
        const lsn = store.appendMessage(message, properties, 0, [q + 1], [++seqs[q]], 1);
        store.whenDurable(lsn, listener, 0);
        inFlight++;
        appended++;
      }
      setImmediate(turn);
    };
    turn();
  });
  await store.flush();
  const m = store.metrics();
  await store.close();
  if (!args.dir) rmSync(dir, { recursive: true, force: true });
  return {
    size,
    durability: String(args.durability),
    appendsPerSec: Math.round(confirmed / seconds),
    fsyncsPerSec: Math.round(m.fsyncs / seconds),
    recordsPerFlush: Math.round(m.batchRecords.mean),
    journalMBps: Math.round((m.journalBytesWritten / seconds / 1e6) * 10) / 10,
    commitP50us: Math.round(m.commitMicros.p50),
    commitP99us: Math.round(m.commitMicros.p99),
    fsyncP50us: Math.round(m.fsyncMicros.p50),
    fsyncP99us: Math.round(m.fsyncMicros.p99),
  };
}

const results = [];
for (const size of args.sizes.split(',').map(Number)) results.push(await run(size));
const cols = Object.keys(results[0]);
process.stdout.write(`| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|\n`);
for (const r of results) process.stdout.write(`| ${cols.map((c) => r[c]).join(' | ')} |\n`);
process.stdout.write('\n');
for (const r of results) process.stdout.write(`${JSON.stringify({ bench: 'store-append', ...r })}\n`);
