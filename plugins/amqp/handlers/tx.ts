/**
 * tx.* (AMQP 0-9-1 class 90). The core has no transactions: refuse clearly with 540
 * NOT_IMPLEMENTED instead of the generic "unimplemented method".
 */
import { notImplemented } from '../errors.js';
import type { MethodHandlers } from './index.js';

const refuse = (): never => {
  throw notImplemented('transactions (tx.select, tx.commit, tx.rollback) are not supported');
};

export const txHandlers: MethodHandlers = { txSelect: refuse, txCommit: refuse, txRollback: refuse };
