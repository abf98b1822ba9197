import { nowMs } from './clock.mjs';
import { openConnection, closeQuietly } from './connect.mjs';
import { LatencyHistogram } from './histogram.mjs';
import { readKeyIndex, readPublishedAt, readSequence } from './payload.mjs';
import { cpuSince } from './publisher.mjs';

/**
 * @typedef {object} ConsumerConfig
 * @property {string} url
 * @property {string} name        connection name shown by the broker
 * @property {string} queue
 * @property {number} prefetch    basic.qos prefetch-count for this consumer
 * @property {number} reportEvery send progress after this many deliveries
 * @property {{ modulo: number, remainder: number } | null} routeCheck
 *   when set, every delivered keyIndex must satisfy keyIndex % modulo === remainder
 *   (the topic scenario binds key i to queue i % queues)
 */

/** Progress is also flushed on this period so the tail of a run is seen promptly. */
const REPORT_INTERVAL_MS = 5;

/**
 * Consumes with manual acknowledgements (one basic.ack per delivery), checks
 * ordering and routing, records publish → deliver latency, and reports a
 * running count to the coordinator, which turns it into publisher credit.
 */
export class ConsumerRole {
  /** @param {ConsumerConfig} config @param {import('./link.mjs').Link} link */
  constructor(config, link) {
    this.config = config;
    this.link = link;
    /** @type {import('amqplib').ChannelModel | null} */
    this.connection = null;
    /** @type {import('amqplib').Channel | null} */
    this.channel = null;
    this.consumerTag = '';
    this.closing = false;

    this.consumed = 0;
    this.reported = 0;
    this.lastSequence = 0;
    this.outOfOrder = 0;
    this.redelivered = 0;
    this.misrouted = 0;
    this.measureAt = Infinity;
    this.stopAt = Infinity;
    this.consumedAtMeasure = 0;
    this.consumedAtStop = 0;
    this.cpuAtMeasure = process.cpuUsage();
    this.cpuMicros = 0;
    this.histogram = new LatencyHistogram();
    /** @type {NodeJS.Timeout | null} */
    this.reportTimer = null;

    this.onDelivery = this.onDelivery.bind(this);
    link.onMessage((m) => this.onCoordinatorMessage(m));
  }

  async start() {
    const { config } = this;
    const connection = await openConnection(config.url, config.name);
    this.connection = connection;
    connection.on('error', (err) => this.fail(`consumer connection error: ${err.message}`));
    connection.on('close', () => { if (!this.closing) this.fail('consumer connection closed by the broker'); });
    const channel = await connection.createChannel();
    this.channel = channel;
    channel.on('error', (err) => this.fail(`consumer channel error: ${err.message}`));
    channel.on('close', () => { if (!this.closing) this.fail('consumer channel closed by the broker'); });
    await channel.prefetch(config.prefetch);
    const reply = await channel.consume(config.queue, this.onDelivery, { noAck: false });
    this.consumerTag = reply.consumerTag;
    this.reportTimer = setInterval(() => this.report(), REPORT_INTERVAL_MS);
    this.link.send({ type: 'ready' });
  }

  /** @param {import('amqplib').ConsumeMessage | null} message */
  onDelivery(message) {
    if (message === null) {
      // basic.cancel from the broker (e.g. the queue was deleted)
      this.fail(`consumer of ${this.config.queue} was cancelled by the broker`);
      return;
    }
    const now = nowMs();
    const body = message.content;
    const publishedAt = readPublishedAt(body);
    const sequence = readSequence(body);
    this.consumed++;
    if (publishedAt >= this.measureAt && publishedAt < this.stopAt) this.histogram.recordMs(now - publishedAt);
    // AMQP 0-9-1 §4.7: one publisher, one queue, one consumer keeps publish order.
    if (sequence <= this.lastSequence) this.outOfOrder++;
    this.lastSequence = sequence;
    if (message.fields.redelivered) this.redelivered++;
    const check = this.config.routeCheck;
    if (check !== null && readKeyIndex(body) % check.modulo !== check.remainder) this.misrouted++;
    /** @type {import('amqplib').Channel} */ (this.channel).ack(message);
    if (this.consumed - this.reported >= this.config.reportEvery) this.report();
  }

  report() {
    if (this.consumed === this.reported) return;
    this.reported = this.consumed;
    this.link.send({ type: 'progress', consumed: this.consumed });
  }

  /** @param {import('./link.mjs').LinkMessage} message */
  onCoordinatorMessage(message) {
    switch (message.type) {
      case 'measure':
        this.measureAt = /** @type {number} */ (message.at);
        this.consumedAtMeasure = this.consumed;
        this.cpuAtMeasure = process.cpuUsage();
        break;
      case 'stop':
        this.stopAt = /** @type {number} */ (message.at);
        this.consumedAtStop = this.consumed;
        this.cpuMicros = cpuSince(this.cpuAtMeasure);
        break;
      case 'finish':
        void this.finish();
        break;
      default:
        break;
    }
  }

  async finish() {
    if (this.closing) return;
    this.closing = true;
    if (this.reportTimer) clearInterval(this.reportTimer);
    this.report();
    try {
      await this.channel?.cancel(this.consumerTag);
    } catch {
      // the channel may already be gone; the counts below still stand
    }
    await closeQuietly(this.channel);
    await closeQuietly(this.connection);
    this.link.send({
      type: 'done',
      stats: {
        queue: this.config.queue,
        consumed: this.consumed,
        consumedMeasured: this.consumedAtStop - this.consumedAtMeasure,
        outOfOrder: this.outOfOrder,
        redelivered: this.redelivered,
        misrouted: this.misrouted,
        histogram: this.histogram.toWire(),
        cpuMicros: this.cpuMicros,
        pid: process.pid, // roles sharing a process (split mode) report the same CPU
      },
    });
  }

  /** @param {string} reason */
  fail(reason) {
    if (this.closing) return;
    this.closing = true;
    if (this.reportTimer) clearInterval(this.reportTimer);
    this.link.send({ type: 'failed', error: reason });
    void closeQuietly(this.connection);
  }
}
