/**
 * Crash test of the message store: a child process appends persistent messages to several
 * queues (some fanned out to two), waits for them to be durable, consumes and acks from the
 * head — and is killed with SIGKILL at a random moment. The next child recovers the store,
 * checks every body and the redelivered flags, and reports what it found; this script checks
 * that against the ledger of the killed child:
 *   - every message confirmed durable and not acked is present (per queue, in seq order);
 *   - nothing is corrupt; everything recovered after a kill is flagged redelivered;
 *   - acked messages that come back (their ACK was not yet durable) are counted and reported
 *     as duplicates — allowed: at-least-once.
 *
 *   npm run build && node bench/store-crash.mjs [--cycles 20] [--queues 4] [--min-ms 100]
 *        [--max-ms 1500] [--durability fsync|write] [--segment-kib 256] [--seed N] [--dir DIR]
 *
 * The child writes its ledger with synchronous file writes (they survive SIGKILL): an ack is
 * logged *before* it is made, a confirmation *after* the store reported it durable, so the
 * ledger never claims more than happened. Exit status 0 when every cycle passed; the last
 * stdout line is a JSON summary. test/store/crash.test.ts runs a short form in CI.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    verify: { type: 'boolean', default: false },
    cycles: { type: 'string', default: '20' },
    queues: { type: 'string', default: '4' },
    'min-ms': { type: 'string', default: '100' },
    'max-ms': { type: 'string', default: '1500' },
    durability: { type: 'string', default: 'fsync' },
    'segment-kib': { type: 'string', default: '256' },
    seed: { type: 'string' },
    dir: { type: 'string' },
    ledger: { type: 'string' },
    build: { type: 'string' },
  },
});

const build = resolve(args.build ?? process.env.WARREN_BUILD ?? join(import.meta.dirname, '..', 'dist'));
const queues = Number(args.queues);

/** The body of message `seq` of queue `q` (fan-out copies carry the first queue's numbers). */
function bodyOf(/** @type {number} */ q, /** @type {number} */ seq) {
  const head = `${q}:${seq}:`;
  return Buffer.from(head + String.fromCharCode(97 + ((q + seq) % 26)).repeat(40 + ((seq * 31) % 400)));
}

