/**
 * NACK (STOMP 1.1/1.2 "NACK"): give a delivery back, cumulatively in `client` mode. With
 * `requeue:false` the message is dead-lettered if its queue has a dead-letter exchange,
 * dropped otherwise (RabbitMQ's STOMP extension; the default is to requeue).
 */
import type { StompFrame } from '../frame.js';
import type { StompConnection } from '../connection.js';
import { settleOrKeep } from './ack.js';

export function handleNack(c: StompConnection, frame: StompFrame): void {
  settleOrKeep(c, frame, false);
}
