import type { Db } from './db.js';

/** The part of a better-sqlite3 prepared statement the store uses. */
export interface Stmt<P extends unknown[], R = unknown> {
  run(...params: P): { changes: number; lastInsertRowid: number | bigint };
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/** Every SQL statement of the metadata store, prepared once at open (STORE.md §3.8). */
export function prepareStatements(db: Db) {
  const s = <P extends unknown[] = unknown[], R = unknown>(sql: string): Stmt<P, R> => db.prepare<P, R>(sql);
  return {
    // vhosts
    vhostId: s<[string], { id: number }>('SELECT id FROM vhosts WHERE name = ?'),
    insertVhost: s<[string, string]>('INSERT INTO vhosts (name, metadata) VALUES (?, ?)'),
    updateVhost: s<[string, number]>('UPDATE vhosts SET metadata = ? WHERE id = ?'),
    deleteVhost: s<[string]>('DELETE FROM vhosts WHERE name = ?'),
    allVhosts: s<[], { id: number; name: string; metadata: string }>('SELECT id, name, metadata FROM vhosts ORDER BY id'),

    // exchanges
    upsertExchange: s<[number, string, string, number, number, string]>(
      `INSERT INTO exchanges (vhost_id, name, type, auto_delete, internal, arguments) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (vhost_id, name) DO UPDATE SET type = excluded.type, auto_delete = excluded.auto_delete,
         internal = excluded.internal, arguments = excluded.arguments`,
    ),
    deleteExchange: s<[number, string]>('DELETE FROM exchanges WHERE vhost_id = ? AND name = ?'),
    allExchanges: s<[], { vhost: string; name: string; type: string; auto_delete: number; internal: number; arguments: string }>(
      `SELECT v.name AS vhost, e.name, e.type, e.auto_delete, e.internal, e.arguments
       FROM exchanges e JOIN vhosts v ON v.id = e.vhost_id ORDER BY v.id, e.name`,
    ),

    // queues
    queueByName: s<[number, string], { id: number }>('SELECT id FROM queues WHERE vhost_id = ? AND name = ?'),
    insertQueue: s<[number, string, string, number, string]>(
      'INSERT INTO queues (vhost_id, name, type, auto_delete, arguments) VALUES (?, ?, ?, ?, ?)',
    ),
    updateQueue: s<[string, number, string, number]>('UPDATE queues SET type = ?, auto_delete = ?, arguments = ? WHERE id = ?'),
    deleteQueue: s<[number]>('DELETE FROM queues WHERE id = ?'),
    queueExists: s<[number], { id: number }>('SELECT id FROM queues WHERE id = ?'),
    allQueues: s<[], { id: number; vhost: string; name: string; type: string; auto_delete: number; arguments: string }>(
      `SELECT q.id, v.name AS vhost, q.name, q.type, q.auto_delete, q.arguments
       FROM queues q JOIN vhosts v ON v.id = q.vhost_id ORDER BY q.id`,
    ),

    // bindings
    insertBinding: s<[number, string, string, string, string, string, string]>(
      `INSERT OR IGNORE INTO bindings (vhost_id, source, destination_kind, destination, routing_key, arguments_key, arguments)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteBinding: s<[number, string, string, string, string, string]>(
      `DELETE FROM bindings WHERE vhost_id = ? AND source = ? AND destination_kind = ? AND destination = ?
       AND routing_key = ? AND arguments_key = ?`,
    ),
    deleteBindingsFrom: s<[number, string]>('DELETE FROM bindings WHERE vhost_id = ? AND source = ?'),
    deleteBindingsTo: s<[number, string, string]>('DELETE FROM bindings WHERE vhost_id = ? AND destination_kind = ? AND destination = ?'),
    allBindings: s<[], { vhost: string; source: string; destination_kind: string; destination: string; routing_key: string; arguments: string }>(
      `SELECT v.name AS vhost, b.source, b.destination_kind, b.destination, b.routing_key, b.arguments
       FROM bindings b JOIN vhosts v ON v.id = b.vhost_id ORDER BY v.id, b.source, b.destination_kind, b.destination, b.routing_key`,
    ),

    // users and permissions
    upsertUser: s<[string, string, string, string]>(
      `INSERT INTO users (name, password_hash, tags, scram) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, tags = excluded.tags, scram = excluded.scram`,
    ),
    deleteUser: s<[string]>('DELETE FROM users WHERE name = ?'),
    allUsers: s<[], { name: string; password_hash: string; tags: string; scram: string }>('SELECT name, password_hash, tags, scram FROM users ORDER BY name'),
    upsertPermission: s<[string, number, string, string, string]>(
      `INSERT INTO permissions (user, vhost_id, configure, write, read) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user, vhost_id) DO UPDATE SET configure = excluded.configure, write = excluded.write, read = excluded.read`,
    ),
    deletePermission: s<[string, number]>('DELETE FROM permissions WHERE user = ? AND vhost_id = ?'),
    allPermissions: s<[], { user: string; vhost: string; configure: string; write: string; read: string }>(
      `SELECT p.user, v.name AS vhost, p.configure, p.write, p.read
       FROM permissions p JOIN vhosts v ON v.id = p.vhost_id ORDER BY p.user, v.name`,
    ),

    // policies and topic permissions
    upsertPolicy: s<[number, string, string, string, number, string]>(
      `INSERT INTO policies (vhost_id, name, pattern, apply_to, priority, definition) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (vhost_id, name) DO UPDATE SET pattern = excluded.pattern, apply_to = excluded.apply_to,
         priority = excluded.priority, definition = excluded.definition`,
    ),
    deletePolicy: s<[number, string]>('DELETE FROM policies WHERE vhost_id = ? AND name = ?'),
    allPolicies: s<[], { vhost: string; name: string; pattern: string; apply_to: string; priority: number; definition: string }>(
      `SELECT v.name AS vhost, p.name, p.pattern, p.apply_to, p.priority, p.definition
       FROM policies p JOIN vhosts v ON v.id = p.vhost_id ORDER BY v.id, p.name`,
    ),
    upsertTopicPermission: s<[string, number, string, string, string]>(
      `INSERT INTO topic_permissions (user, vhost_id, exchange, write, read) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user, vhost_id, exchange) DO UPDATE SET write = excluded.write, read = excluded.read`,
    ),
    deleteTopicPermissions: s<[string, number]>('DELETE FROM topic_permissions WHERE user = ? AND vhost_id = ?'),
    deleteTopicPermission: s<[string, number, string]>('DELETE FROM topic_permissions WHERE user = ? AND vhost_id = ? AND exchange = ?'),
    allTopicPermissions: s<[], { user: string; vhost: string; exchange: string; write: string; read: string }>(
      `SELECT t.user, v.name AS vhost, t.exchange, t.write, t.read
       FROM topic_permissions t JOIN vhosts v ON v.id = t.vhost_id ORDER BY t.user, v.name, t.exchange`,
    ),

    // node state
    getState: s<[string], { value: string }>('SELECT value FROM node_state WHERE key = ?'),
    setState: s<[string, string]>(
      'INSERT INTO node_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
