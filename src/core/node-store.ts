import { join } from 'node:path';
import type { Disk } from '../store/disk/disk.js';
import type { AppendObserver } from '../store/log/append-observer.js';
import { realDisk } from '../store/disk/real-disk.js';
import { FileStore } from '../store/file-store.js';
import type { Durability } from '../store/journal.js';
import type { ReclaimOptions } from '../store/compaction.js';
import { MetadataStore, type Definitions } from '../store/metadata/metadata-store.js';
import type { MetadataTap } from '../store/metadata/tap.js';
import type { Logger } from '../log/index.js';
import type { FieldTable } from '../codec/types.js';
import type { Core } from './core.js';
import type { Policy } from './policies.js';
import type { VHost } from './vhost.js';
import { StreamStore, type StreamConfig } from '../store/stream/stream-store.js';
import { STREAM_TYPE, streamSettingsFrom } from './queues/stream/stream-arguments.js';
import { isStreamQueue } from './queues/stream/stream-queue.js';
import { restoreDefinitions } from './recovery.js';

export interface NodeStoreOptions {
  /** 'fsync' (default: confirms after fdatasync) or 'write' (after write(2); survives kill -9, not power loss) */
  durability?: Durability;
  /** journal segment size in bytes */
  segmentSize?: number;
  /**
   * The journals' and streams' file I/O (src/store/disk/disk.ts); default the real disk.
   * Embedding only (BrokerSetup.disk), never a configuration key: tests pass a simulated disk
   * or one whose fdatasync is held by a gate. SQLite (meta.db) always uses the real one.
   */
  disk?: Disk;
  /** journal records at least this long may be left out when consumed before their write (src/store/elision.ts; default 4 KiB) */
  elideMinBytes?: number;
  /** reclaim settings of every journal (tests: a simulation runs reclaim at chosen points, not on a timer) */
  reclaim?: Partial<ReclaimOptions>;
  /**
   * Sees every byte appended to any log of the node — each vhost's journal and every stream —
   * in order, with its durability point (src/store/log/append-observer.ts). Embedding only.
   */
  appendObserver?: AppendObserver;
  /** Sees every change to meta.db, in commit order (src/store/metadata/tap.ts): replication's metadata log. Embedding only. */
  metadataTap?: MetadataTap;
}

/** The open data directory, as the core holds it. */
export interface NodeStore {
  readonly meta: MetadataStore;
  /** Open the journal of a vhost created while running (save its definition first). */
  attachVhost(vhost: VHost): Promise<void>;
  /** Close a deleted vhost's journal and remove its files (delete its definition first). */
  detachVhost(vhost: VHost): Promise<void>;
  /** Flush and close everything, marking a clean stop. */
  close(): Promise<void>;
}

/**
 * Open the data directory: SQLite metadata (`meta.db`) and one message journal per vhost
 * (`vhosts/<id>/`), then bring back everything durable — users and permissions, vhosts,
 * policies, exchanges, queues with their stored messages, bindings (docs/store.md).
 * @returns the open store; its `close` closes it all cleanly (a clean-shutdown mark skips the next scan)
 */
