/**
 * The real disk with a gate in front of every file sync, for tests that prove a confirm
 * (AMQP basic.ack, MQTT PUBACK/PUBREC, STOMP RECEIPT) waits for the fdatasync covering it.
 *
 *   const disk = new GatedDisk();
 *   const broker = new Broker({ dataDir, ... }, { disk });
 *   await broker.start();
 *   disk.closeGate();              // from now on file fdatasync/fsync calls wait
 *   publish …; await disk.held(1); // a sync is waiting: anything confirmed now was confirmed early
 *   disk.openGate();               // the held syncs run, in order; confirms may follow
 *
 * Held: `DiskFile.datasync()` and `DiskFile.sync()` (the journal's and the streams' group
 * commits, segment seals, snapshots). Not held: directory syncs (a segment's creation) and
 * the synchronous calls (the stream cleaner's), which cannot wait — neither confirms anything.
 * Writes are not held either, so a test can tell "written" from "durable".
 */
import type { Disk, DiskFile, OpenFlags } from '../../src/store/disk/disk.js';
import { ForwardingDisk, SyncWrappedFile } from '../../src/store/disk/forwarding-disk.js';
import { realDisk } from '../../src/store/disk/real-disk.js';

export class GatedDisk extends ForwardingDisk {
  #closed = false;
  #held: (() => void)[] = [];
  #heldWaiters: { n: number; resolve: () => void }[] = [];
  /** file syncs completed so far (held or not) */
  syncs = 0;

  readonly #gates: (path: string) => boolean;

  /** @param gates which files' syncs the gate holds (default every file) */
  constructor(inner: Disk = realDisk, gates: (path: string) => boolean = () => true) {
    super(inner);
    this.#gates = gates;
  }

  /** From now on file syncs wait until `openGate()`. */
  closeGate(): void {
    this.#closed = true;
  }

  /** Let every held sync run, and the later ones pass. */
  openGate(): void {
    this.#closed = false;
    const held = this.#held;
    this.#held = [];
    for (const go of held) go();
  }

  get gateClosed(): boolean {
    return this.#closed;
  }

  /** syncs waiting at the gate now */
  get heldCount(): number {
    return this.#held.length;
  }

  /** Resolves once at least `n` syncs are waiting at the gate. */
  held(n = 1): Promise<void> {
    if (this.#held.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.#heldWaiters.push({ n, resolve }));
  }

  /** Run `sync` now, or once the gate opens. */
  async gate(sync: () => Promise<void>): Promise<void> {
    if (this.#closed) {
      await new Promise<void>((go) => {
        this.#held.push(go);
        const ready = this.#heldWaiters.filter((w) => this.#held.length >= w.n);
        this.#heldWaiters = this.#heldWaiters.filter((w) => this.#held.length < w.n);
        for (const w of ready) w.resolve();
      });
    }
    await sync();
    this.syncs++;
  }

  override async openFile(path: string, flags: OpenFlags): Promise<DiskFile> {
    const f = await this.inner.openFile(path, flags);
    return this.#gates(path) ? new SyncWrappedFile(f, (sync) => this.gate(sync)) : f;
  }
}
