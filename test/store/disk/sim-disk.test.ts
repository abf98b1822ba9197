import { describe, expect, it } from 'vitest';
import { FileStore } from '../../../src/store/file-store.js';
import type { Disk } from '../../../src/store/disk/disk.js';
import { Prng } from '../../helpers/prng.js';
import { SimMachine } from '../../helpers/sim-disk.js';
import { bodies, durable, logSink, put, readAll } from '../helpers.js';

const ROOT = '/sim';

/** A write handle on an existing file without truncating it (the sim's openSync('w') truncates). */
async function reopen(disk: Disk, path: string): Promise<{ writev(b: Buffer[], p: number): Promise<number>; datasync(): Promise<void>; close(): Promise<void> }> {
  const fd = disk.openSync(path, 'r');
  return {
    writev: async (b, p) => {
      let n = 0;
      for (const x of b) n += disk.writeSync(fd, x, 0, x.length, p + n);
      return n;
    },
    datasync: async () => disk.fdatasyncSync(fd),
    close: async () => disk.closeSync(fd),
  };
}

async function newFile(disk: Disk, name: string, data: Buffer, opts: { syncData: boolean; syncDir: boolean }): Promise<string> {
  const path = `${ROOT}/${name}`;
  const f = await disk.openFile(path, 'wx');
  await f.writev([data], 0);
  if (opts.syncData) await f.datasync();
  await f.close();
  if (opts.syncDir) await disk.syncDirectory(ROOT);
  return path;
}

const cut = (m: SimMachine, seed = 1): Disk => {
  m.powerCut(new Prng(seed));
  return m.mount();
};

describe('simulated disk: power cut', () => {
  it('keeps what was fdatasynced in a directory that was fsynced', async () => {
    const m = new SimMachine([ROOT]);
    const disk = m.mount();
    const path = await newFile(disk, 'a', Buffer.from('hello'), { syncData: true, syncDir: true });
    const after = cut(m);
    expect((await after.readFile(path)).toString()).toBe('hello');
  });

  it('loses a file whose directory was not fsynced, even with its data synced', async () => {
    const m = new SimMachine([ROOT]);
    const disk = m.mount();
    const path = await newFile(disk, 'a', Buffer.from('hello'), { syncData: true, syncDir: false });
    const after = cut(m);
    expect(await after.exists(path)).toBe(false);
    expect(await after.readdir(ROOT)).toEqual([]);
  });

  it('brings back an unlinked file and undoes a rename until the directory is synced', async () => {
    const m = new SimMachine([ROOT]);
    let disk = m.mount();
    await newFile(disk, 'a', Buffer.from('A'), { syncData: true, syncDir: true });
    await disk.unlink(`${ROOT}/a`);
    disk = cut(m);
    expect((await disk.readFile(`${ROOT}/a`)).toString()).toBe('A');
    await disk.rename(`${ROOT}/a`, `${ROOT}/b`);
    disk = cut(m);
    expect(await disk.readdir(ROOT)).toEqual(['a']);
    await disk.rename(`${ROOT}/a`, `${ROOT}/b`);
    await disk.syncDirectory(ROOT);
    disk = cut(m);
    expect(await disk.readdir(ROOT)).toEqual(['b']);
  });

  it('lets the last unsynced write survive whole, torn at a 512-byte boundary, or vanish; earlier unsynced writes vanish', async () => {
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 60; seed++) {
      const m = new SimMachine([ROOT]);
      const disk = m.mount();
      const path = await newFile(disk, 'f', Buffer.alloc(1000, 1), { syncData: true, syncDir: true });
      const h = await reopen(disk, path);
      await h.writev([Buffer.alloc(100, 2)], 1000); // earlier unsynced write: never kept
      await h.writev([Buffer.alloc(2000, 3)], 1100); // the last one: bytes 1100 … 3099
      const after = cut(m, seed);
      const b = await after.readFile(path);
      expect(b.subarray(0, 1000).every((x) => x === 1)).toBe(true);
      if (b.length === 1000) outcomes.add('vanished');
      else {
        expect(b.subarray(1000, 1100).every((x) => x === 0)).toBe(true); // the earlier write is a hole
        const kept = b.subarray(1100);
        expect(kept.every((x) => x === 3)).toBe(true);
        if (b.length === 3100) outcomes.add('whole');
        else {
          expect(b.length % 512).toBe(0); // torn at a sector boundary of the file
          expect(b.length).toBeGreaterThan(1100);
          outcomes.add('torn');
        }
      }
    }
    expect([...outcomes].sort()).toEqual(['torn', 'vanished', 'whole']);
  });

  it('ends the mounts of before the cut: a broker left running can do no harm', async () => {
    const m = new SimMachine([ROOT]);
    const old = m.mount();
    await newFile(old, 'a', Buffer.from('x'), { syncData: true, syncDir: true });
    cut(m);
    await expect(old.readdir(ROOT)).rejects.toMatchObject({ code: 'EIO' });
    expect(() => old.openSync(`${ROOT}/a`, 'r')).toThrow(/EIO/);
  });

  it('makes an image of what a cut would leave without disturbing the running disk', async () => {
    const m = new SimMachine([ROOT]);
    const disk = m.mount();
    await newFile(disk, 'synced', Buffer.from('s'), { syncData: true, syncDir: true });
    await newFile(disk, 'unsynced', Buffer.from('u'), { syncData: true, syncDir: false });
    const img = m.image(new Prng(7)).mount();
    expect(await img.readdir(ROOT)).toEqual(['synced']);
    expect(await disk.readdir(ROOT)).toEqual(['synced', 'unsynced']);
  });
});