/** "1-5,7,9-10" for sorted numbers */
function toRanges(/** @type {number[]} */ xs) {
  /** @type {string[]} */
  const out = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    out.push(i === j ? `${xs[i]}` : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** @returns {number[]} */
function fromRanges(/** @type {string} */ s) {
  /** @type {number[]} */
  const out = [];
  if (s === '') return out;
  for (const part of s.split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let x = a; x <= (b ?? a); x++) out.push(x);
  }
  return out;
}

// ---- child: recover, verify, then work until killed -------------------------------------------

async function child() {
  /** @type {any} */
  const { FileStore } = await import(pathToFileURL(join(build, 'src', 'store', 'file-store.js')).href);
  const ledger = openSync(String(args.ledger), 'a');
  const log = (/** @type {string} */ line) => writeSync(ledger, `${line}\n`);
  const store = await FileStore.open({
    dir: String(args.dir),
    durability: args.durability,
    segmentSize: Number(args['segment-kib']) * 1024,
    reclaim: { intervalMs: 50, idleRolloverMs: 200, compactMinAgeMs: 100, compactLagSegments: 1, compactMinBytes: 16 * 1024 },
    log: (/** @type {string} */ level, /** @type {string} */ message) => log(`L ${level} ${message.replace(/\n/g, ' ')}`),
  });
  const readAll = (/** @type {number} */ q) =>
    new Promise((res, rej) =>
      store.read({ queueId: q, afterSeq: 0, maxCount: 1e9 }, { onMessages: (/** @type {number} */ _t, /** @type {any[]} */ ms, /** @type {Error|null} */ e) => (e ? rej(e) : res(ms)) }, 0),
    );
  let bad = 0;
  for (let q = 1; q <= queues; q++) {
    /** @type {any[]} */
    const ms = /** @type {any} */ (await readAll(q));
    const seqs = [];
    for (const m of ms) {
      seqs.push(m.seq);
      const origin = Number(m.body.toString('latin1', 0, 12).split(':')[0]);
      const originSeq = Number(m.body.toString('latin1', 0, 24).split(':')[1]);
      if (!m.body.equals(bodyOf(origin, originSeq))) bad++;
      if (!m.redelivered && store.recovery.uncleanShutdown) bad++;
    }
    for (let i = 1; i < seqs.length; i++) if (seqs[i] <= seqs[i - 1]) bad++;
    log(`R ${q} ${toRanges(seqs)}`);
  }
  log(`BAD ${bad}`);
  log(`REPORT ${JSON.stringify({ truncated: store.recovery.truncated, damaged: store.recovery.damaged, messages: store.recovery.messages, millis: Math.round(store.recovery.millis) })}`);
  if (args.verify) {
    await store.close();
    closeSync(ledger);
    return;
  }
  process.stdout.write('ready\n');

  const next = Array.from({ length: queues + 1 }, (_, q) => store.nextSeq(q));
  /** head of each queue: the highest seq consumed (acked) so far */
  const consumed = new Array(queues + 1).fill(0);
  /** per queue, the highest seq confirmed durable but not yet logged */
  const confirmedMax = new Array(queues + 1).fill(0);
  const reading = new Array(queues + 1).fill(false);
  let dirty = false;
  // token = queue * 2^32 + seq
  const listener = {
    onDurable(/** @type {number} */ token, /** @type {Error|null} */ e) {
      if (e) return;
      const q = Math.floor(token / 2 ** 32);
      const seq = token % 2 ** 32;
      if (seq > confirmedMax[q]) confirmedMax[q] = seq;
      dirty = true;
    },
  };
  const logConfirms = () => {
    if (!dirty) return;
    dirty = false;
    for (let q = 1; q <= queues; q++) if (confirmedMax[q] > 0) log(`C ${q} ${confirmedMax[q]}`);
  };
  // logged as soon as a group commit released its waiters
  store.onDurable(logConfirms);
  const turn = () => {
    for (let i = 0; i < 48; i++) {
      const q = 1 + (i % queues);
      const fan = i % 7 === 0 && queues > 1;
      const q2 = (q % queues) + 1;
      const qs = fan ? [q, q2] : [q];
      const seqs = fan ? [next[q]++, next[q2]++] : [next[q]++];
      const message = { exchange: 'x', routingKey: 'k', body: bodyOf(q, seqs[0]), publishedAt: Date.now(), priority: 0 };
      const lsn = store.appendMessage(message, Buffer.from([0x10, 0, 2]), 0, qs, seqs, qs.length);
      for (let k = 0; k < qs.length; k++) store.whenDurable(lsn, listener, qs[k] * 2 ** 32 + seqs[k]);
    }
    // consume from the head of queues that are behind by more than a few hundred
    for (let q = 1; q <= queues; q++) {
      if (reading[q] || next[q] - consumed[q] < 600) continue;
      reading[q] = true;
      store.read({ queueId: q, afterSeq: consumed[q], maxCount: 100 }, {
        onMessages(/** @type {number} */ _t, /** @type {any[]} */ ms) {
          reading[q] = false;
          if (ms.length === 0) return;
          const seqs = ms.map((m) => m.seq);
          log(`A ${q} ${toRanges(seqs)}`); // logged before it happens: the ledger never under-reports acks
          for (const s of seqs) store.ack(q, s);
          consumed[q] = seqs[seqs.length - 1];
        },
      }, 0);
    }
    setTimeout(turn, 1);
  };
  turn();
}

// ---- parent: spawn, kill, check --------------------------------------------------------------------

async function parent() {
  const cycles = Number(args.cycles);
  const minMs = Number(args['min-ms']);
  const maxMs = Number(args['max-ms']);
  let seed = Number(args.seed ?? Date.now() % 1e9);
  const firstSeed = seed;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'warren-crash-'));
  const work = mkdtempSync(join(tmpdir(), 'warren-crash-ledger-'));
  /** confirmed durable and not acked: must come back, per queue */
  const mustHave = Array.from({ length: queues + 1 }, () => new Set());
  const acked = Array.from({ length: queues + 1 }, () => new Set());
  const confirmedUpTo = new Array(queues + 1).fill(0);
  const totals = { cycles: 0, confirmed: 0, acked: 0, duplicates: 0, truncations: 0, truncatedBytes: 0, maxRecoveryMs: 0, failures: /** @type {string[]} */ ([]) };

  const runChild = (/** @type {number} */ cycle, /** @type {boolean} */ verify) => {
    const ledger = join(work, `ledger-${cycle}.log`);
    const argv = [import.meta.filename, '--child', '--dir', dir, '--ledger', ledger, '--build', build, '--queues', String(queues), '--durability', String(args.durability), '--segment-kib', String(args['segment-kib'])];
    if (verify) argv.push('--verify');
    const p = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = new Promise((res) => p.stdout.on('data', (d) => String(d).includes('ready') && res(undefined)));
    const exited = new Promise((res) => p.on('exit', (code, signal) => res({ code, signal })));
    return { p, ledger, ready, exited };
  };

  /** Check a child's recovery lines against the model; then fold its work into the model. */
  const check = (/** @type {number} */ cycle, /** @type {string} */ ledger) => {
    const lines = readFileSync(ledger, 'utf8').split('\n');
    for (const line of lines) {
      const [tag, a, b] = line.split(' ');
      if (tag === 'R') {
        const q = Number(a);
        const got = new Set(fromRanges(b ?? ''));
        for (const s of mustHave[q]) if (!got.has(s)) totals.failures.push(`cycle ${cycle}: queue ${q} lost confirmed seq ${s}`);
        for (const s of got) if (acked[q].has(s)) totals.duplicates++;
      } else if (tag === 'BAD' && a !== '0') totals.failures.push(`cycle ${cycle}: ${a} corrupt, out-of-order or unflagged messages`);
      else if (tag === 'REPORT') {
        const r = JSON.parse(line.slice(7));
        totals.truncations += r.truncated.length;
        for (const t of r.truncated) totals.truncatedBytes += t.bytes;
        totals.maxRecoveryMs = Math.max(totals.maxRecoveryMs, r.millis);
        if (r.damaged.length > 0) totals.failures.push(`cycle ${cycle}: damaged sealed segments ${JSON.stringify(r.damaged)}`);
      } else if (tag === 'C') {
        const q = Number(a);
        for (let s = confirmedUpTo[q] + 1; s <= Number(b); s++) {
          if (!acked[q].has(s)) mustHave[q].add(s);
          totals.confirmed++;
        }
        confirmedUpTo[q] = Math.max(confirmedUpTo[q], Number(b));
      } else if (tag === 'A') {
        const q = Number(a);
        for (const s of fromRanges(b)) {
          acked[q].add(s);
          mustHave[q].delete(s);
          totals.acked++;
        }
      }
    }
  };

  for (let cycle = 1; cycle <= cycles; cycle++) {
    const c = runChild(cycle, false);
    await c.ready;
    await new Promise((res) => setTimeout(res, minMs + random() * (maxMs - minMs)));
    c.p.kill('SIGKILL');
    const { signal } = /** @type {{ signal: string }} */ (await c.exited);
    if (signal !== 'SIGKILL') totals.failures.push(`cycle ${cycle}: the child ended before the kill (${signal})`);
    check(cycle, c.ledger);
    totals.cycles++;
    process.stderr.write(`cycle ${cycle}: ${totals.confirmed} confirmed, ${totals.acked} acked, ${totals.duplicates} duplicates, ${totals.failures.length} failures\n`);
  }
  const v = runChild(cycles + 1, true);
  const { code } = /** @type {{ code: number }} */ (await v.exited);
  if (code !== 0) totals.failures.push(`verification run exited with ${code}`);
  check(cycles + 1, v.ledger);
  rmSync(work, { recursive: true, force: true });
  if (!args.dir) rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ bench: 'store-crash', seed: firstSeed, durability: args.durability, ...totals })}\n`);
  process.exitCode = totals.failures.length === 0 ? 0 : 1;
}

if (args.child) await child();
else await parent();
