import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { TypedValue, type FieldTable } from '../../src/codec/types.js';
import { decodeFieldTable, encodeFieldTable } from '../../src/store/metadata/field-codec.js';
import { MetadataStore } from '../../src/store/metadata/metadata-store.js';
import { SCHEMA_VERSION } from '../../src/store/metadata/schema.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

const open = async () => {
  const path = join(await tempDir(), 'meta.db');
  return { path, db: MetadataStore.open(path) };
};

describe('field tables in the metadata store', () => {
  it('round-trip every value kind losslessly', () => {
    const table: FieldTable = {
      s: 'text',
      i: 42,
      f: 1.5,
      neg0: -0,
      nan: Number.NaN,
      inf: -Infinity,
      big: 2n ** 70n,
      t: true,
      v: null,
      bytes: Buffer.from([0, 1, 254, 255]),
      date: new Date(1_700_000_000_000),
      arr: [1, 'two', [3], { deep: Buffer.from('x') }],
      nested: { a: { b: 'c' }, '$bytes': 'a user key that looks like a tag' },
      typed: new TypedValue('b', -5),
      decimal: new TypedValue('D', { places: 2, digits: 12345 }),
      'x-dead-letter-exchange': 'dlx',
    };
    const back = decodeFieldTable(encodeFieldTable(table));
    expect(back).toEqual(table);
    expect(Object.is(back.neg0, -0)).toBe(true);
    expect(Buffer.isBuffer(back.bytes)).toBe(true);
    expect(back.big).toBe(2n ** 70n);
    expect(back.date).toBeInstanceOf(Date);
    expect(back.typed).toBeInstanceOf(TypedValue);
    expect(Object.keys(back)).toEqual(Object.keys(table)); // declared order kept
  });

  it('canonical form ignores key order', () => {
    expect(encodeFieldTable({ a: 1, b: { y: 1, x: 2 } }, true)).toBe(encodeFieldTable({ b: { x: 2, y: 1 }, a: 1 }, true));
    expect(encodeFieldTable({ a: 1, b: 2 })).not.toBe(encodeFieldTable({ b: 2, a: 1 }));
  });

  it('rejects malformed text', () => {
    expect(() => decodeFieldTable('[1]')).toThrow(TypeError);
    expect(() => decodeFieldTable('{"a":{"$nope":1}}')).toThrow(TypeError);
  });
});

