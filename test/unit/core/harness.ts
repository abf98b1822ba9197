/**
 * In-process harness for core tests: a front-end stand-in that records what the core hands
 * it, a connected session, and small helpers. No sockets: the core is driven through the same
 * Session API the protocol plugins use.
 */
import type { Session, SessionHandler } from '../../../src/core/api.js';
import { Core } from '../../../src/core/core.js';
import type { BrokerError } from '../../../src/core/errors.js';
import { Message } from '../../../src/core/message.js';
import type { MessageProperties } from '../../../src/codec/types.js';

export interface Delivery {
  tag: string;
  deliveryTag: number;
  redelivered: boolean;
  m: Message;
  body: string;
  at: number;
}

export class Recorder implements SessionHandler {
  got: Delivery[] = [];
  cancelled: string[] = [];
  returns: string[] = [];
  confirms: [number, boolean][] = [];

  deliver(tag: string, deliveryTag: number, redelivered: boolean, m: Message): void {
    this.got.push({ tag, deliveryTag, redelivered, m, body: m.body.toString(), at: Date.now() });
  }
  consumerCancelled(tag: string): void {
    this.cancelled.push(tag);
  }
  returned(m: Message): void {
    this.returns.push(m.body.toString());
  }
  confirmed(token: number, ack: boolean): void {
    this.confirms.push([token, ack]);
  }
  bodies(): string[] {
    return this.got.map((g) => g.body);
  }
  tags(): string[] {
    return this.got.map((g) => g.tag);
  }
}

/** A core with one connection (guest, loopback) and one session recording into `rec`. */
export function setup(core = new Core()) {
  const conn = core.connect({ protocol: 'test', vhost: '/', user: 'guest', peerHost: '127.0.0.1', peerPort: 1 });
  const rec = new Recorder();
  const s: Session = conn.openSession(rec);
  return { core, conn, rec, s, vhost: core.vhosts.get('/')! };
}

export const msg = (routingKey: string, body = 'm', props: MessageProperties = {}, exchange = '') =>
  new Message(exchange, routingKey, props, Buffer.from(body));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The AMQP reply code a call fails with, 0 when it succeeds. */
export function code(f: () => unknown): number {
  try {
    f();
  } catch (e) {
    return (e as BrokerError).replyCode;
  }
  return 0;
}
