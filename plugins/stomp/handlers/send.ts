/**
 * SEND (STOMP 1.2 "SEND"): publish to the exchange the destination names. Inside a
 * transaction the frame is kept for COMMIT. A receipt waits for the core's confirm, so for a
 * persistent message it means "stored" (RabbitMQ: receipts follow publisher confirms;
 * publish-receipts.ts).
 */
import { Message, validateExpiration, preconditionFailed } from '../../../src/core/index.js';
import type { StompFrame } from '../frame.js';
import type { StompConnection } from '../connection.js';
import { parseDestination, publishTarget } from '../destinations.js';
import { propertiesFromHeaders } from '../message.js';
import { QUEUE_DESTINATION_DEFAULTS, queueDeclareOptions } from '../queue-params.js';
import { resolveReplyTo } from '../reply-queues.js';
import { openTransaction, requireHeader } from './headers.js';
import { StompError } from '../errors.js';

export function handleSend(c: StompConnection, frame: StompFrame): void {
  const destination = requireHeader(frame, 'destination');
  // the broker-wide max_message_size holds on every protocol (AMQP answers 406 with this text)
  const max = c.core.maxMessageSize;
  const size = frame.bodyRef?.size ?? frame.body.length;
  if (size > max) {
    throw new StompError('Message too large', `message size ${size} is larger than configured max size ${max}`);
  }
  const receipt = frame.headers['receipt'];
  const tx = frame.headers['transaction'];
  if (tx !== undefined) {
    const frames = openTransaction(c, tx);
    publishTarget(parseDestination(destination)); // a bad destination fails now, not at COMMIT
    frames.push(frame);
    if (receipt !== undefined) c.sendReceipt(receipt);
    return;
  }
  const token = publishFrame(c, frame, receipt !== undefined);
  if (receipt !== undefined) c.receipts.after(token, receipt);
}

/**
 * Publish a SEND frame now.
 * @param confirm publish with a confirm token (returned; 0 when not confirmed)
 */
export function publishFrame(c: StompConnection, frame: StompFrame, confirm: boolean): number {
  const h = frame.headers;
  const publisher = c.publisher!;
  const dest = parseDestination(h['destination']!);
  const { exchange, routingKey } = publishTarget(dest);
  if (dest.kind === 'queue' && !c.declaredQueues.has(dest.name)) {
    // RabbitMQ's STOMP plugin declares a /queue/ destination on the first SEND to it only
    publisher.declareQueue(dest.name, queueDeclareOptions(h, QUEUE_DESTINATION_DEFAULTS));
    c.declaredQueues.add(dest.name);
  }
  const properties = propertiesFromHeaders(h, resolveReplyTo(c, h['reply-to']));
  const invalid = validateExpiration(properties.expiration);
  if (invalid !== null) throw preconditionFailed(invalid);
  // a body streamed to the journal as it arrived (streamed-send.ts) is named, not held
  const message = new Message(exchange, routingKey, properties, frame.body, null, Date.now(), frame.bodyRef ?? null);
  if (!confirm) {
    publisher.publish(message, false);
    return 0;
  }
  const token = c.receipts.issue();
  publisher.publish(message, false, token);
  return token;
}
