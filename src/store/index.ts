/**
 * Warren's store: the durable message journal (one per vhost), its in-memory twin, and the
 * SQLite metadata store. See docs/store.md.
 */
export type { MessageStore, MessageToStore, StoredMessage, ReadRequest, ReadListener, DurableListener } from './message-store.js';
export { TRANSIENT_MESSAGE } from './message-store.js';
export { FileStore, type FileStoreOptions } from './file-store.js';
export { MemoryStore } from './memory-store.js';
export type { Durability } from './journal.js';
export { DamagedRecordError } from './message-reader.js';
export type { RecoveryReport, TruncationReport, DamageReport, StoreLog } from './recovery.js';
export type { ReclaimOptions } from './compaction.js';
export { STORE_DEFAULTS } from './store-options.js';
export type { StoreMetricsSnapshot, HistogramSummary } from './metrics.js';
export {
  MetadataStore,
  type Definitions,
  type VhostDefinition,
  type ExchangeDefinition,
  type QueueDefinition,
  type BindingDefinition,
  type UserDefinition,
  type PermissionDefinition,
} from './metadata/metadata-store.js';
