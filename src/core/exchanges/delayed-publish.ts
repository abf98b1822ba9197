import type { ScheduledTask } from '../delivery/scheduler.js';
import type { Exchange } from '../exchange.js';
import type { Message } from '../message.js';
import type { Publisher } from '../publisher.js';

/** A delayed-exchange message waiting for its time. */
export class DelayedPublish implements ScheduledTask {
  constructor(
    readonly publisher: Publisher,
    readonly exchange: Exchange,
    readonly message: Message,
    /** its seq under the exchange's delay store id, 0 when held in memory only */
    readonly seq: number,
  ) {}

  run(): void {
    if (this.exchange.deleted) return;
    // routed (and stored in its queues) first, then released from the holder: a crash in
    // between delivers it twice rather than never
    if (this.publisher.publish(this.exchange, this.message) === 'unroutable') {
      this.publisher.failureReply(this.message, 'unroutable', null);
    }
    if (this.seq !== 0) this.publisher.vhost.store?.messages.ack(this.exchange.delayStoreId, this.seq);
  }
}

/** The hidden store queue holding a delayed exchange's messages ('amq.' names cannot be declared by clients). */
export function delayedHolder(vhost: string, exchange: string) {
  return { vhost, name: `amq.delayed.${exchange}`, type: 'delayed', autoDelete: false, arguments: {} };
}

