import type { FieldTable } from '../../../codec/types.js';
import type { VhostStore } from '../../vhost.js';
import type { QueueLifecycle } from '../classic/classic-queue.js';
import { validateQueueArguments } from '../queue-arguments.js';
import { QUORUM_TYPE, validateQuorumDeclare, type QuorumFlags } from './quorum-arguments.js';
import { QuorumQueue } from './quorum-queue.js';

/**
 * queue.declare of a new quorum queue: checked (quorum rules, then the arguments it shares
 * with classic queues), saved in the metadata and attached to the vhost's journal, so its
 * definition and every message survive a restart. Without a data directory (a library
 * broker) it lives in memory like everything else there.
 */
export function declareQuorum(
  vhost: string,
  lifecycle: QueueLifecycle,
  store: VhostStore | null,
  name: string,
  flags: QuorumFlags,
  args: FieldTable,
): QuorumQueue {
  validateQuorumDeclare(name, vhost, flags, args);
  validateQueueArguments(args, name, vhost, ['x-delivery-limit']);
  if (!store) return new QuorumQueue(name, vhost, args, lifecycle, null, 0, false);
  const id = store.meta.saveQueue({ vhost, name, type: QUORUM_TYPE, autoDelete: false, arguments: args });
  return new QuorumQueue(name, vhost, args, lifecycle, store.messages, id, false);
}

/** A quorum queue found in the metadata at start: its stored messages become its backlog. */
export function restoreQuorum(vhost: string, lifecycle: QueueLifecycle, store: VhostStore, id: number, name: string, args: FieldTable): QuorumQueue {
  return new QuorumQueue(name, vhost, args, lifecycle, store.messages, id, true);
}
