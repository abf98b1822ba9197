/**
 * The metadata tap (src/store/metadata/tap.ts): every committed change of meta.db, applied in
 * order to a second database that started from the same state, gives the same definitions
 * (ids included); a rolled-back transaction reports nothing. Real SQLite files in a temp dir.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/metadata/db.js';
import { MetadataStore } from '../../src/store/metadata/metadata-store.js';
import type { MetadataTap, TappedStatement } from '../../src/store/metadata/tap.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

describe('metadata tap', () => {
  it('replays into an identical database', async () => {
    const dir = await tempDir('warren-tap-');
    const units: TappedStatement[][] = [];
    const tap: MetadataTap = { opened: () => undefined, changed: (_n, s) => void units.push(s) };
    const leader = MetadataStore.open(join(dir, 'a.db'), tap);
    leader.saveVhost('/');
    leader.saveVhost('v2', { description: 'two' });
    leader.saveUser({ name: 'bob', passwordHash: 'h', tags: ['admin'] });
    leader.savePermission({ user: 'bob', vhost: 'v2', configure: '.*', write: '.*', read: '' });
    const q = leader.saveQueue({ vhost: 'v2', name: 'q1', type: 'classic', autoDelete: false, arguments: { 'x-max-length': 5 } });
    leader.saveQueue({ vhost: '/', name: 'gone', type: 'classic', autoDelete: false, arguments: {} });
    leader.deleteQueue('/', 'gone');
    leader.saveQueue({ vhost: '/', name: 'q2', type: 'stream', autoDelete: false, arguments: {} });
    leader.saveExchange({ vhost: 'v2', name: 'x', type: 'topic', autoDelete: false, internal: false, arguments: {} });
    leader.saveBinding({ vhost: 'v2', source: 'x', destinationKind: 'queue', destination: 'q1', routingKey: 'a.#', arguments: {} });
    leader.streamOffsets.saveMany([{ queueId: leader.queueId('/', 'q2')!, consumer: 'c', committed: 42 }]);
    expect(() => leader.saveBinding({ vhost: 'nope', source: 'x', destinationKind: 'queue', destination: 'q1', routingKey: '', arguments: {} })).toThrow();

    const replica = openDatabase(join(dir, 'b.db'));
    const statements = new Map<string, ReturnType<typeof replica.prepare>>();
    for (const unit of units) {
      replica.transaction(() => {
        for (const s of unit) {
          let st = statements.get(s.sql);
          if (!st) statements.set(s.sql, (st = replica.prepare(s.sql)));
          (st.run as (...p: unknown[]) => unknown)(...s.params);
        }
      })();
    }
    replica.close();
    const copy = MetadataStore.open(join(dir, 'b.db'));
    expect(copy.loadDefinitions()).toEqual(leader.loadDefinitions());
    expect(copy.queueId('v2', 'q1')).toBe(q);
    expect(copy.streamOffsets.get(leader.queueId('/', 'q2')!, 'c')).toBe(42);
    // AUTOINCREMENT continues identically
    expect(copy.saveQueue({ vhost: '/', name: 'q3', type: 'classic', autoDelete: false, arguments: {} })).toBe(
      leader.saveQueue({ vhost: '/', name: 'q3', type: 'classic', autoDelete: false, arguments: {} }),
    );
    copy.close();
    leader.close();
  });
});
