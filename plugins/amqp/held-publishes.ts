/**
 * AMQP's side of the publish gate (src/frontend/publish-gate.ts): a basic.publish completed
 * while a resource alarm blocks publishing waits there, reading stops, and it goes to the core
 * in order when the alarm clears (RabbitMQ's memory/disk alarms). Only publishes are held;
 * the other methods of the frames already read go on. Beyond RabbitMQ, a publish held longer
 * than the deadline fails explicitly: basic.nack on a confirm channel, otherwise the
 * connection is closed with a clear reason — never silently dropped.
 */
import { BrokerError, type Message } from '../../src/core/index.js';
import type { AmqpChannel } from './channel.js';
import type { AmqpConnection } from './connection.js';

export interface HeldPublish {
  channel: AmqpChannel;
  message: Message;
  mandatory: boolean;
  /** publisher-confirm sequence number, or -1 without confirms */
  seq: number;
}

/**
 * Past the deadline: nack what was published on confirm channels; close the connection if
 * anything was not. Reading stays off until the alarm clears either way.
 */
export function failHeldPublishes(conn: AmqpConnection, held: HeldPublish[]): false {
  let unconfirmed = false;
  for (const h of held) {
    if (h.seq >= 0) h.channel.confirmed(h.seq, false);
    else unconfirmed = true;
  }
  if (!unconfirmed) return false;
  conn.writer.flush();
  const alarms = conn.core.alarms;
  const text = `CONNECTION_FORCED - publishing blocked by a resource alarm (${alarms.reason}) for longer than ${alarms.settings.publishDeadlineMs} ms`;
  conn.fail(new BrokerError('CONNECTION_FORCED', text), 0);
  return false;
}
