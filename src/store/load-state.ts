import { join } from 'node:path';
import { hasCleanMarker, removeCleanMarker } from './clean-shutdown.js';
import { makeDurableDir } from './disk/durable-dir.js';
import type { StoreMetrics } from './metrics.js';
import { recoverJournal, type RecoveryReport } from './recovery.js';
import { loadSnapshot, removeSnapshot } from './snapshot.js';
import { SPILL_DIR, StoreState } from './store-state.js';
import type { ResolvedStoreOptions } from './store-options.js';

/**
 * The opening half of `FileStore.open`: make the directory (durably), clear the index spill
 * caches, then build the in-memory state from the clean-shutdown snapshot when it can be
 * trusted, else by scanning the journal; finally remove the marker and the snapshot, which
 * would be stale from here on.
 */
export async function loadStoreState(o: ResolvedStoreOptions, counters: StoreMetrics): Promise<{ state: StoreState; report: RecoveryReport; isNew: boolean }> {
  const { disk } = o;
  const isNew = await makeDurableDir(disk, o.dir);
  await disk.rm(join(o.dir, SPILL_DIR)); // index caches, rebuilt from the journal or the snapshot
  await disk.mkdir(join(o.dir, SPILL_DIR));
  // a directory created just now holds nothing that could have stopped uncleanly
  const clean = !isNew && (await hasCleanMarker(disk, o.dir));
  const t0 = performance.now();
  let state: StoreState;
  let report: RecoveryReport;
  const why = { reason: '' };
  const snap = clean
    ? await loadSnapshot(disk, o.dir, o.journalId, o.maxRecordSize, o.indexResidentChunks, counters, o.isKnownQueue, why)
    : null;
  if (snap) {
    state = snap.state;
    report = {
      uncleanShutdown: false,
      fromSnapshot: true,
      millis: performance.now() - t0,
      segmentsScanned: 0,
      recordsReplayed: 0,
      truncated: [],
      damaged: [],
      removedFiles: [],
      queues: snap.queues,
      messages: snap.messages,
      unknownQueueRefs: snap.unknownQueueRefs,
    };
  } else {
    if (clean) o.log('info', `journal ${o.journalId}: clean stop, but scanning (${why.reason})`);
    const result = await recoverJournal({
      disk,
      dir: o.dir,
      journalId: o.journalId,
      maxRecordSize: o.maxRecordSize,
      cleanShutdown: clean || isNew,
      isKnownQueue: o.isKnownQueue,
      log: o.log,
    });
    state = StoreState.fromRecovery(result, disk, o.dir, o.indexResidentChunks, counters);
    report = result.report;
  }
  // from here on a crash is an unclean stop again, and the snapshot would be stale
  await removeSnapshot(disk, o.dir);
  if (clean) await removeCleanMarker(disk, o.dir);
  return { state, report, isNew };
}
