/**
 * What one session (an AMQP channel; an MQTT or STOMP connection's one session) has done,
 * as plain counters: incremented on the publish/deliver/ack paths (one integer add, nothing
 * allocated), read every sample interval by management, which turns them into RabbitMQ's
 * channel `message_stats` and their rates.
 */
export class SessionStats {
  /** messages published on the session */
  publish = 0;
  /** publisher confirms sent (acks: nacks are not counted, as RabbitMQ counts them) */
  confirm = 0;
  /** mandatory messages returned unroutable (basic.return) */
  returnUnroutable = 0;
  /** unroutable messages dropped (not mandatory) */
  dropUnroutable = 0;
  /** deliveries to consumers that ack */
  deliver = 0;
  /** deliveries to no-ack consumers (direct reply-to included) */
  deliverNoAck = 0;
  /** basic.get answered with a message, to be acked */
  get = 0;
  /** basic.get answered with a message, no ack */
  getNoAck = 0;
  /** basic.get on an empty queue */
  getEmpty = 0;
  /** deliveries and gets of messages delivered before */
  redeliver = 0;
  /** deliveries acknowledged */
  ack = 0;
}
