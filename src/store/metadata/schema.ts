/**
 * The metadata schema as an ordered list of migrations. A database records the version it
 * reached in `schema_version`; opening applies the missing ones, each in its own
 * transaction. Never edit a released migration: add the next one.
 */
import { STREAM_OFFSETS_SQL } from '../stream/offset-store.js';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'definitions, users, permissions, node state',
    sql: `
      CREATE TABLE vhosts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        metadata TEXT NOT NULL DEFAULT '{}'
      );
      CREATE TABLE exchanges (
        vhost_id INTEGER NOT NULL REFERENCES vhosts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        auto_delete INTEGER NOT NULL DEFAULT 0,
        internal INTEGER NOT NULL DEFAULT 0,
        arguments TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (vhost_id, name)
      ) WITHOUT ROWID;
      -- id = the message journal's queue id: AUTOINCREMENT never reuses one, so an old journal
      -- record can never attach to a new queue of the same name
      CREATE TABLE queues (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        vhost_id INTEGER NOT NULL REFERENCES vhosts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        type TEXT NOT NULL DEFAULT 'classic',
        auto_delete INTEGER NOT NULL DEFAULT 0,
        arguments TEXT NOT NULL DEFAULT '{}',
        UNIQUE (vhost_id, name)
      );
      -- a binding's identity includes its arguments (as in RabbitMQ): arguments_key is their
      -- canonical (key-sorted) form, arguments the lossless one as declared
      CREATE TABLE bindings (
        vhost_id INTEGER NOT NULL REFERENCES vhosts(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        destination_kind TEXT NOT NULL CHECK (destination_kind IN ('queue', 'exchange')),
        destination TEXT NOT NULL,
        routing_key TEXT NOT NULL,
        arguments_key TEXT NOT NULL,
        arguments TEXT NOT NULL,
        PRIMARY KEY (vhost_id, source, destination_kind, destination, routing_key, arguments_key)
      ) WITHOUT ROWID;
      CREATE INDEX bindings_by_destination ON bindings (vhost_id, destination_kind, destination);
      CREATE TABLE users (
        name TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '[]'
      ) WITHOUT ROWID;
      CREATE TABLE permissions (
        user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        vhost_id INTEGER NOT NULL REFERENCES vhosts(id) ON DELETE CASCADE,
        configure TEXT NOT NULL,
        write TEXT NOT NULL,
        read TEXT NOT NULL,
        PRIMARY KEY (user, vhost_id)
      ) WITHOUT ROWID;
      CREATE TABLE node_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'policies and topic permissions',
    sql: `
      -- definition: the policy's settings as JSON (RabbitMQ's policy definition object)
      CREATE TABLE policies (
        vhost_id INTEGER NOT NULL REFERENCES vhosts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        pattern TEXT NOT NULL,
        apply_to TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        definition TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (vhost_id, name)
      ) WITHOUT ROWID;
      CREATE TABLE topic_permissions (
        user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        vhost_id INTEGER NOT NULL REFERENCES vhosts(id) ON DELETE CASCADE,
        exchange TEXT NOT NULL,
        write TEXT NOT NULL,
        read TEXT NOT NULL,
        PRIMARY KEY (user, vhost_id, exchange)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    description: 'stream consumer offsets (src/store/stream/offset-store.ts)',
    sql: STREAM_OFFSETS_SQL,
  },
  {
    version: 4,
    description: "users' SCRAM credentials",
    sql: `
      -- per SCRAM mechanism: salt, iterations, StoredKey, ServerKey (src/auth/scram.ts), as
      -- JSON; '{}' for a user whose password was only ever given as a hash
      ALTER TABLE users ADD COLUMN scram TEXT NOT NULL DEFAULT '{}';
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
