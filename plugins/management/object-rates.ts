/**
 * The rate tables of exchanges, channels and connections, with RabbitMQ's names: an
 * exchange's `message_stats` (publish_in, publish_out), a channel's (publish, confirm,
 * deliver_get …), a connection's socket figures (recv_oct, send_oct with their rates;
 * recv_cnt, send_cnt, send_pend). The counters are plain fields the core and the protocol
 * front-ends increment (src/core/session-stats.ts, src/util/socket-traffic.ts), read here as
 * snapshots (AdminCore).
 */
import type { AdminCore, ConnectionSnapshot, ExchangeSnapshot, SessionSnapshot } from '../../src/core/index.js';
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
  readonly exchanges = new RateTable<ExchangeSnapshot>(['publish_in', 'publish_out'], (x) => [x.publishIn, x.publishOut]);
  readonly channels = new RateTable<SessionSnapshot>(CHANNEL_KEYS, (ch) => {
    const s = ch.counters;
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
  readonly connections = new RateTable<ConnectionSnapshot>(['recv_oct', 'send_oct'], (c) => {
    const t = c.traffic;
    return t ? [t.bytesRead, t.bytesWritten] : [0, 0];
  });

  sample(admin: AdminCore, seconds: number): void {
    this.exchanges.sample(admin.listExchanges(), seconds);
    this.connections.sample(admin.listConnections(), seconds);
    this.channels.sample(admin.listSessions(), seconds);
  }

  exchangeStats(x: ExchangeSnapshot): Record<string, unknown> {
    return this.exchanges.statsJson(x);
  }

  channelStats(ch: SessionSnapshot): Record<string, unknown> {
    return this.channels.statsJson(ch);
  }

  /**
   * A connection's socket figures, top-level fields of its JSON as in RabbitMQ: byte counts
   * with rates, read and write counts, bytes waiting to be written. Absent for connections
   * without a socket (management's own, MQTT will and expiry sessions).
   */
  connectionStats(c: ConnectionSnapshot): Record<string, unknown> {
    const t = c.traffic;
    if (!t) return {};
    return {
      ...this.connections.statsJson(c),
      recv_cnt: t.reads,
      send_cnt: t.writes,
      send_pend: t.pendingBytes,
    };
  }
}
