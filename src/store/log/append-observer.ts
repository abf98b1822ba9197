/**
 * One place to see every byte appended to any log of a node — each journal's segments and
 * every stream's — in the order written, with its durability point: what replication will
 * ship. Given to the store once (`PersistenceOptions.appendObserver`, or per store:
 * `FileStoreOptions.appendObserver`, `StreamStoreOptions.appendObserver`), it is called by
 * the log engine (group-commit.ts) of each log.
 *
 * Costs nothing when unset (one null check per gather write, none per record). When set, the
 * calls are synchronous and the buffers are the ones written: an observer must copy what it
 * keeps past the call, and must not throw or block.
 */
export interface AppendObserver {
  /**
   * `bytes` bytes (`buffers`, back to back) were written to segment `segment` of `log` at
   * `position`: whole records, framed and checksummed, in log order. Called once per gather
   * write, after it returned and before the fdatasync that will cover it.
   */
  written(log: string, segment: number, position: number, buffers: readonly Buffer[], bytes: number): void;
  /**
   * Everything written to `log` up to `end` of segment `segment` is durable: `synced` when an
   * fdatasync covered it (`fsync` mode), false when the log's durability is `write` (durable
   * once written). Called once per segment a group commit wrote to, before any confirm the
   * commit releases.
   */
  durable(log: string, segment: number, end: number, synced: boolean): void;
  /** Segment `segment` of `log` is complete at `size` bytes, synced and closed. */
  sealed(log: string, segment: number, size: number): void;
}

/** The log ids the store uses: `journal/<vhost journal id>` and `stream/<queue id>`. */
export const journalLogId = (journalId: number): string => `journal/${journalId}`;
export const streamLogId = (queueId: number): string => `stream/${queueId}`;
