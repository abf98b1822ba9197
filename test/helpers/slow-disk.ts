/**
 * The real disk with the writes of some files slowed to a byte rate, or held: for tests that
 * need a journal slower than the socket feeding it (a streamed body's publisher must then stop
 * being read, src/frontend/journal-backpressure.ts).
 *
 *   const disk = new SlowDisk((path) => path.endsWith('.wj'));
 *   disk.bytesPerSecond = 32 * 1024 * 1024;   // each writev waits bytes / rate before it runs
 *   disk.holdWrites();                        // writevs wait until releaseWrites()
 *
 * Only `DiskFile.writev` of the chosen files is slowed; syncs, reads and the synchronous calls
 * pass straight through (test/helpers/gated-disk.ts holds syncs).
 */
import type { Disk, DiskFile, OpenFlags } from '../../src/store/disk/disk.js';
import { ForwardingDisk, ForwardingFile } from '../../src/store/disk/forwarding-disk.js';
import { realDisk } from '../../src/store/disk/real-disk.js';

export class SlowDisk extends ForwardingDisk {
  /** 0: full speed */
  bytesPerSecond = 0;
  /** writevs of the chosen files done so far, and their bytes */
  writes = 0;
  bytesWritten = 0;
  readonly #chosen: (path: string) => boolean;
  #held: (() => void)[] | null = null;

  constructor(chosen: (path: string) => boolean, inner: Disk = realDisk) {
    super(inner);
    this.#chosen = chosen;
  }

  /** From now on writevs of the chosen files wait until `releaseWrites()`. */
  holdWrites(): void {
    this.#held ??= [];
  }

  releaseWrites(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const go of held) go();
  }

  /** writevs waiting now */
  get heldWrites(): number {
    return this.#held?.length ?? 0;
  }

  async slow(bytes: number): Promise<void> {
    if (this.#held !== null) await new Promise<void>((go) => this.#held!.push(go));
    if (this.bytesPerSecond > 0) await new Promise((r) => setTimeout(r, (bytes / this.bytesPerSecond) * 1000));
  }

  override async openFile(path: string, flags: OpenFlags): Promise<DiskFile> {
    const f = await this.inner.openFile(path, flags);
    return this.#chosen(path) ? new SlowFile(f, this) : f;
  }
}

class SlowFile extends ForwardingFile {
  readonly #disk: SlowDisk;

  constructor(file: DiskFile, disk: SlowDisk) {
    super(file);
    this.#disk = disk;
  }

  override async writev(buffers: Buffer[], position: number): Promise<number> {
    let bytes = 0;
    for (const b of buffers) bytes += b.length;
    await this.#disk.slow(bytes);
    const n = await this.file.writev(buffers, position);
    this.#disk.writes++;
    this.#disk.bytesWritten += n;
    return n;
  }
}
