/**
 * A batch of messages for one destination published as one (a Kafka record batch): messages
 * that share an exchange and a routing key pass the publish checks once and are routed once;
 * bound for one stream queue, they are appended one after the other (each its own record and
 * offset) with one durability point — the last offset, which the log commits after the ones
 * before it — so one confirm covers the batch. A batch that goes anywhere else, or whose
 * messages could route differently (another exchange or key, CC/BCC headers), is published
 * message by message, with the same outcome as separate publishes.
 */
import { DurabilityPoints } from './durability.js';
import type { Exchange } from './exchange.js';
import type { Message } from './message.js';
import type { PublishGuard } from './publish-guard.js';
import { isStreamQueue } from './queues/stream/stream-queue.js';
import type { SessionStats } from './session-stats.js';
import type { PublishOutcome } from './publisher.js';
import type { VHost } from './vhost.js';

/** What of the session a batch publish uses. */
export interface BatchPublisher {
  readonly stats: SessionStats;
  readonly publisherId: number;
  readonly guard: PublishGuard;
  readonly vhost: VHost;
}

/** Publish `messages`; `points` (cleared first) gets the batch's durability points. */
export function publishBatch(s: BatchPublisher, messages: readonly Message[], points: DurabilityPoints): PublishOutcome {
  points.clear();
  const n = messages.length;
  if (n === 0) return 'routed';
  const first = messages[0]!;
  if (!routesAlike(messages)) return oneByOne(s, messages, points);
  const x = s.guard.check(first);
  for (let i = 0; i < n; i++) messages[i]!.publisherId = s.publisherId;
  s.stats.publish += n;
  x.publishIn += n;
  const queues = s.vhost.publisher.route(x, first);
  const stream = queues.length === 1 ? queues[0]! : null;
  if (stream === null || !isStreamQueue(stream)) return oneByOneRouted(s, x, messages, points);
  x.publishOut += n;
  for (let i = 0; i < n; i++) if (!stream.enqueue(messages[i]!, points)) return 'rejected';
  return 'routed';
}

/** same exchange and routing key, no sender-selected keys: one routing holds for all */
function routesAlike(messages: readonly Message[]): boolean {
  const { exchange, routingKey } = messages[0]!;
  for (const m of messages) {
    if (m.exchange !== exchange || m.routingKey !== routingKey) return false;
    const h = m.properties.headers;
    if (h !== undefined && (h.CC !== undefined || h.BCC !== undefined)) return false;
  }
  return true;
}

function oneByOne(s: BatchPublisher, messages: readonly Message[], points: DurabilityPoints): PublishOutcome {
  let outcome: PublishOutcome = 'routed';
  const each = new DurabilityPoints();
  for (const m of messages) {
    const x = s.guard.check(m);
    m.publisherId = s.publisherId;
    s.stats.publish++;
    x.publishIn++;
    outcome = worse(outcome, publishOne(s, x, m, each, points));
  }
  return outcome;
}

/** The checks were made and counted; each message is routed and enqueued on its own. */
function oneByOneRouted(s: BatchPublisher, x: Exchange, messages: readonly Message[], points: DurabilityPoints): PublishOutcome {
  let outcome: PublishOutcome = 'routed';
  const each = new DurabilityPoints();
  for (const m of messages) outcome = worse(outcome, publishOne(s, x, m, each, points));
  return outcome;
}

function publishOne(s: BatchPublisher, x: Exchange, m: Message, each: DurabilityPoints, all: DurabilityPoints): PublishOutcome {
  const outcome = s.vhost.publisher.publish(x, m, each);
  if (outcome === 'unroutable') {
    s.stats.dropUnroutable++;
    s.vhost.publisher.failureReply(m, 'unroutable', null);
  }
  all.add(each);
  return outcome;
}

/** a rejected message makes the batch rejected; an unroutable one, unroutable unless rejected */
function worse(a: PublishOutcome, b: PublishOutcome): PublishOutcome {
  if (a === 'rejected' || b === 'rejected') return 'rejected';
  return a === 'unroutable' || b === 'unroutable' ? 'unroutable' : 'routed';
}
