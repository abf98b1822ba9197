/**
 * Definitions saved under DeferredSync.run are made durable together by one fdatasync of the
 * WAL (src/store/metadata/deferred-sync.ts): `whenDurable` answers only after it, writes made
 * while one runs wait for the next, and a failed sync is reported, not swallowed.
 */
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MetadataStore } from '../../src/store/metadata/metadata-store.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

const queue = (name: string) => ({ vhost: '/', name, type: 'classic', autoDelete: false, arguments: {} });
const whenDurable = (meta: MetadataStore) => new Promise<Error | null>((resolve) => meta.deferredSync.whenDurable(resolve));

describe('deferred metadata sync', () => {
  it('answers after the sync, in order, and the writes are there after a reopen', async () => {
    const path = join(await tempDir(), 'meta.db');
    const meta = MetadataStore.open(path);
    meta.saveVhost('/');
    let immediate = false;
    meta.deferredSync.whenDurable(() => (immediate = true));
    expect(immediate).toBe(true); // nothing waits: at once

    const order: string[] = [];
    meta.deferredSync.run(() => meta.saveQueue(queue('a')));
    let answered = false;
    const first = new Promise<Error | null>((resolve) => meta.deferredSync.whenDurable((e) => { answered = true; order.push('a'); resolve(e); }));
    expect(answered).toBe(false); // not before its fdatasync
    // saved while the first sync runs: waits for a second one
    meta.deferredSync.run(() => meta.saveQueue(queue('b')));
    const second = new Promise<Error | null>((resolve) => meta.deferredSync.whenDurable((e) => { order.push('b'); resolve(e); }));
    expect(await first).toBeNull();
    expect(await second).toBeNull();
    expect(order).toEqual(['a', 'b']);
    // a run that writes nothing leaves nothing to wait for
    meta.deferredSync.run(() => meta.queueId('/', 'a'));
    meta.deferredSync.whenDurable(() => order.push('none'));
    expect(order).toEqual(['a', 'b', 'none']);
    meta.close();

    const again = MetadataStore.open(path);
    expect(again.queueId('/', 'a')).toBeGreaterThan(0);
    expect(again.queueId('/', 'b')).toBeGreaterThan(0);
    again.close();
  });

  it('reports a sync that could not be made', async () => {
    const path = join(await tempDir(), 'meta.db');
    const meta = MetadataStore.open(path);
    meta.saveVhost('/');
    meta.deferredSync.run(() => meta.saveQueue(queue('a')));
    unlinkSync(`${path}-wal`); // the WAL file gone: nothing can vouch for the write
    const error = await whenDurable(meta);
    expect(error).toBeInstanceOf(Error);
    meta.close();
  });
});
