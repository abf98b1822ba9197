import { decodeProperties } from '../../../codec/basic-properties.js';
import type { StreamRecordView } from '../../../store/stream/stream-format.js';
import { Message } from '../../message.js';

/**
 * A stream record as a core message: its properties (already carrying `x-stream-offset`) are
 * decoded once and also kept as the bytes they are, so an AMQP delivery writes them as read;
 * the body is a view of the read buffer, not a copy.
 */
export function messageOfRecord(buf: Buffer, view: StreamRecordView): Message {
  const properties = decodeProperties(buf, view.propertiesAt, view.bodyAt);
  return new Message(
    view.exchange(buf),
    view.routingKey(buf),
    properties,
    buf.subarray(view.bodyAt, view.end),
    buf.subarray(view.propertiesAt, view.bodyAt),
    view.timestamp,
  );
}
