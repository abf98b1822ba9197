/** queue.* (AMQP 0-9-1 class 50). */
import { M } from '../codec/methods.js';
import { replyWhenReplicated } from '../definition-replies.js';
import type { MethodHandlers } from './index.js';

export const queueHandlers: MethodHandlers = {
  queueDeclare(ch, m) {
    const r = ch.session.declareQueue(m.queue, {
      passive: m.passive,
      durable: m.durable,
      exclusive: m.exclusive,
      autoDelete: m.autoDelete,
      arguments: m.arguments,
    });
    if (!m.noWait) replyWhenReplicated(ch, { id: M.queueDeclareOk, queue: r.queue, messageCount: r.messageCount, consumerCount: r.consumerCount }, M.queueDeclare);
  },

  queueBind(ch, m) {
    ch.session.bindQueue(m.queue, m.exchange, m.routingKey, m.arguments);
    if (!m.noWait) replyWhenReplicated(ch, { id: M.queueBindOk }, M.queueBind);
  },

  // queue.unbind has no no-wait flag: always answered
  queueUnbind(ch, m) {
    ch.session.unbindQueue(m.queue, m.exchange, m.routingKey, m.arguments);
    replyWhenReplicated(ch, { id: M.queueUnbindOk }, M.queueUnbind);
  },

  queuePurge(ch, m) {
    const messageCount = ch.session.purgeQueue(m.queue);
    if (!m.noWait) ch.send({ id: M.queuePurgeOk, messageCount });
  },

  queueDelete(ch, m) {
    const messageCount = ch.session.deleteQueue(m.queue, m.ifUnused, m.ifEmpty);
    if (!m.noWait) replyWhenReplicated(ch, { id: M.queueDeleteOk, messageCount }, M.queueDelete);
  },
};
