import { join } from 'node:path';
import { FileStore } from '../store/file-store.js';
import type { Durability } from '../store/journal.js';
import { MetadataStore } from '../store/metadata/metadata-store.js';
import type { Logger } from '../log.js';
import type { Core } from './core.js';

export interface PersistenceOptions {
  /** 'fsync' (default: confirms after fdatasync) or 'write' (after write(2); survives kill -9, not power loss) */
  durability?: Durability;
  /** journal segment size in bytes */
  segmentSize?: number;
}

/**
 * Open the data directory: SQLite metadata (`meta.db`) and one message journal per vhost
 * (`vhosts/<id>/`), then bring back everything durable — users and permissions, vhosts,
 * exchanges, queues with their stored messages, bindings (issue 4, docs/store.md).
 * @returns a function that closes it all cleanly (a clean-shutdown mark skips the next scan)
 */
export async function openPersistence(core: Core, dataDir: string, options: PersistenceOptions, log?: Logger): Promise<() => Promise<void>> {
  const meta = MetadataStore.open(join(dataDir, 'meta.db'));
  const stores: FileStore[] = [];
  try {
    const { cleanShutdown } = meta.markStarted();
    const defs = meta.loadDefinitions();
    restoreUsers(core, meta, defs);
    const vhostNames = new Set([core.defaultVhost, ...defs.vhosts.map((v) => v.name)]);
    for (const name of vhostNames) {
      const vhost = core.addVhost(name);
      const id = meta.saveVhost(name);
      const t0 = performance.now();
      const store = await FileStore.open({
        dir: join(dataDir, 'vhosts', String(id)),
        journalId: id,
        durability: options.durability,
        segmentSize: options.segmentSize,
        isKnownQueue: (q) => meta.hasQueueId(q),
        log: (level, message, data) => log?.[level](message, { vhost: name, ...data }),
      });
      stores.push(store);
      vhost.persistence = { meta, store };
      for (const x of defs.exchanges) if (x.vhost === name) vhost.restoreExchange(x.name, x.type, x.autoDelete, x.internal, x.arguments);
      for (const q of defs.queues) {
        if (q.vhost !== name) continue;
        if (q.type === 'delayed') vhost.restoreDelayed(q.name.slice('amq.delayed.'.length), q.id);
        else vhost.restoreQueue(q.id, q.name, q.autoDelete, q.arguments);
      }
      for (const b of defs.bindings) {
        if (b.vhost === name) vhost.restoreBinding(b.source, b.destinationKind, b.destination, b.routingKey, b.arguments);
      }
      const r = store.recovery;
      log?.info('vhost recovered', {
        vhost: name,
        cleanShutdown,
        millis: Math.round(performance.now() - t0),
        queues: r.queues,
        messages: r.messages,
        truncated: r.truncated,
        damaged: r.damaged,
      });
    }
  } catch (e) {
    for (const s of stores) await s.close().catch(() => undefined);
    meta.close();
    throw e;
  }
  return async () => {
    for (const s of stores) await s.close();
    meta.markCleanShutdown();
    meta.close();
  };
}

/**
 * Users live in SQLite. On the very first start the configured default user is saved with
 * full permissions on the default vhost (RabbitMQ creates its default user the same way,
 * once); afterwards the saved users are the truth.
 */
function restoreUsers(core: Core, meta: MetadataStore, defs: ReturnType<MetadataStore['loadDefinitions']>): void {
  if (defs.users.length === 0) {
    meta.saveVhost(core.defaultVhost);
    for (const u of core.users.list()) meta.saveUser({ name: u.name, passwordHash: u.passwordHash, tags: u.tags });
    for (const p of core.users.permissions()) meta.savePermission({ user: p.user, vhost: p.vhost, ...p.permission });
    return;
  }
  for (const u of core.users.list()) core.users.delete(u.name);
  for (const u of defs.users) core.users.put({ name: u.name, passwordHash: u.passwordHash, tags: u.tags });
  for (const p of defs.permissions) core.users.setPermissions(p.user, p.vhost, p);
}
