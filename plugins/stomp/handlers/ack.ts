/**
 * ACK (STOMP 1.2 "ACK"): the frame names a delivery by the MESSAGE's `ack` header (1.2, in
 * `id`) or `message-id` (1.0, 1.1). Inside a transaction it is kept for COMMIT.
 */
import type { StompFrame } from '../frame.js';
import type { StompConnection } from '../connection.js';
import { StompError } from '../errors.js';
import { booleanHeader } from '../queue-params.js';
import { Subscription } from '../subscription.js';
import { missingHeader } from '../errors.js';
import { openTransaction } from './headers.js';

export function handleAck(c: StompConnection, frame: StompFrame): void {
  settleOrKeep(c, frame, true);
}

/** ACK or NACK now, or keep it for COMMIT. */
export function settleOrKeep(c: StompConnection, frame: StompFrame, ack: boolean): void {
  ackIdOf(c, frame); // a frame without its id fails now, not at COMMIT
  const tx = frame.headers['transaction'];
  if (tx !== undefined) openTransaction(c, tx).push(frame);
  else settleFrame(c, frame, ack);
}

export function settleFrame(c: StompConnection, frame: StompFrame, ack: boolean): void {
  const ackId = ackIdOf(c, frame);
  const ref = Subscription.parseAckId(ackId);
  if (ref === null || ref.connection !== c.number) {
    throw new StompError('Invalid message-id', `'${ackId}' is not the id of a message delivered on this connection`);
  }
  const s = c.subscriptionsByNumber.get(ref.subscription);
  if (!s) throw new StompError('Subscription not found', `the subscription of message '${ackId}' has ended`);
  // RabbitMQ: NACK requeues unless `requeue:false`, which dead-letters (or drops) the message
  const requeue = ack || booleanHeader(frame.headers['requeue']) !== false;
  s.settle(ref.tag, ack, requeue);
  if (s.retired) c.releaseIfSettled(s);
}

/** STOMP 1.2 names the delivery in `id`, 1.0 and 1.1 in `message-id`; either is accepted. */
function ackIdOf(c: StompConnection, frame: StompFrame): string {
  const primary = c.version === '1.2' ? 'id' : 'message-id';
  const v = frame.headers[primary] ?? frame.headers[primary === 'id' ? 'message-id' : 'id'];
  if (v === undefined) throw missingHeader(frame.command, primary);
  return v;
}
