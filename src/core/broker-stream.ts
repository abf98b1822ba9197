/**
 * Broker-owned streams (`ProtocolCore.brokerStream`): a plugin's durable state kept as an
 * ordinary stream queue, declared without a client connection and appended to directly.
 */
import type { FieldTable } from '../codec/types.js';
import { notFound, preconditionFailed } from './errors.js';
import type { BrokerStream } from './protocol-core.js';
import { isStreamQueue } from './queues/stream/stream-queue.js';
import { viewOf } from './stream-view.js';
import type { VHost } from './vhost.js';

/** connection id 0: no client owns the queue */
const BROKER = 0;

export function brokerStreamOf(v: VHost | undefined, vhost: string, name: string, args: FieldTable): BrokerStream {
  if (!v) throw notFound('vhost', vhost, vhost);
  const q = v.declareQueue(name, { durable: true, arguments: args }, BROKER);
  if (!isStreamQueue(q)) throw preconditionFailed(`queue '${name}' in vhost '${vhost}' is not a stream`);
  const append: BrokerStream['append'] = (message, points) => {
    const offset = q.append(message);
    if (points === null) return offset;
    if (offset >= 0) points.noteLog(q.log, offset);
    else points.failure ??= q.log.error ?? new Error(`not stored: stream '${name}' refused the append`);
    return offset;
  };
  return Object.assign(viewOf(v, q), { append });
}
