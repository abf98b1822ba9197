/**
 * The main-thread side of the lifeline (lifeline-worker.ts): grants the node's lease, starts
 * the thread that keeps it alive and watches for stalls, writes the heartbeat, and answers
 * the fencing question "may this node still act on its lease?" — only while the last
 * keep-alive etcd accepted is younger than TTL − margin, and etcd has not said the lease is
 * gone. Past that, another node may already lead.
 */
import { Worker } from 'node:worker_threads';
import type { Etcd3, Lease } from 'etcd3';
import {
  lifelineWorkerMain, SLOT_COUNT, SLOT_HEARTBEAT, SLOT_LAST_KEEPALIVE, SLOT_LEASE_LOST, SLOT_SYNC_SINCE,
  type LifelineWorkerData,
} from './lifeline-worker.js';

export interface LifelineOptions {
  etcd: Etcd3;
  endpoints: string[];
  ttlMs: number;
  watchdogMs: number;
  /** called once when etcd says the lease is gone */
  onLeaseLost: () => void;
}

const HEARTBEAT_MS = 200;

export class Lifeline {
  readonly #o: LifelineOptions;
  readonly #slots = new Float64Array(new SharedArrayBuffer(SLOT_COUNT * 8));
  readonly #syncsInFlight = new Map<number, number>();
  #nextSync = 0;
  #lease: Lease | null = null;
  #leaseId = '';
  #worker: Worker | null = null;
  #heartbeat: NodeJS.Timeout | null = null;

  constructor(o: LifelineOptions) {
    this.#o = o;
  }

  get leaseId(): string {
    return this.#leaseId;
  }

  /** How long before the lease's expiry (as this node must assume it) the node stops acting on it. */
  get marginMs(): number {
    return Math.max(1000, this.#o.ttlMs / 5);
  }

  async start(): Promise<string> {
    const requestedAt = Date.now();
    const lease = this.#o.etcd.lease(Math.ceil(this.#o.ttlMs / 1000), { autoKeepAlive: false });
    lease.on('lost', () => undefined); // the worker reports loss; this only silences the emitter
    this.#leaseId = await lease.grant();
    this.#lease = lease;
    this.#slots[SLOT_LAST_KEEPALIVE] = requestedAt;
    this.#beat();
    this.#heartbeat = setInterval(() => this.#beat(), HEARTBEAT_MS);
    const workerData: LifelineWorkerData = {
      shared: this.#slots.buffer as SharedArrayBuffer,
      endpoints: this.#o.endpoints,
      leaseId: this.#leaseId,
      ttlMs: this.#o.ttlMs,
      watchdogMs: this.#o.watchdogMs,
    };
    // execArgv []: the source is a CommonJS script even when this process runs with --input-type=module.
    const worker = new Worker(`(${lifelineWorkerMain.toString()})()`, { eval: true, workerData, execArgv: [] });
    worker.on('message', (m: { type: string }) => {
      if (m.type === 'lease-lost') this.#o.onLeaseLost();
    });
    worker.on('error', (e) => {
      process.stderr.write(`cluster lifeline thread failed: ${e.message}\n`);
      process.kill(process.pid, 'SIGKILL');
    });
    worker.unref();
    this.#worker = worker;
    return this.#leaseId;
  }

  #beat(): void {
    this.#slots[SLOT_HEARTBEAT] = Date.now();
  }

  /** Whether this node may still act on its lease (lead, confirm, write the ISR). */
  leaseValid(now = Date.now()): boolean {
    return this.#slots[SLOT_LEASE_LOST] === 0 && now < this.#slots[SLOT_LAST_KEEPALIVE]! + this.#o.ttlMs - this.marginMs;
  }

  /** Time of the last keep-alive etcd accepted (sent at). */
  get lastKeepAlive(): number {
    return this.#slots[SLOT_LAST_KEEPALIVE]!;
  }

  /** Mark an fdatasync as started; call the returned function when it ends. */
  syncStarted(): () => void {
    const id = this.#nextSync++;
    this.#syncsInFlight.set(id, Date.now());
    this.#publishOldestSync();
    return () => {
      this.#syncsInFlight.delete(id);
      this.#publishOldestSync();
    };
  }

  #publishOldestSync(): void {
    // Map iteration is in insertion order: the first entry is the oldest sync in flight.
    const first = this.#syncsInFlight.values().next();
    this.#slots[SLOT_SYNC_SINCE] = first.done ? 0 : first.value;
  }

  /** Stop the thread; revoke the lease (its keys vanish at once) unless `keepLease`. */
  async stop(revoke = true): Promise<void> {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    this.#worker?.postMessage({ type: 'stop' });
    await this.#worker?.terminate();
    this.#worker = null;
    if (revoke && this.#lease) await this.#lease.revoke().catch(() => undefined);
    else this.#lease?.release();
  }
}
