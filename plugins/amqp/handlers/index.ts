/**
 * The method dispatch table: method id → handler, for every method a client may send on a
 * channel. Each method class has its own file; connection-class methods on channel 0 are the
 * connection's handshake state machine (handlers/connection.ts), not in this table. A method
 * missing here is answered as RabbitMQ does: 503 COMMAND_INVALID "unimplemented method".
 */
import type { AmqpChannel } from '../channel.js';
import { M, type AmqpMethod, type MethodName, type MethodOf } from '../codec/methods.js';
import { basicHandlers } from './basic.js';
import { channelHandlers } from './channel.js';
import { confirmHandlers } from './confirm.js';
import { exchangeHandlers } from './exchange.js';
import { queueHandlers } from './queue.js';
import { txHandlers } from './tx.js';

/** Handlers by method name, each typed with its own method object. */
export type MethodHandlers = { [N in MethodName]?: (ch: AmqpChannel, m: MethodOf<N>) => void };

export type MethodHandler = (ch: AmqpChannel, m: AmqpMethod) => void;

function table(...groups: MethodHandlers[]): ReadonlyMap<number, MethodHandler> {
  const map = new Map<number, MethodHandler>();
  for (const group of groups) {
    for (const [name, handler] of Object.entries(group)) map.set(M[name as MethodName], handler as MethodHandler);
  }
  return map;
}

export const HANDLERS = table(channelHandlers, exchangeHandlers, queueHandlers, basicHandlers, confirmHandlers, txHandlers);
