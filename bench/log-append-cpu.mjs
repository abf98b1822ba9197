/**
 * CPU per appended record in the store's two logs, on the library alone (no broker, no
 * sockets): a vhost journal (FileStore.appendMessage + whenDurable) and a stream log
 * (StreamLog.append + whenCommitted), 256 appends per event-loop turn, everything confirmed.
 * CPU time (user + system) rather than throughput, so two builds can be compared on a loaded
 * machine: run it alternately for each build.
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/build-x
 *   node bench/log-append-cpu.mjs --build /tmp/build-x --label x [--records 200000] [--size 128]
 *        [--durability fsync|write] [--out bench/results/<file>.jsonl]
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    build: { type: 'string', default: 'dist' },
    label: { type: 'string', default: '' },
    records: { type: 'string', default: '200000' },
    size: { type: 'string', default: '128' },
    durability: { type: 'string', default: 'fsync' },
    out: { type: 'string' },
  },
});
const build = resolve(String(args.build));
const load = (p) => import(pathToFileURL(join(build, 'src', 'store', p)).href);
const { FileStore } = await load('file-store.js');
const { StreamStore } = await load('stream/stream-store.js');
const n = Number(args.records);
const body = Buffer.alloc(Number(args.size), 1);
const properties = Buffer.from('p'.repeat(20));
const turn = () => new Promise((r) => setImmediate(r));

async function measure(name, append) {
  let confirmed = 0;
  let done = () => {};
  const finished = new Promise((r) => (done = r));
  const listener = { onDurable: () => void (++confirmed === n && done()) };
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    append(i, listener);
    if ((i & 255) === 255) await turn();
  }
  await finished;
  const c = process.cpuUsage(c0);
  const line = JSON.stringify({
    bench: 'log-append-cpu',
    time: new Date().toISOString(),
    label: args.label,
    log: name,
    durability: args.durability,
    records: n,
    size: body.length,
    cpu_us_per_record: Number(((c.user + c.system) / n).toFixed(3)),
    wall_ms: Math.round(performance.now() - t0),
    load1: Number(loadavg()[0].toFixed(1)),
  });
  console.log(line);
  if (args.out) appendFileSync(args.out, line + '\n');
}

const dir = mkdtempSync(join(tmpdir(), 'warren-log-append-'));
try {
  const store = await FileStore.open({ dir: join(dir, 'vhost'), durability: args.durability, log: () => {} });
  const message = { exchange: '', routingKey: 'q', body, publishedAt: Date.now(), priority: 0 };
  const ids = [1];
  const seqs = [0];
  await measure('journal', (i, listener) => {
    seqs[0] = i + 1;
    store.whenDurable(store.appendMessage(message, properties, 0, ids, seqs, 1), listener, i);
  });
  await store.close();
  const streams = new StreamStore({ dir: join(dir, 'streams'), durability: args.durability, offsets: null });
  await streams.recover(new Map());
  const log = streams.create(1, { maxSegmentSize: 64 << 20, retention: { maxBytes: -1, maxAgeMs: -1 }, maxSegmentAgeMs: 3_600_000, compaction: null });
  const now = Date.now();
  await measure('stream', (i, listener) => log.whenCommitted(log.append('', 'k', properties, body, null, 0, now), listener, i));
  await streams.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