describe('simulated disk: failures', () => {
  it('fails a write with ENOSPC and writes nothing', async () => {
    const m = new SimMachine([ROOT]);
    const disk = m.mount();
    const f = await disk.openFile(`${ROOT}/a`, 'w');
    m.inject({ op: 'write', code: 'ENOSPC' });
    await expect(f.writev([Buffer.from('abc')], 0)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await f.size()).toBe(0);
    await f.writev([Buffer.from('abc')], 0); // one failure only (times: 1)
    expect(await f.size()).toBe(3);
  });

  it('after a failed fdatasync the writes it covered never become durable, not even after a later successful one', async () => {
    const m = new SimMachine([ROOT]);
    const disk = m.mount();
    const f = await disk.openFile(`${ROOT}/a`, 'w');
    await disk.syncDirectory(ROOT);
    await f.writev([Buffer.from('first ')], 0);
    m.inject({ op: 'fdatasync', code: 'EIO' });
    await expect(f.datasync()).rejects.toMatchObject({ code: 'EIO' });
    await f.writev([Buffer.from('second')], 6);
    await f.datasync(); // succeeds, as Linux's does
    const b = Buffer.alloc(12);
    expect(await f.read(b, 0, 12, 0)).toBe(12); // the page cache still shows both
    expect(b.toString()).toBe('first second');
    const after = cut(m);
    expect((await after.readFile(`${ROOT}/a`)).toString('latin1')).toBe('\0\0\0\0\0\0second');
  });

  it('matches faults by path and lets the first calls through', async () => {
    const m = new SimMachine([ROOT]);
    const disk = m.mount();
    m.inject({ op: 'fdatasync', code: 'EIO', pathIncludes: 'b', after: 1 });
    for (const name of ['a', 'b']) {
      const f = await disk.openFile(`${ROOT}/${name}`, 'w');
      await f.writev([Buffer.from('x')], 0);
      await f.datasync();
      if (name === 'b') await expect(f.datasync()).rejects.toMatchObject({ code: 'EIO' });
      else await f.datasync();
    }
  });
});

describe('the file store on the simulated disk', () => {
  it('recovers every confirmed message after a power cut and nothing it never wrote', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const m = new SimMachine([ROOT]);
      const dir = `${ROOT}/journal`;
      const s = await FileStore.open({ dir, disk: m.mount(), log: logSink().log });
      const confirmed: string[] = [];
      for (let i = 1; i <= 30; i++) {
        const lsn = put(s, 1, i, `m${i}`);
        if (i % 10 === 0) {
          expect(await durable(s, lsn)).toBeNull();
          for (let k = confirmed.length + 1; k <= i; k++) confirmed.push(`m${k}`);
        }
      }
      put(s, 1, 31, 'm31'); // appended, never confirmed
      await new Promise((r) => setImmediate(r));
      m.powerCut(new Prng(seed));
      await s.close().catch(() => undefined);
      const again = await FileStore.open({ dir, disk: m.mount(), log: logSink().log });
      const got = bodies(await readAll(again, 1));
      expect(got.slice(0, confirmed.length)).toEqual(confirmed);
      expect(got.length === 30 || got.length === 31).toBe(true);
      await again.close();
    }
  });

  it('a failed fdatasync fails the waiters of the batch it covered and everything after', async () => {
    const m = new SimMachine([ROOT]);
    const s = await FileStore.open({ dir: `${ROOT}/j`, disk: m.mount(), log: logSink().log });
    expect(await durable(s, put(s, 1, 1, 'ok'))).toBeNull();
    m.inject({ op: 'fdatasync', code: 'EIO' });
    const e = await durable(s, put(s, 1, 2, 'lost'));
    expect(e).toMatchObject({ code: 'EIO' });
    expect(s.failure).not.toBeNull();
    expect(() => put(s, 1, 3, 'refused')).toThrow(/read-only/);
    await s.close();
  });
});
