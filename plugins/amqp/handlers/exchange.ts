/** exchange.* (AMQP 0-9-1 class 40, with RabbitMQ's exchange.bind/unbind). */
import { M } from '../codec/methods.js';
import { replyWhenReplicated } from '../definition-replies.js';
import type { MethodHandlers } from './index.js';

export const exchangeHandlers: MethodHandlers = {
  exchangeDeclare(ch, m) {
    ch.session.declareExchange(m.exchange, m.type, {
      passive: m.passive,
      durable: m.durable,
      autoDelete: m.autoDelete,
      internal: m.internal,
      arguments: m.arguments,
    });
    if (!m.noWait) replyWhenReplicated(ch, { id: M.exchangeDeclareOk }, M.exchangeDeclare);
  },

  exchangeDelete(ch, m) {
    ch.session.deleteExchange(m.exchange, m.ifUnused);
    if (!m.noWait) replyWhenReplicated(ch, { id: M.exchangeDeleteOk }, M.exchangeDelete);
  },

  exchangeBind(ch, m) {
    ch.session.bindExchange(m.destination, m.source, m.routingKey, m.arguments);
    if (!m.noWait) replyWhenReplicated(ch, { id: M.exchangeBindOk }, M.exchangeBind);
  },

  exchangeUnbind(ch, m) {
    ch.session.unbindExchange(m.destination, m.source, m.routingKey, m.arguments);
    if (!m.noWait) replyWhenReplicated(ch, { id: M.exchangeUnbindOk }, M.exchangeUnbind);
  },
};
