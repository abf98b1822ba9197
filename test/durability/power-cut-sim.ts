/**
 * The power-cut simulation (docs/reliability.md "Power cuts"): the broker's core with its
 * real store on the simulated disk (test/helpers/sim-disk.ts), publishing on every core
 * publish path, cut at a random moment, recovered, and checked against a ledger of what was
 * confirmed — again and again, from one seed.
 *
 * Why in-process sessions and not sockets: a cut needs a restart, and thousands of them must
 * fit in seconds; and a seed must replay exactly, which real sockets (their chunking and
 * timing) would not allow. Everything here runs on one event loop with no timer in play (the
 * reclaimer's tick is off; reclaim runs at PRNG-chosen steps), the simulated disk completes
 * every call on a later `setImmediate` turn, so a run is a function of its seed. What each
 * protocol does with a confirm (AMQP basic.ack, MQTT PUBACK/PUBREC, STOMP RECEIPT) is checked
 * with real clients by test/durability/gated-confirms.test.ts; the core paths those confirms
 * come from are what this checks under power cuts.
 *
 * Paths: classic queue, priority queue, stream, key-compacted stream (the MQTT retained
 * store's kind: the newest confirmed value per key survives), delayed-message exchange,
 * dead-lettered on arrival (TTL 0), overflow drop-head into a dead-letter queue,
 * x-reply-on-failure request queue; acks from a consumer; reclaim (compaction) runs.
 *
 * The ledger, after each recovery:
 * - lost: a message confirmed before the cut and not found where its path puts it (consumed
 *   and acked messages, and requests a newer request dropped, are accounted for);
 * - order: per queue, one publisher's messages come back in publish order (per priority level
 *   in a priority queue);
 * - duplicated: a message found twice, or found again after its ack — allowed only when that
 *   ack was not yet durable at the cut (or a dead-letter copy whose removal from the source was
 *   not yet durable: dead-lettering is at-least-once); anything else is a failure.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Session, SessionHandler } from '../../src/core/api.js';
import { Core } from '../../src/core/core.js';
import { Message } from '../../src/core/message.js';
import type { MessageProperties } from '../../src/codec/types.js';
import { StreamQueue } from '../../src/core/queues/stream/stream-queue.js';
import type { FileStore } from '../../src/store/file-store.js';
import type { StoredMessage } from '../../src/store/message-store.js';
import { scanLogSync } from '../../src/store/stream/stream-scan.js';
import { createLogger } from '../../src/log/index.js';
import { Prng } from '../helpers/prng.js';
import { SimMachine } from '../helpers/sim-disk.js';

export interface SimOptions {
  seed: number;
  cuts: number;
  /** most steps of work between two cuts */
  maxSteps?: number;
  /** publish paths left out (to see which paths a failure needs); default none */
  skip?: string[];
}

export interface SimResult {
  seed: number;
  cuts: number;
  confirmed: number;
  lost: number;
  duplicated: number;
  reordered: number;
  /** records left out of the journal: consumed before their round was written */
  elided: number;
  /** failures, with enough to debug them */
  problems: string[];
  millis: number;
}

type Path = 'classic' | 'priority' | 'stream' | 'keyed' | 'delayed' | 'ttl0' | 'overflow' | 'rpc';
export const ALL_PATHS: Path[] = ['classic', 'priority', 'stream', 'keyed', 'delayed', 'ttl0', 'overflow', 'rpc'];
const PUBLISHERS = 2;
const KEYS = 4;

interface Sent {
  id: string;
  path: Path;
  publisher: number;
  /** per publisher and path, in publish order */
  n: number;
  priority: number;
  key: string;
  confirmed: boolean;
}

/** One broker life: a core on a mount of the machine, its sessions, and what they saw. */
class Life implements SessionHandler {
  readonly core: Core;
  readonly publishers: Session[] = [];
  consumer: Session | null = null;
  readonly tokens = new Map<number, Sent>();
  nextToken = 1;
  /** delivery tag → message id, for the consumer's acks */
  readonly delivered = new Map<number, string>();

  constructor(core: Core) {
    this.core = core;
  }

  deliver(_tag: string, deliveryTag: number, _redelivered: boolean, m: Message): void {
    this.delivered.set(deliveryTag, m.body.toString('latin1'));
  }
  consumerCancelled(): void {}
  returned(): void {}
  confirmed(token: number, ack: boolean): void {
    const s = this.tokens.get(token);
    this.tokens.delete(token);
    if (s && ack) s.confirmed = true;
  }
}

const quiet = createLogger({ level: 'error', output: { write: () => undefined } });

