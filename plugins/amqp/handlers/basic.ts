/** basic.* (AMQP 0-9-1 class 60, with RabbitMQ's basic.nack). */
import { writeGetOk } from '../codec/content.js';
import { M } from '../codec/methods.js';
import { notImplemented } from '../errors.js';
import { encodedPropertiesOf } from '../message.js';
import type { MethodHandlers } from './index.js';

export const basicHandlers: MethodHandlers = {
  basicQos(ch, m) {
    // RabbitMQ: prefetch by size was never implemented, a hard error
    if (m.prefetchSize !== 0) throw notImplemented(`prefetch_size!=0 (${m.prefetchSize})`);
    // kombu (Celery's transport) sends global=true to RabbitMQ and global=false to any other
    // server, meaning one live limit for the channel both times (AMQP 0-9-1's own reading of
    // false). Warren reads the flag as RabbitMQ does, so py-amqp's false is taken as RabbitMQ
    // takes kombu's true; otherwise the raises Celery sends while it holds countdown tasks never
    // reach its consumer (RabbitMQ applies false to later consumers only) and they starve the worker.
    ch.session.qos(m.prefetchCount, m.global || ch.conn.clientProperties.product === 'py-amqp');
    ch.send({ id: M.basicQosOk });
  },

  basicConsume(ch, m) {
    // the queue may deliver before consume returns: consume-ok takes its place in the batch first
    const slot = m.noWait ? -1 : ch.reserveReply();
    const consumerTag = ch.session.consume(m.queue, {
      consumerTag: m.consumerTag,
      noAck: m.noAck,
      exclusive: m.exclusive,
      noLocal: m.noLocal,
      arguments: m.arguments,
    });
    if (slot >= 0) ch.fillReply(slot, { id: M.basicConsumeOk, consumerTag });
  },

  basicCancel(ch, m) {
    ch.session.cancel(m.consumerTag);
    if (!m.noWait) ch.send({ id: M.basicCancelOk, consumerTag: m.consumerTag });
  },

  basicPublish(ch, m) {
    if (m.immediate) throw notImplemented('immediate=true'); // as RabbitMQ since 3.0
    ch.content.begin(m.exchange, m.routingKey, m.mandatory);
  },

  basicGet(ch, m) {
    const r = ch.session.get(m.queue, m.noAck);
    if (r === null) {
      ch.send({ id: M.basicGetEmpty, clusterId: '' });
      return;
    }
    const w = ch.conn.writer;
    const msg = r.message;
    writeGetOk(w.out, ch.id, ch.conn.frameMax, r.deliveryTag, r.redelivered, msg.exchange, msg.routingKey, r.messageCount, encodedPropertiesOf(msg), msg.body, msg.size);
    if (msg.bodyRef !== null) w.writeBody(msg.bodyRef, ch.id, ch.conn.frameMax);
    w.scheduleFlush();
  },

  // in a transaction, settlements wait for tx.commit (transaction.ts)
  basicAck(ch, m) {
    if (ch.tx !== null) ch.session.holdSettlement(m.deliveryTag, m.multiple, null);
    else ch.session.ack(m.deliveryTag, m.multiple);
  },

  basicNack(ch, m) {
    if (ch.tx !== null) ch.session.holdSettlement(m.deliveryTag, m.multiple, m.requeue);
    else ch.session.nack(m.deliveryTag, m.multiple, m.requeue);
  },

  basicReject(ch, m) {
    if (ch.tx !== null) ch.session.holdSettlement(m.deliveryTag, false, m.requeue);
    else ch.session.reject(m.deliveryTag, m.requeue);
  },

  basicRecover(ch, m) {
    // recover-ok first, then the redeliveries the recover may trigger at once
    ch.send({ id: M.basicRecoverOk });
    ch.session.recover(m.requeue);
  },

  basicRecoverAsync(ch, m) {
    ch.session.recover(m.requeue);
  },
};
