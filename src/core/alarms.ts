import { statfsSync } from 'node:fs';
import { totalmem } from 'node:os';

/**
 * Resource alarms, after RabbitMQ's memory and disk alarms
 * (https://www.rabbitmq.com/docs/alarms): above the memory high watermark or below the free
 * disk limit, publishers on every protocol are blocked while consumers keep draining; when
 * the condition clears they resume. Front-ends subscribe with `onChange`.
 *
 * Beyond RabbitMQ, whose blocked publishers can wait forever, `publishDeadlineMs` tells
 * front-ends how long a publish may be held before they fail it explicitly.
 *
 * Also beyond RabbitMQ: `disk_failure`, raised when a journal or stream write or fdatasync
 * failed. The store that failed is read-only from then on and never reports durable anything
 * the failed sync covered (after a failed fdatasync Linux may have dropped the dirty pages
 * and a later sync succeeds without them: PostgreSQL's "fsyncgate", 2018), so publishers are
 * blocked as by the disk alarm while consumers keep reading what was durable. It stays until
 * the broker restarts (and recovers from what is really on disk).
 */
export type AlarmKind = 'memory' | 'disk' | 'disk_failure';

export interface AlarmSettings {
  /** RSS limit: a fraction (≤ 1) of total memory, or an absolute byte count (> 1) */
  memoryHighWatermark: number;
  /** free bytes the data directory's file system must keep */
  diskFreeLimit: number;
  /**
   * durable queues page everything new to the store above this share of the memory high
   * watermark (RabbitMQ's vm_memory_high_watermark_paging_ratio)
   */
  memoryPagingRatio: number;
  /** how long front-ends hold a blocked publish before failing it (0: hold until the alarm clears) */
  publishDeadlineMs: number;
  checkIntervalMs: number;
}

export const DEFAULT_ALARM_SETTINGS: AlarmSettings = {
  memoryHighWatermark: 0.4,
  memoryPagingRatio: 0.5,
  diskFreeLimit: 50 * 1024 * 1024,
  publishDeadlineMs: 60_000,
  checkIntervalMs: 1000,
};

export type AlarmListener = (active: ReadonlySet<AlarmKind>) => void;

export class Alarms {
  settings: AlarmSettings = { ...DEFAULT_ALARM_SETTINGS };
  readonly #active = new Set<AlarmKind>();
  readonly #listeners = new Set<AlarmListener>();
  #timer: NodeJS.Timeout | null = null;
  #dataDir: string | null = null;
  #diskFailure: string | null = null;
  /** above the paging threshold at the last check (MemoryPaging, queue-pager.ts) */
  memoryPaging = false;

  get blocked(): boolean {
    return this.#active.size > 0;
  }

  get active(): AlarmKind[] {
    return [...this.#active];
  }

  /** A readable reason for AMQP connection.blocked and logs: 'low on memory' … */
  get reason(): string {
    const reasons: string[] = [];
    if (this.#active.has('memory')) reasons.push('memory');
    if (this.#active.has('disk')) reasons.push('disk');
    const low = reasons.length > 0 ? `low on ${reasons.join(' and ')}` : '';
    if (!this.#active.has('disk_failure')) return low;
    return low === '' ? 'disk write failed' : `${low}, disk write failed`;
  }

  /** what failed, while the disk_failure alarm is on */
  get diskFailure(): string | null {
    return this.#diskFailure;
  }

  /** A store's write or fdatasync failed (`detail`: which, and the error): on until restart. */
  raiseDiskFailure(detail: string): void {
    if (this.#diskFailure !== null) return;
    this.#diskFailure = detail;
    this.#set('disk_failure', true);
  }

  /** the directory whose file system the disk alarm watches (null: no disk check) */
  get dataDir(): string | null {
    return this.#dataDir;
  }

  get memoryLimitBytes(): number {
    const w = this.settings.memoryHighWatermark;
    return w <= 1 ? Math.floor(totalmem() * w) : w;
  }

  /** @returns a function that unsubscribes */
  onChange(listener: AlarmListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Check periodically from now on (`dataDir` for the disk check). */
  start(dataDir: string | null): void {
    this.#dataDir = dataDir;
    this.stop();
    this.#timer = setInterval(() => this.check(), this.settings.checkIntervalMs);
    this.#timer.unref();
    this.check();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  check(): void {
    const rss = process.memoryUsage.rss();
    const limit = this.memoryLimitBytes;
    this.memoryPaging = rss > limit * this.settings.memoryPagingRatio;
    this.#set('memory', rss > limit);
    if (this.#dataDir !== null) {
      try {
        const fs = statfsSync(this.#dataDir);
        this.#set('disk', fs.bavail * fs.bsize < this.settings.diskFreeLimit);
      } catch {
        // the directory went away or statfs is unsupported: leave the disk alarm as it is
      }
    }
  }

  #set(kind: AlarmKind, on: boolean): void {
    if (on === this.#active.has(kind)) return;
    if (on) this.#active.add(kind);
    else this.#active.delete(kind);
    for (const l of this.#listeners) l(this.#active);
  }
}
