import type { Db } from './db.js';
import type { NotReplicatedError } from '../log/append-observer.js';

/** One write statement as it ran: its SQL text and positional parameters. */
export interface TappedStatement {
  sql: string;
  params: unknown[];
}

/**
 * Sees every change written to a metadata database, in commit order: replication's metadata
 * log (src/cluster/replication/). Each call is one committed unit — a transaction, or one
 * statement outside any — so a replica applying the statements in order, in one transaction
 * per call, ends with the same rows (the statements carry their values, timestamps included;
 * ids come from AUTOINCREMENT, the same on a replica that started from the same snapshot).
 * Called synchronously after the commit; the observer copies nothing (the values are its own).
 */
export interface MetadataTap {
  /** `db` (named `name`, e.g. 'meta.db') is open and migrated: a replica's snapshot source (`VACUUM INTO`) */
  opened(name: string, db: Db): void;
  changed(name: string, statements: TappedStatement[]): void;
  /** `db` is about to close */
  closing?(name: string): void;
  /**
   * Optional gate (replication): `release` is called once every change reported so far is
   * held by the in-sync replicas — with null, or with a `NotReplicatedError` when too few
   * are in sync past the deadline (the change stays here). What a declare-ok, a SUBACK or a
   * receipt for a definition waits for. Absent (single node): nothing waits.
   */
  hold?(release: (refusal: NotReplicatedError | null) => void): void;
}

type RunResult = { changes: number };
type Runner = (...params: unknown[]) => RunResult;
type Tx = ((...args: unknown[]) => unknown) & Record<string, unknown>;

/**
 * Report every write of `db` to `tap`: wraps `prepare` (write statements' `run`) and
 * `transaction` (statements of a transaction are reported once it commits, and dropped when
 * it rolls back — a nested one's to its savepoint). Statements that changed no row are not
 * reported. Call after migrations: every node migrates its own database.
 */
export function tapDatabase(db: Db, name: string, tap: MetadataTap): void {
  let depth = 0;
  let pending: TappedStatement[] = [];
  const report = (statement: TappedStatement): void => {
    if (depth > 0) pending.push(statement);
    else tap.changed(name, [statement]);
  };
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const stmt = prepare(sql);
    if (stmt.reader) return stmt;
    const run = stmt.run.bind(stmt) as Runner;
    (stmt as unknown as { run: Runner }).run = (...params: unknown[]) => {
      const result = run(...params);
      if (result.changes > 0) report({ sql, params });
      return result;
    };
    return stmt;
  }) as Db['prepare'];
  const transaction = db.transaction.bind(db) as unknown as (fn: (...args: unknown[]) => unknown) => Tx;
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    const tx = transaction(fn);
    const wrap = (variant: Tx) => (...args: unknown[]) => {
      const mark = pending.length;
      depth++;
      let committed = false;
      try {
        const result = variant(...args);
        committed = true;
        return result;
      } finally {
        depth--;
        if (!committed) pending.length = mark;
        else if (depth === 0 && pending.length > 0) {
          const statements = pending;
          pending = [];
          tap.changed(name, statements);
        }
      }
    };
    const wrapped = wrap(tx) as unknown as Tx;
    for (const v of ['deferred', 'immediate', 'exclusive']) wrapped[v] = wrap(tx[v] as Tx);
    return wrapped;
  }) as unknown as Db['transaction'];
  const close = db.close.bind(db);
  db.close = (() => {
    tap.closing?.(name);
    return close();
  }) as Db['close'];
  tap.opened(name, db);
}
