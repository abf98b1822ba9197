import { CLASSIC_TYPE, maxPriorityOf, validateQueueArguments } from '../queue-arguments.js';
import type { QueueType } from '../queue-type.js';
import { ClassicQueue } from './classic-queue.js';

/**
 * Classic queues, the default kind: a FIFO buffer, or a priority buffer with
 * `x-max-priority`; durable ones keep persistent messages in the vhost's journal and page a
 * long backlog out to it.
 */
export const classicQueue: QueueType = {
  name: CLASSIC_TYPE,
  argumentKeys: [],

  declare(host, name, flags, args) {
    validateQueueArguments(args, name, host.name);
    host.checkQueueLimit(name);
    const maxPriority = maxPriorityOf(args);
    const q = new ClassicQueue(name, host.name, { durable: flags.durable, autoDelete: flags.autoDelete, arguments: args, maxPriority, ownerId: flags.ownerId }, host);
    host.adoptQueue(q);
    // durable, not exclusive: its definition and persistent messages survive a restart
    const s = host.store;
    if (s && q.durable && !q.exclusive) {
      const id = s.meta.saveQueue({ vhost: host.name, name, type: maxPriority > 0 ? 'priority' : CLASSIC_TYPE, autoDelete: q.autoDelete, arguments: args });
      q.attachStore(s.messages, id, false, s.memory);
    }
    return q;
  },

  restore(host, id, name, autoDelete, args) {
    const s = host.store;
    if (!s) return null;
    const q = new ClassicQueue(name, host.name, { durable: true, autoDelete, arguments: args, maxPriority: maxPriorityOf(args), ownerId: 0 }, host);
    // its policy first: a policy's message TTL applies to the backlog read back
    host.adoptQueue(q);
    q.attachStore(s.messages, id, true, s.memory);
    return q;
  },
};