export async function runSimulation(o: SimOptions): Promise<SimResult> {
  const t0 = performance.now();
  const rng = new Prng(o.seed);
  // SQLite (out of the simulation) on tmpfs when there is one: its real fsyncs would dominate the run
  const dataDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'warren-sim-'));
  const machine = new SimMachine([dataDir]);
  const result: SimResult = { seed: o.seed, cuts: 0, confirmed: 0, lost: 0, duplicated: 0, reordered: 0, elided: 0, problems: [], millis: 0 };
  const maxSteps = o.maxSteps ?? 24;
  const paths = ALL_PATHS.filter((p) => !(o.skip ?? []).includes(p));
  let sent: Sent[] = [];
  const counters = new Map<string, number>();
  /** acks whose ACK record is durable (a flush after them completed) */
  let ackedDurable = new Set<string>();
  let ackedPending = new Set<string>();
  let life: Life | null = null;
  try {
    life = await open(machine, dataDir, true);
    for (let cut = 0; cut < o.cuts; cut++) {
      // ---- work ----
      const steps = 1 + rng.int(maxSteps);
      for (let step = 0; step < steps; step++) {
        const action = rng.int(10);
        if (action < 6) {
          const p = rng.int(PUBLISHERS);
          const path = rng.pick(paths);
          const k = `${p}:${path}`;
          const n = (counters.get(k) ?? 0) + 1;
          counters.set(k, n);
          const s: Sent = { id: `${cut}|${p}|${path}|${n}`, path, publisher: p, n, priority: rng.int(6), key: `k${rng.int(KEYS)}`, confirmed: false };
          sent.push(s);
          publish(life, s);
        } else if (action < 8) {
          // the consumer acks some of what it has
          const l = life;
          const tags = [...l.delivered.keys()].slice(0, 1 + rng.int(3));
          const acked: string[] = [];
          for (const t of tags) {
            acked.push(l.delivered.get(t) as string);
            l.delivered.delete(t);
            l.consumer?.ack(t, false);
          }
          for (const id of acked) ackedPending.add(id);
          void store(l).flush().then(
            () => {
              for (const id of acked) {
                ackedPending.delete(id);
                ackedDurable.add(id);
              }
            },
            () => undefined,
          );
        } else if (action === 8) {
          void store(life).reclaimNow().catch(() => undefined);
        }
        // let the store run: one or more turns of the event loop
        const turns = rng.int(4);
        for (let t = 0; t < turns; t++) await new Promise((r) => setImmediate(r));
      }
      // ---- the cut ----
      const confirmedAtCut = sent.filter((s) => s.confirmed);
      const durableAcks = new Set(ackedDurable);
      const pendingAcks = new Set(ackedPending);
      machine.powerCut(rng);
      result.cuts++;
      result.elided += store(life).metrics().elided.records;
      await kill(life);
      life = await open(machine, dataDir, false);
      // ---- the ledger ----
      await check(life, sent, confirmedAtCut, durableAcks, pendingAcks, result, cut, o.seed);
      result.confirmed += confirmedAtCut.length;
      if (result.problems.length > 0) break;
      // start the next round from empty queues (purges made durable): old ids are not expected again
      await reset(life);
      sent = [];
      ackedDurable = new Set();
      ackedPending = new Set();
    }
  } finally {
    if (life) await kill(life);
    rmSync(dataDir, { recursive: true, force: true });
  }
  result.millis = Math.round(performance.now() - t0);
  return result;
}

function store(l: Life): FileStore {
  return l.core.vhosts.get('/')!.store!.messages as FileStore;
}

