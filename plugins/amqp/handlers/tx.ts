/**
 * tx.* (AMQP 0-9-1 class 90), as RabbitMQ's channel answers them: select makes the channel
 * transactional (refused on a confirm channel), commit and rollback need a transactional
 * channel (406 "channel is not transactional"). The work is in ../transaction.ts.
 */
import { M } from '../codec/methods.js';
import { preconditionFailed } from '../errors.js';
import type { AmqpChannel } from '../channel.js';
import { AmqpTransaction } from '../transaction.js';
import type { MethodHandlers } from './index.js';

function transactionOf(ch: AmqpChannel): AmqpTransaction {
  if (ch.tx === null) throw preconditionFailed('channel is not transactional');
  return ch.tx;
}

export const txHandlers: MethodHandlers = {
  txSelect(ch) {
    if (ch.confirms !== null) throw preconditionFailed('cannot switch from confirm to tx mode');
    ch.tx ??= new AmqpTransaction(); // selecting again changes nothing
    ch.send({ id: M.txSelectOk });
  },

  txCommit(ch) {
    // commit-ok is sent by the transaction once everything it published is durable
    transactionOf(ch).commit(ch);
  },

  txRollback(ch) {
    transactionOf(ch).rollback(ch);
    ch.send({ id: M.txRollbackOk });
  },
};
