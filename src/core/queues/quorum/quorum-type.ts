import { validateQueueArguments } from '../queue-arguments.js';
import type { QueueType } from '../queue-type.js';
import { QUORUM_ARGUMENT_KEYS, QUORUM_TYPE, validateQuorumDeclare } from './quorum-arguments.js';
import { QuorumQueue } from './quorum-queue.js';

/** Quorum queues (`x-queue-type: quorum`): durable, every message stored (quorum-queue.ts). */
export const quorumQueue: QueueType = {
  name: QUORUM_TYPE,
  argumentKeys: QUORUM_ARGUMENT_KEYS,

  /**
   * queue.declare of a new quorum queue: checked (quorum rules, then the arguments it shares
   * with classic queues), saved in the metadata and attached to the vhost's journal, so its
   * definition and every message survive a restart. Without a data directory (a library
   * broker) it lives in memory like everything else there.
   */
  declare(host, name, flags, args) {
    host.checkQueueLimit(name);
    validateQuorumDeclare(name, host.name, flags, args);
    validateQueueArguments(args, name, host.name, ['x-delivery-limit']);
    const s = host.store;
    const id = s ? s.meta.saveQueue({ vhost: host.name, name, type: QUORUM_TYPE, autoDelete: false, arguments: args }) : 0;
    const q = new QuorumQueue(name, host.name, args, host, s?.messages ?? null, id, false, s?.memory);
    host.adoptQueue(q);
    return q;
  },

  /** A quorum queue found in the metadata at start: its stored messages become its backlog. */
  restore(host, id, name, _autoDelete, args) {
    const s = host.store;
    if (!s) return null;
    const q = new QuorumQueue(name, host.name, args, host, s.messages, id, true, s.memory);
    host.adoptQueue(q);
    return q;
  },
};
