import { nowMs } from './clock.mjs';
import { openConnection, closeQuietly } from './connect.mjs';
import { LatencyHistogram } from './histogram.mjs';
import { makeBody, makeTemplate } from './payload.mjs';

/**
 * @typedef {object} PublisherConfig
 * @property {string} url
 * @property {string} name          connection name shown by the broker
 * @property {string} exchange      '' for the default exchange
 * @property {string[]} routingKeys published in turn; the index travels in the body
 * @property {number} size          body bytes
 * @property {boolean} persistent   delivery-mode 2
 * @property {boolean} confirm      put the channel in confirm mode (AMQP 0-9-1 ext. "confirm.select")
 * @property {number} window        most messages published but not yet consumed (and, with confirms, not yet confirmed)
 * @property {number} rate          target publishes per second, 0 = as fast as the window allows
 * @property {number} settleTimeoutMs how long to wait for outstanding confirms after stop
 */

/** Most messages published in one event-loop turn, so IPC and acks are read in between. */
const BATCH_PER_TURN = 256;

/**
 * Publishes as fast as the bounded window (and optional rate) allows. The
 * window closes the loop: the coordinator tells us how many messages the
 * consumers have finished (`credit`), so the broker's queues never grow
 * without bound and latency measures the broker, not a backlog.
 */
export class PublisherRole {
  /** @param {PublisherConfig} config @param {import('./link.mjs').Link} link */
  constructor(config, link) {
    this.config = config;
    this.link = link;
    this.template = makeTemplate(config.size);
    this.publishOptions = Object.freeze(config.persistent ? { deliveryMode: 2 } : {});
    /** @type {import('amqplib').ChannelModel | null} */
    this.connection = null;
    /** @type {import('amqplib').Channel | import('amqplib').ConfirmChannel | null} */
    this.channel = null;

    this.published = 0;
    this.completed = 0; // messages every consumer copy has consumed, from the coordinator
    this.publishing = false;
    this.stopped = false;
    this.closing = false;
    this.waitingForDrain = false;
    this.timerPending = false;
    this.inPump = false;
    this.goAt = 0;
    this.measureAt = Infinity;
    this.stopAt = Infinity;
    this.publishedAtMeasure = 0;
    this.publishedAtStop = 0;
    this.confirmedAtMeasure = 0;
    this.confirmedAtStop = 0;
    this.cpuAtMeasure = process.cpuUsage();
    this.cpuMicros = 0;
    this.blockedEvents = 0;

    // Confirm bookkeeping: a ring indexed by delivery tag (== publish count,
    // AMQP 0-9-1 confirms extension: tags start at 1 after confirm.select).
    const ringSize = Math.max(16, config.window * 2);
    this.sentAt = new Float64Array(ringSize);
    this.settledFlags = new Uint8Array(ringSize);
    this.ringSize = ringSize;
    this.lowestUnsettled = 1;
    this.confirmed = 0;
    this.nacked = 0;
    this.confirmHistogram = new LatencyHistogram();
    /** @type {(() => void) | null} */
    this.onAllSettled = null;

    this.pump = this.pump.bind(this);
    this.onTimer = this.onTimer.bind(this);
    link.onMessage((m) => this.onCoordinatorMessage(m));
  }

  async start() {
    const { config } = this;
    const connection = await openConnection(config.url, config.name);
    this.connection = connection;
    connection.on('error', (err) => this.fail(`publisher connection error: ${err.message}`));
    connection.on('close', () => { if (!this.closing) this.fail('publisher connection closed by the broker'); });
    connection.on('blocked', () => { this.blockedEvents++; });
    const channel = config.confirm ? await connection.createConfirmChannel() : await connection.createChannel();
    this.channel = channel;
    channel.on('error', (err) => this.fail(`publisher channel error: ${err.message}`));
    channel.on('close', () => { if (!this.closing) this.fail('publisher channel closed by the broker'); });
    channel.on('drain', () => {
      this.waitingForDrain = false;
      this.pump();
    });
    if (config.confirm) {
      channel.on('ack', (fields) => this.settle(fields.deliveryTag, fields.multiple, false));
      channel.on('nack', (fields) => this.settle(fields.deliveryTag, fields.multiple, true));
    }
    this.link.send({ type: 'ready' });
  }

  /** @param {import('./link.mjs').LinkMessage} message */
  onCoordinatorMessage(message) {
    switch (message.type) {
      case 'go':
        this.goAt = nowMs();
        this.publishing = true;
        this.pump();
        break;
      case 'measure':
        this.measureAt = /** @type {number} */ (message.at);
        this.publishedAtMeasure = this.published;
        this.confirmedAtMeasure = this.confirmed;
        this.cpuAtMeasure = process.cpuUsage();
        break;
      case 'credit':
        this.completed = /** @type {number} */ (message.completed);
        this.pump();
        break;
      case 'stop':
        this.stop(/** @type {number} */ (message.at));
        break;
      default:
        break;
    }
  }

