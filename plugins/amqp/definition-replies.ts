/**
 * Replies that promise a durable definition — declare-ok, bind-ok, unbind-ok, delete-ok — go
 * out once the change is on every in-sync node of a cluster (`ProtocolCore
 * .afterMetadataReplicated`), as a publish's basic.ack does: a failover right after the reply
 * cannot lose the queue, exchange or binding it promised. On a single node, and whenever
 * nothing waits, the reply goes out at once, as before. While it waits the connection reads
 * nothing more and keeps the frames already read (frame-router.ts), so no later reply
 * overtakes it. Too few nodes in sync past the deadline: the promise cannot be given, and the
 * connection is closed with 541 INTERNAL_ERROR (the change stays on the leader; a client that
 * reconnects and declares again finds it).
 */
import { BrokerError } from '../../src/core/index.js';
import type { AmqpChannel } from './channel.js';
import type { AmqpMethod } from './codec/methods.js';

export function replyWhenReplicated(ch: AmqpChannel, reply: AmqpMethod, methodId: number): void {
  const conn = ch.conn;
  let waiting = false;
  let answered = false;
  conn.core.afterMetadataReplicated((refusal) => {
    answered = true;
    if (ch.state === 'open') {
      if (refusal === null) ch.send(reply);
      else ch.fail(new BrokerError('INTERNAL_ERROR', `INTERNAL_ERROR - not replicated: ${refusal.message}`), methodId);
    }
    if (waiting) conn.router?.resume();
  });
  if (!answered) {
    waiting = true;
    conn.router?.pause();
  }
}
