/**
 * The rate tables of exchanges, channels and connections, with RabbitMQ's names: an
 * exchange's `message_stats` (publish_in, publish_out), a channel's (publish, confirm,
 * deliver_get …), a connection's socket figures (recv_oct, send_oct with their rates;
 * recv_cnt, send_cnt, send_pend). The counters are plain fields the core and the protocol
 * front-ends increment (src/core/session-stats.ts, src/util/socket-traffic.ts).
 */
import type { Connection } from '../../src/core/connection.js';
import type { Core } from '../../src/core/core.js';
import type { Exchange } from '../../src/core/exchange.js';
import type { CoreSession } from '../../src/core/session.js';
import { RateTable } from './rate-table.js';

const CHANNEL_KEYS = [
  'publish',
  'confirm',
  'return_unroutable',
  'drop_unroutable',
  'deliver',
  'deliver_no_ack',
  'get',
  'get_no_ack',
  'get_empty',
  'redeliver',
  'ack',
  'deliver_get',
] as const;

export class ObjectRates {
  readonly exchanges = new RateTable<Exchange>(['publish_in', 'publish_out'], (x) => [x.publishIn, x.publishOut]);
  readonly channels = new RateTable<CoreSession>(CHANNEL_KEYS, (ch) => {
    const s = ch.stats;
    return [
      s.publish,
      s.confirm,
      s.returnUnroutable,
      s.dropUnroutable,
      s.deliver,
      s.deliverNoAck,
      s.get,
      s.getNoAck,
      s.getEmpty,
      s.redeliver,
      s.ack,
      s.deliver + s.deliverNoAck + s.get + s.getNoAck,
    ];
  });
  /** byte counts only: connectionStats gives recv_cnt and send_cnt without rates */
  readonly connections = new RateTable<Connection>(['recv_oct', 'send_oct'], (c) => {
    const t = c.info.traffic;
    return t ? [t.bytesRead, t.bytesWritten] : [0, 0];
  });

  sample(core: Core, seconds: number): void {
    for (const v of core.vhosts.values()) this.exchanges.sample(v.exchanges.values(), seconds);
    this.connections.sample(core.connections.values(), seconds);
    for (const c of core.connections.values()) this.channels.sample(c.sessions, seconds);
  }

  exchangeStats(x: Exchange): Record<string, unknown> {
    return this.exchanges.statsJson(x);
  }

  channelStats(ch: CoreSession): Record<string, unknown> {
    return this.channels.statsJson(ch);
  }

  /**
   * A connection's socket figures, top-level fields of its JSON as in RabbitMQ: byte counts
   * with rates, read and write counts, bytes waiting to be written. Absent for connections
   * without a socket (management's own, MQTT will and expiry sessions).
   */
  connectionStats(c: Connection): Record<string, unknown> {
    const t = c.info.traffic;
    if (!t) return {};
    return {
      ...this.connections.statsJson(c),
      recv_cnt: t.reads,
      send_cnt: t.writes,
      send_pend: t.pendingBytes,
    };
  }
}