describe('MetadataStore', () => {
  it('opens in WAL mode with synchronous FULL and the current schema', async () => {
    const { path, db } = await open();
    db.close();
    const raw = new Database(path);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.prepare('SELECT version FROM schema_version').get()).toEqual({ version: SCHEMA_VERSION });
    raw.close();
    const again = MetadataStore.open(path); // migrating an up-to-date database changes nothing
    expect(again.schemaVersion).toBe(SCHEMA_VERSION);
    again.close();
  });

  it('saves definitions that come back after a restart', async () => {
    const { path, db } = await open();
    const vhostId = db.saveVhost('/', { description: 'default' });
    db.saveVhost('other');
    db.saveExchange({ vhost: '/', name: 'orders', type: 'topic', autoDelete: false, internal: false, arguments: { 'alternate-exchange': 'ae' } });
    const qid = db.saveQueue({ vhost: '/', name: 'q1', type: 'classic', autoDelete: false, arguments: { 'x-max-length': 10, 'x-note': Buffer.from('b') } });
    db.saveBinding({ vhost: '/', source: 'orders', destinationKind: 'queue', destination: 'q1', routingKey: 'a.*', arguments: {} });
    db.saveBinding({ vhost: '/', source: 'orders', destinationKind: 'exchange', destination: 'ae', routingKey: '#', arguments: { k: 1n } });
    db.saveUser({ name: 'guest', passwordHash: 'hash', tags: ['administrator'] });
    db.savePermission({ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' });
    db.close();

    const r = MetadataStore.open(path);
    const d = r.loadDefinitions();
    expect(d.vhosts).toEqual([
      { id: vhostId, name: '/', metadata: { description: 'default' } },
      { id: vhostId + 1, name: 'other', metadata: {} },
    ]);
    expect(d.exchanges).toEqual([{ vhost: '/', name: 'orders', type: 'topic', autoDelete: false, internal: false, arguments: { 'alternate-exchange': 'ae' } }]);
    expect(d.queues).toEqual([{ id: qid, vhost: '/', name: 'q1', type: 'classic', autoDelete: false, arguments: { 'x-max-length': 10, 'x-note': Buffer.from('b') } }]);
    expect(d.bindings).toHaveLength(2);
    expect(d.bindings.find((b) => b.destinationKind === 'exchange')?.arguments).toEqual({ k: 1n });
    expect(d.users).toEqual([{ name: 'guest', passwordHash: 'hash', tags: ['administrator'] }]);
    expect(d.permissions).toEqual([{ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' }]);
    expect(r.queueId('/', 'q1')).toBe(qid);
    expect(r.hasQueueId(qid)).toBe(true);
    r.close();
  });

  it('never reuses a queue id, and keeps the id when a queue is saved again', async () => {
    const { db } = await open();
    db.saveVhost('/');
    const a = db.saveQueue({ vhost: '/', name: 'q', type: 'classic', autoDelete: false, arguments: {} });
    expect(db.saveQueue({ vhost: '/', name: 'q', type: 'classic', autoDelete: true, arguments: { x: 1 } })).toBe(a);
    expect(db.deleteQueue('/', 'q')).toBe(a);
    expect(db.hasQueueId(a)).toBe(false);
    const b = db.saveQueue({ vhost: '/', name: 'q', type: 'classic', autoDelete: false, arguments: {} });
    expect(b).toBeGreaterThan(a);
    expect(db.deleteQueue('/', 'missing')).toBeUndefined();
    db.close();
  });

  it('treats binding arguments as part of its identity, in any key order', async () => {
    const { db } = await open();
    db.saveVhost('/');
    const b = { vhost: '/', source: 'x', destinationKind: 'queue' as const, destination: 'q', routingKey: 'k' };
    db.saveBinding({ ...b, arguments: { a: 1, b: 2 } });
    db.saveBinding({ ...b, arguments: { b: 2, a: 1 } }); // the same binding
    db.saveBinding({ ...b, arguments: { a: 2 } });
    expect(db.loadDefinitions().bindings).toHaveLength(2);
    expect(db.deleteBinding({ ...b, arguments: { b: 2, a: 1 } })).toBe(true);
    expect(db.deleteBinding({ ...b, arguments: { b: 2, a: 1 } })).toBe(false);
    expect(db.loadDefinitions().bindings).toHaveLength(1);
    db.close();
  });

  it('cascades: a deleted queue or exchange takes its bindings, a deleted vhost everything', async () => {
    const { db } = await open();
    db.saveVhost('/');
    db.saveVhost('v2');
    for (const v of ['/', 'v2']) {
      db.saveExchange({ vhost: v, name: 'x', type: 'direct', autoDelete: false, internal: false, arguments: {} });
      db.saveExchange({ vhost: v, name: 'y', type: 'fanout', autoDelete: false, internal: false, arguments: {} });
      db.saveQueue({ vhost: v, name: 'q', type: 'classic', autoDelete: false, arguments: {} });
      db.saveBinding({ vhost: v, source: 'x', destinationKind: 'queue', destination: 'q', routingKey: '', arguments: {} });
      db.saveBinding({ vhost: v, source: 'y', destinationKind: 'exchange', destination: 'x', routingKey: '', arguments: {} });
    }
    db.saveUser({ name: 'u', passwordHash: '', tags: [] });
    db.savePermission({ user: 'u', vhost: 'v2', configure: '', write: '', read: '' });
    db.deleteQueue('/', 'q');
    expect(db.loadDefinitions().bindings.filter((x) => x.vhost === '/')).toHaveLength(1);
    db.deleteExchange('/', 'x'); // the e2e binding to it goes too
    expect(db.loadDefinitions().bindings.filter((x) => x.vhost === '/')).toHaveLength(0);
    expect(db.deleteVhost('v2')).toBe(true);
    const d = db.loadDefinitions();
    expect(d.vhosts.map((v) => v.name)).toEqual(['/']);
    expect(d.queues).toEqual([]);
    expect(d.exchanges.map((x) => x.name)).toEqual(['y']);
    expect(d.permissions).toEqual([]);
    expect(() => db.saveQueue({ vhost: 'v2', name: 'q', type: 'classic', autoDelete: false, arguments: {} })).toThrow(RangeError);
    db.close();
  });

  it('imports a definitions set all or nothing', async () => {
    const { db } = await open();
    const ids = db.importDefinitions({
      vhosts: [{ name: '/', metadata: {} }],
      queues: [
        { vhost: '/', name: 'a', type: 'classic', autoDelete: false, arguments: {} },
        { vhost: '/', name: 'b', type: 'classic', autoDelete: false, arguments: {} },
      ],
    });
    expect([...ids.keys()]).toEqual(['/\u0000a', '/\u0000b']);
    expect(() =>
      db.importDefinitions({
        queues: [
          { vhost: '/', name: 'c', type: 'classic', autoDelete: false, arguments: {} },
          { vhost: 'nope', name: 'd', type: 'classic', autoDelete: false, arguments: {} },
        ],
      }),
    ).toThrow();
    expect(db.loadDefinitions().queues.map((q) => q.name)).toEqual(['a', 'b']);
    db.close();
  });

  it('tracks a clean shutdown across restarts', async () => {
    const { path, db } = await open();
    expect(db.markStarted()).toEqual({ cleanShutdown: false, firstStart: true });
    db.markCleanShutdown();
    db.close();
    const second = MetadataStore.open(path);
    expect(second.markStarted()).toEqual({ cleanShutdown: true, firstStart: false });
    second.close(); // crashed: no markCleanShutdown
    const third = MetadataStore.open(path);
    expect(third.markStarted()).toEqual({ cleanShutdown: false, firstStart: false });
    third.setState('node_id', 'warren@host');
    expect(third.getState('node_id')).toBe('warren@host');
    third.close();
  });
});
