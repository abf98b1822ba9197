/**
 * One place to see every byte appended to any log of a node — each journal's segments and
 * every stream's — in the order written, with its durability point: what replication will
 * ship. Given to the store once (`NodeStoreOptions.appendObserver`, or per store:
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
  /**
   * Optional durability gate (replication): called after `durable` for each group commit of
   * `log`; the commit's confirms are released only once `release` is called — with null when
   * the round may be reported durable (every in-sync replica has it), or with a
   * `NotReplicatedError` to refuse its confirms (negative confirm) while the log carries on:
   * the bytes are durable here, only the promise to the client cannot be given. The log waits
   * for `release` before its next round. Absent (single node): released at once, no cost.
   */
  hold?(log: string, release: (refusal: NotReplicatedError | null) => void): void;
}

/**
 * A confirm refused because too few replicas have the record (replication's `minIsr`): the
 * publisher gets a negative confirm, the record stays in the log. The store's own waiters
 * (flush at close, copy-forward) treat it as durable: it is, on this node.
 */
export class NotReplicatedError extends Error {
  readonly notReplicated = true;
}

/** True for a refusal of the durability gate (not a write failure). */
export const isNotReplicated = (e: Error | null): boolean => e !== null && (e as Partial<NotReplicatedError>).notReplicated === true;

/** The log ids the store uses: `journal/<vhost journal id>` and `stream/<queue id>`. */
export const journalLogId = (journalId: number): string => `journal/${journalId}`;
export const streamLogId = (queueId: number): string => `stream/${queueId}`;
