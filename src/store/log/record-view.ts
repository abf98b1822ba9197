/**
 * Where the variable fields every message record has — exchange, routing key, properties,
 * body — lie in a buffer. The journal's MSG view (format.ts) and the stream's record view
 * (stream-format.ts) extend it with their own fixed fields; readers reuse one instance (no
 * allocation per record).
 */
export class MessageFieldsView {
  exchangeAt = 0;
  exchangeLength = 0;
  routingKeyAt = 0;
  routingKeyLength = 0;
  propertiesAt = 0;
  propertiesLength = 0;
  bodyAt = 0;
  bodyLength = 0;

  exchange(buf: Buffer): string {
    return buf.toString('utf8', this.exchangeAt, this.exchangeAt + this.exchangeLength);
  }
  routingKey(buf: Buffer): string {
    return buf.toString('utf8', this.routingKeyAt, this.routingKeyAt + this.routingKeyLength);
  }
}