async function open(machine: SimMachine, dataDir: string, declare: boolean): Promise<Life> {
  const core = new Core({ log: quiet });
  // elideMinBytes 0: any record consumed before its round is left out (src/store/elision.ts)
  await core.openStore(dataDir, { disk: machine.mount(), segmentSize: 64 * 1024, elideMinBytes: 0, reclaim: { intervalMs: 3_600_000, idleRolloverMs: 3_600_000 } });
  const l = new Life(core);
  const conn = core.connect({ protocol: 'sim', vhost: '/', user: 'guest', peerHost: '127.0.0.1', peerPort: 1 });
  for (let i = 0; i < PUBLISHERS; i++) l.publishers.push(conn.openSession(l));
  const s = l.publishers[0];
  if (declare) {
    const durable = { durable: true, exclusive: false, autoDelete: false, passive: false };
    s.declareQueue('classic', { ...durable, arguments: {} });
    s.declareQueue('priority', { ...durable, arguments: { 'x-max-priority': 5 } });
    s.declareQueue('stream', { ...durable, arguments: { 'x-queue-type': 'stream' } });
    s.declareQueue('keyed', { ...durable, arguments: { 'x-queue-type': 'stream', 'x-stream-compaction': 'key', 'x-stream-compaction-key-header': 'k' } });
    s.declareExchange('delayed', 'x-delayed-message', { durable: true, autoDelete: false, internal: false, passive: false, arguments: { 'x-delayed-type': 'direct' } });
    s.declareQueue('delayed-target', { ...durable, arguments: {} });
    s.bindQueue('delayed-target', 'delayed', 'k');
    s.declareQueue('dlq-ttl', { ...durable, arguments: {} });
    s.declareQueue('ttl0', { ...durable, arguments: { 'x-message-ttl': 0, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq-ttl' } });
    s.declareQueue('dlq-overflow', { ...durable, arguments: {} });
    s.declareQueue('overflow', { ...durable, arguments: { 'x-max-length': 2, 'x-overflow': 'drop-head', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq-overflow' } });
    s.declareQueue('replies', { ...durable, arguments: {} });
    s.declareQueue('rpc', { ...durable, arguments: { 'x-max-length': 1, 'x-reply-on-failure': true } });
  }
  l.consumer = conn.openSession(l);
  l.consumer.qos(20, false);
  l.consumer.consume('classic', { consumerTag: 'c', noAck: false, exclusive: false, arguments: {} });
  return l;
}

function publish(l: Life, s: Sent): void {
  const session = l.publishers[s.publisher];
  const token = l.nextToken++;
  l.tokens.set(token, s);
  const body = Buffer.from(s.id, 'latin1');
  const props: Record<string, unknown> = { deliveryMode: 2 };
  let exchange = '';
  let rk: string = s.path;
  if (s.path === 'priority') props.priority = s.priority;
  if (s.path === 'keyed') props.headers = { k: s.key };
  if (s.path === 'delayed') {
    exchange = 'delayed';
    rk = 'k';
    props.headers = { 'x-delay': 3_600_000 };
  }
  if (s.path === 'rpc') {
    props.replyTo = 'replies';
    props.correlationId = s.id;
  }
  const m = new Message(exchange, rk, props as MessageProperties, body);
  try {
    session.publish(m, false, token);
  } catch {
    // a store made read-only by the cut refuses: never confirmed
    l.tokens.delete(token);
  }
}

async function kill(l: Life): Promise<void> {
  l.core.shutdown();
  await l.core.closeStore().catch(() => undefined);
}

/** Every message of a journal queue, in store order. */
function readQueue(l: Life, name: string): Promise<StoredMessage[]> {
  const vhost = l.core.vhosts.get('/')!;
  const q = vhost.queues.get(name) as unknown as { storeId: number } | undefined;
  const storeId = name === 'delayed-holder' ? (vhost.exchanges.get('delayed') as unknown as { delayStoreId: number }).delayStoreId : (q?.storeId ?? 0);
  return new Promise((resolve, reject) => {
    store(l).read({ queueId: storeId, afterSeq: 0, maxCount: 1e9 }, { onMessages: (_t, ms, e) => (e ? reject(e) : resolve(ms)) }, 0);
  });
}

function readStream(l: Life, name: string): { id: string; key: string | null }[] {
  const vhost = l.core.vhosts.get('/')!;
  const q = vhost.queues.get(name);
  if (!(q instanceof StreamQueue)) return [];
  const log = vhost.store?.streams?.get(q.streamId);
  const out: { id: string; key: string | null }[] = [];
  if (log) scanLogSync(log, (buf, view) => out.push({ id: buf.toString('latin1', view.bodyAt, view.bodyAt + view.bodyLength), key: view.keyLength > 0 ? view.key(buf) : null }));
  return out;
}

async function check(
  l: Life,
  sent: Sent[],
  confirmed: Sent[],
  durableAcks: Set<string>,
  pendingAcks: Set<string>,
  result: SimResult,
  cut: number,
  seed: number,
): Promise<void> {
  const problem = (what: string): void => void result.problems.push(`seed ${seed}, cut ${cut + 1}: ${what}`);
  const ids = async (name: string): Promise<string[]> => (await readQueue(l, name)).map((m) => m.body.toString('latin1'));
  const found = new Map<string, string[]>();
  const where = (queue: string, list: string[]): void => {
    const seen = new Set<string>();
    for (const id of list) {
      if (seen.has(id)) problem(`${id} twice in ${queue}`);
      seen.add(id);
      const f = found.get(id) ?? [];
      f.push(queue);
      found.set(id, f);
    }
  };
  const lists: Record<string, string[]> = {
    classic: await ids('classic'),
    priority: await ids('priority'),
    'delayed-holder': await ids('delayed-holder'),
    ttl0: await ids('ttl0'),
    'dlq-ttl': await ids('dlq-ttl'),
    overflow: await ids('overflow'),
    'dlq-overflow': await ids('dlq-overflow'),
    rpc: await ids('rpc'),
    stream: readStream(l, 'stream').map((r) => r.id),
    keyed: readStream(l, 'keyed').map((r) => r.id),
  };
  for (const [q, list] of Object.entries(lists)) where(q, list);
  const byId = new Map(sent.map((s) => [s.id, s]));
  // order per queue and publisher (per priority level in the priority queue)
  for (const [q, list] of Object.entries(lists)) {
    const last = new Map<string, number>();
    for (const id of list) {
      const s = byId.get(id);
      if (!s) continue; // an earlier round's, in a stream
      const k = q === 'priority' ? `${s.publisher}:${s.priority}` : `${s.publisher}:${s.path}`;
      if ((last.get(k) ?? 0) > s.n) {
        result.reordered++;
        problem(`${id} out of order in ${q}`);
      }
      last.set(k, s.n);
    }
  }
  // lost
  const newestConfirmedRpc = confirmed.filter((s) => s.path === 'rpc').pop();
  for (const s of confirmed) {
    const at = found.get(s.id) ?? [];
    if (durableAcks.has(s.id)) {
      if (at.length > 0) problem(`${s.id} came back after its ack was durable`);
      continue;
    }
    if (pendingAcks.has(s.id)) {
      if (at.length > 0) result.duplicated++;
      continue;
    }
    if (s.path === 'keyed') continue; // checked per key below
    if (s.path === 'rpc' && s !== newestConfirmedRpc) continue; // a newer request may have dropped it (its failure reply is transient)
    if (s.path === 'rpc' && at.length === 0 && lists.rpc.some((id) => (byId.get(id)?.n ?? 0) > s.n || !byId.has(id))) continue;
    const expected: Record<Path, string[]> = {
      classic: ['classic'],
      priority: ['priority'],
      stream: ['stream'],
      keyed: ['keyed'],
      delayed: ['delayed-holder'],
      ttl0: ['ttl0', 'dlq-ttl'],
      overflow: ['overflow', 'dlq-overflow'],
      rpc: ['rpc'],
    };
    const ok = at.filter((q) => expected[s.path].includes(q));
    if (ok.length === 0) {
      result.lost++;
      problem(`confirmed ${s.id} lost (found in: ${at.join(', ') || 'nowhere'})`);
    } else if (ok.length > 1) result.duplicated++; // in the source and its dead-letter queue: at-least-once dead-lettering
  }
  // keyed stream: for every key, the newest confirmed value or a newer one is there
  const keyedFound = new Set(lists.keyed);
  const newestPerKey = new Map<string, Sent>();
  for (const s of confirmed) if (s.path === 'keyed') newestPerKey.set(s.key, s);
  for (const [key, s] of newestPerKey) {
    const newer = sent.filter((x) => x.path === 'keyed' && x.key === key && (x.n > s.n || x.publisher !== s.publisher));
    if (!keyedFound.has(s.id) && !newer.some((x) => keyedFound.has(x.id))) {
      result.lost++;
      problem(`keyed stream: newest confirmed value of ${key} (${s.id}) lost`);
    }
  }
}

/** Empty every queue and make that durable, so the next round's ledger starts clean. */
async function reset(l: Life): Promise<void> {
  const s = l.publishers[0];
  l.consumer?.close();
  l.consumer = null;
  for (const q of ['classic', 'priority', 'ttl0', 'dlq-ttl', 'overflow', 'dlq-overflow', 'rpc', 'replies', 'delayed-target']) s.purgeQueue(q);
  // streams cannot be purged: recreate them (their directories go), so recovery stays small
  s.deleteQueue('stream', false, false);
  s.deleteQueue('keyed', false, false);
  s.declareQueue('stream', { durable: true, arguments: { 'x-queue-type': 'stream' } });
  s.declareQueue('keyed', { durable: true, arguments: { 'x-queue-type': 'stream', 'x-stream-compaction': 'key', 'x-stream-compaction-key-header': 'k' } });
  // the delayed exchange's held messages: recreate the exchange
  s.deleteExchange('delayed', false);
  s.declareExchange('delayed', 'x-delayed-message', { durable: true, autoDelete: false, internal: false, passive: false, arguments: { 'x-delayed-type': 'direct' } });
  s.bindQueue('delayed-target', 'delayed', 'k');
  await store(l).flush().catch(() => undefined);
  l.delivered.clear();
  l.consumer = l.core.vhosts.get('/') ? (l.publishers[0].connection.openSession(l) as Session) : null;
  l.consumer?.qos(20, false);
  l.consumer?.consume('classic', { consumerTag: 'c', noAck: false, exclusive: false, arguments: {} });
}
