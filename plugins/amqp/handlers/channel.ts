/**
 * channel.* (AMQP 0-9-1 class 20) once the channel is open, and the deprecated access.request.
 * channel.open itself is handled by the connection, which owns the channel slots.
 */
import { M } from '../codec/methods.js';
import { notImplemented } from '../errors.js';
import type { MethodHandlers } from './index.js';

export const channelHandlers: MethodHandlers = {
  channelClose(ch) {
    ch.closeByClient();
  },

  channelFlow(ch, m) {
    // RabbitMQ (since 3.3) refuses a client's request to pause deliveries: 540 for
    // active=false, flow-ok for active=true (prefetch is the way to throttle a consumer)
    if (!m.active) throw notImplemented('active=false');
    ch.session.setFlow(true);
    ch.send({ id: M.channelFlowOk, active: true });
  },

  // access.request is gone from 0-9-1 but old clients still send it: RabbitMQ answers ticket 1
  accessRequest(ch) {
    ch.send({ id: M.accessRequestOk, ticket: 1 });
  },
};