export async function openNodeStore(core: Core, dataDir: string, options: NodeStoreOptions, log?: Logger): Promise<NodeStore> {
  const meta = MetadataStore.open(join(dataDir, 'meta.db'), options.metadataTap);
  const disk = options.disk ?? realDisk;
  const stores = new Map<VHost, { store: FileStore; dir: string }>();
  // stream logs: `streams/<queue id>/`, one store for the node
  const streams = new StreamStore({
    dir: join(dataDir, 'streams'),
    durability: options.durability ?? 'fsync',
    offsets: meta.streamOffsets,
    disk,
    appendObserver: options.appendObserver,
    log: (level, message, data) => log?.[level](message, data),
    onFailure: (e) => core.alarms.raiseDiskFailure(`stream write failed: ${e.message}`),
  });

  const openStore = async (vhost: VHost, id: number): Promise<FileStore> => {
    const dir = join(dataDir, 'vhosts', String(id));
    const store = await FileStore.open({
      dir,
      journalId: id,
      durability: options.durability,
      segmentSize: options.segmentSize,
      elideMinBytes: options.elideMinBytes,
      disk,
      appendObserver: options.appendObserver,
      reclaim: options.reclaim,
      onFailure: (e) => core.alarms.raiseDiskFailure(`journal of vhost ${vhost.name} failed: ${e.message}`),
      isKnownQueue: (q) => meta.hasQueueId(q),
      log: (level, message, data) => log?.[level](message, { vhost: vhost.name, ...data }),
    });
    stores.set(vhost, { store, dir });
    vhost.store = { meta, messages: store, streams, memory: core.alarms };
    return store;
  };

  try {
    const { cleanShutdown, firstStart } = meta.markStarted();
    if (firstStart) log?.info('new data directory: nothing to recover', { dataDir });
    const defs = meta.loadDefinitions();
    restoreUsers(core, meta, defs);
    const streamConfigs = new Map<number, StreamConfig>();
    for (const q of defs.queues) if (q.type === STREAM_TYPE) streamConfigs.set(q.id, streamSettingsFrom(q.arguments).config);
    await streams.recover(streamConfigs);
    const vhostNames = new Set([core.defaultVhost, ...defs.vhosts.map((v) => v.name)]);
    for (const name of vhostNames) {
      const vhost = core.addVhost(name);
      vhost.metadata = defs.vhosts.find((v) => v.name === name)?.metadata ?? {};
      // limits set by operators are kept in the vhost's metadata (Core.setVhostLimits)
      if (isLimits(vhost.metadata.limits)) core.limits.setVhostLimits(name, vhost.metadata.limits);
      const id = meta.saveVhost(name, vhost.metadata);
      const t0 = performance.now();
      const store = await openStore(vhost, id);
      // policies first, so that queues and exchanges come back with theirs in effect
      for (const p of defs.policies) if (p.vhost === name) restorePolicy(vhost, p, log);
      restoreDefinitions(vhost, defs);
      const r = store.recovery;
      if (firstStart) {
        log?.info('vhost created', { vhost: name, millis: Math.round(performance.now() - t0) });
        continue;
      }
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
    for (const s of stores.values()) await s.store.close().catch(() => undefined);
    await streams.close().catch(() => undefined);
    meta.close();
    throw e;
  }
  return {
    meta,
    attachVhost: async (vhost) => {
      await openStore(vhost, meta.saveVhost(vhost.name, vhost.metadata));
    },
    detachVhost: async (vhost) => {
      const s = stores.get(vhost);
      if (!s) return;
      // its streams go with it (their rows went with the vhost's: ON DELETE CASCADE)
      for (const q of vhost.queues.values()) if (isStreamQueue(q)) await streams.delete(q.streamId);
      stores.delete(vhost);
      vhost.store = null;
      await s.store.close();
      await disk.rm(s.dir);
    },
    close: async () => {
      // the metadata is closed even when a store fails to close (a dead disk): only a clean close marks a clean stop
      try {
        for (const s of stores.values()) await s.store.close();
        stores.clear();
        await streams.close();
        meta.markCleanShutdown();
      } finally {
        meta.close();
      }
    },
  };
}

function isLimits(v: unknown): v is { maxConnections?: number; maxQueues?: number } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A saved policy that no longer validates (a key this version does not know) is skipped, not fatal. */
function restorePolicy(vhost: VHost, p: Definitions['policies'][number], log?: Logger): void {
  try {
    vhost.setPolicy({ ...p, applyTo: p.applyTo as Policy['applyTo'], definition: p.definition as FieldTable });
  } catch (e) {
    log?.warn('saved policy skipped', { vhost: vhost.name, policy: p.name, reason: (e as Error).message });
  }
}

/**
 * Users live in SQLite. On the very first start the configured default user is saved with
 * full permissions on the default vhost (RabbitMQ creates its default user the same way,
 * once); afterwards the saved users are the truth.
 */
function restoreUsers(core: Core, meta: MetadataStore, defs: Definitions): void {
  if (defs.users.length === 0) {
    meta.saveVhost(core.defaultVhost);
    for (const u of core.users.list()) meta.saveUser(u);
    for (const p of core.users.permissions()) meta.savePermission({ user: p.user, vhost: p.vhost, ...p.permission });
    return;
  }
  for (const u of core.users.list()) core.users.delete(u.name);
  for (const u of defs.users) core.users.put({ name: u.name, passwordHash: u.passwordHash, tags: u.tags, ...(u.scram !== undefined ? { scram: u.scram } : {}) });
  for (const p of defs.permissions) core.users.setPermissions(p.user, p.vhost, { configure: p.configure, write: p.write, read: p.read });
  for (const t of defs.topicPermissions) core.users.setTopicPermission(t.user, t.vhost, { exchange: t.exchange, write: t.write, read: t.read });
}