  pump() {
    if (!this.publishing || this.stopped || this.waitingForDrain || this.inPump) return;
    this.inPump = true;
    const { window, rate, confirm } = this.config;
    let budget = BATCH_PER_TURN;
    let allowed = Infinity;
    if (rate > 0) allowed = Math.floor(((nowMs() - this.goAt) * rate) / 1000) + 1;
    while (budget > 0) {
      if (this.published - this.completed >= window) break; // consumers must catch up: wait for credit
      if (confirm && this.published - this.confirmed - this.nacked >= window) break; // wait for confirms
      if (this.published >= allowed) {
        this.scheduleTimer();
        break;
      }
      budget--;
      if (!this.publishOne()) {
        this.waitingForDrain = true; // socket buffer full: wait for 'drain'
        break;
      }
    }
    this.inPump = false;
    if (budget === 0 && !this.waitingForDrain) setImmediate(this.pump);
  }

  /** @returns {boolean} false when the client's write buffer is full */
  publishOne() {
    const sequence = ++this.published;
    const keys = this.config.routingKeys;
    const keyIndex = sequence % keys.length;
    const at = nowMs();
    if (this.config.confirm) this.sentAt[sequence % this.ringSize] = at;
    const body = makeBody(this.template, at, sequence, keyIndex);
    return /** @type {import('amqplib').Channel} */ (this.channel).publish(this.config.exchange, keys[keyIndex], body, this.publishOptions);
  }

  scheduleTimer() {
    if (this.timerPending) return;
    this.timerPending = true;
    setTimeout(this.onTimer, 1);
  }

  onTimer() {
    this.timerPending = false;
    this.pump();
  }

  /**
   * basic.ack / basic.nack from the broker; `multiple` settles every tag up
   * to and including `tag` (AMQP 0-9-1 confirms extension).
   * @param {number} tag @param {boolean} multiple @param {boolean} negative
   */
  settle(tag, multiple, negative) {
    const now = nowMs();
    const ring = this.ringSize;
    const from = multiple ? this.lowestUnsettled : tag;
    for (let t = from; t <= tag; t++) {
      const slot = t % ring;
      if (this.settledFlags[slot] === 1) continue;
      this.settledFlags[slot] = 1;
      if (negative) this.nacked++;
      else this.confirmed++;
      const sentAt = this.sentAt[slot];
      if (sentAt >= this.measureAt && sentAt < this.stopAt) this.confirmHistogram.recordMs(now - sentAt);
    }
    while (this.lowestUnsettled <= this.published && this.settledFlags[this.lowestUnsettled % ring] === 1) {
      this.settledFlags[this.lowestUnsettled % ring] = 0;
      this.lowestUnsettled++;
    }
    if (this.onAllSettled && this.confirmed + this.nacked >= this.published) this.onAllSettled();
    else this.pump();
  }

  /** @param {number} at */
  stop(at) {
    if (this.stopped) return;
    this.stopped = true;
    this.stopAt = at;
    this.publishedAtStop = this.published;
    this.confirmedAtStop = this.confirmed;
    this.cpuMicros = cpuSince(this.cpuAtMeasure);
    this.link.send({ type: 'stopped', published: this.published });
    if (!this.config.confirm || this.confirmed + this.nacked >= this.published) {
      void this.finish();
      return;
    }
    const timer = setTimeout(() => void this.finish(), this.config.settleTimeoutMs);
    this.onAllSettled = () => {
      this.onAllSettled = null;
      clearTimeout(timer);
      void this.finish();
    };
  }

  async finish() {
    this.onAllSettled = null;
    this.closing = true;
    await closeQuietly(this.channel);
    await closeQuietly(this.connection);
    this.link.send({
      type: 'done',
      stats: {
        published: this.published,
        publishedMeasured: this.publishedAtStop - this.publishedAtMeasure,
        confirmed: this.confirmed,
        confirmedMeasured: this.confirmedAtStop - this.confirmedAtMeasure,
        nacked: this.nacked,
        confirmHistogram: this.confirmHistogram.toWire(),
        cpuMicros: this.cpuMicros,
        pid: process.pid, // roles sharing a process (split mode) report the same CPU
        blockedEvents: this.blockedEvents,
      },
    });
  }

  /** @param {string} reason */
  fail(reason) {
    if (this.closing) return;
    this.closing = true;
    this.stopped = true;
    this.link.send({ type: 'failed', error: reason });
    void closeQuietly(this.connection);
  }
}

/** @param {NodeJS.CpuUsage} since @returns {number} CPU microseconds used since */
export function cpuSince(since) {
  const delta = process.cpuUsage(since);
  return delta.user + delta.system;
}
