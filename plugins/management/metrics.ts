/**
 * GET /metrics in the Prometheus text exposition format (version 0.0.4,
 * https://prometheus.io/docs/instrumenting/exposition_formats/): per-queue depth, counters,
 * rates and consumers; connections per protocol; the message store's counters per vhost
 * (`AdminCore.storeMetrics`); process memory, CPU and event-loop lag. Names are
 * `warren_*`; counters end in `_total`, as the format's conventions ask.
 */
import { cpuUsage, memoryUsage } from 'node:process';
import { bodyPool, type HistogramSummary, type StoreMetricsSnapshot } from '../../src/core/index.js';
import { protocolLabel } from './format.js';
import { countersOf, RATE_KEYS } from './sampler.js';
import type { ClusterStatus } from '../../src/plugin-host/index.js';
import type { ManagementServices } from './services.js';
import { MANAGEMENT_PROTOCOL } from './user-session.js';

type Labels = Record<string, string>;

/** Collects samples family by family; each family's HELP and TYPE lines come once, before its samples. */
class Exposition {
  readonly #families = new Map<string, { help: string; type: string; lines: string[] }>();

  add(name: string, type: 'gauge' | 'counter' | 'summary' | 'untyped', help: string, labels: Labels, value: number, suffix = ''): void {
    let f = this.#families.get(name);
    if (!f) this.#families.set(name, (f = { help, type, lines: [] }));
    f.lines.push(`${name}${suffix}${formatLabels(labels)} ${formatValue(value)}`);
  }

  /** A summary from a histogram snapshot: quantiles, _sum and _count. */
  summary(name: string, help: string, labels: Labels, h: HistogramSummary, scale = 1): void {
    for (const [q, v] of [['0.5', h.p50], ['0.9', h.p90], ['0.99', h.p99]] as const) this.add(name, 'summary', help, { ...labels, quantile: q }, v * scale);
    this.add(name, 'summary', help, labels, h.sum * scale, '_sum');
    this.add(name, 'summary', help, labels, h.count, '_count');
  }

  text(): string {
    const out: string[] = [];
    for (const [name, f] of this.#families) {
      out.push(`# HELP ${name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${f.type}`, ...f.lines);
    }
    return out.join('\n') + '\n';
  }
}

function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${labels[k]!.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`).join(',')}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

const COUNTER_HELP: Record<string, string> = {
  publish: 'Messages enqueued',
  deliver_get: 'Messages delivered to consumers or fetched with get',
  ack: 'Deliveries acknowledged',
  redeliver: 'Messages requeued for redelivery',
  expire: 'Messages that expired (TTL)',
  dead_letter: 'Messages dead-lettered from the queue',
  drop: 'Messages dropped or refused by a length limit',
};

export function renderMetrics(s: ManagementServices): string {
  const e = new Exposition();
  const admin = s.admin;

  for (const v of admin.listVhosts()) {
    e.add('warren_vhost_queues', 'gauge', 'Queues in the vhost', { vhost: v.name }, v.queues);
    e.add('warren_vhost_exchanges', 'gauge', 'Exchanges in the vhost', { vhost: v.name }, v.exchanges);
    const queues = admin.listQueues(v.name);
    for (const q of queues) {
      const l = { vhost: v.name, queue: q.name, type: q.type };
      e.add('warren_queue_messages_ready', 'gauge', 'Messages ready for delivery', l, q.messagesReady);
      e.add('warren_queue_messages_unacked', 'gauge', 'Messages delivered and not yet acknowledged', l, q.messagesUnacknowledged);
      e.add('warren_queue_messages', 'gauge', 'Messages ready and unacknowledged', l, q.messagesReady + q.messagesUnacknowledged);
      e.add('warren_queue_messages_ready_bytes', 'gauge', 'Body bytes of ready messages', l, q.readyBytes);
      e.add('warren_queue_messages_paged_out', 'gauge', 'Ready messages held only in the store, not in memory', l, q.pagedCount);
      e.add('warren_queue_consumers', 'gauge', 'Consumers of the queue', l, q.consumerCount);
      // a counter is read as it is at the scrape (a sample may predate the last burst);
      // a rate needs two samples, so it is the sampler's
      const counters = countersOf(q);
      const sample = s.sampler.queue(q);
      for (const k of RATE_KEYS) {
        e.add(`warren_queue_${k}_total`, 'counter', COUNTER_HELP[k]!, l, counters[k]);
        e.add(`warren_queue_${k}_rate`, 'gauge', `${COUNTER_HELP[k]!} per second, over the last sample interval`, l, sample.rates[k]);
      }
    }
    for (const q of queues) {
      const stream = q.stream;
      if (stream === null) continue;
      const l = { vhost: v.name, queue: q.name };
      e.add('warren_stream_disk_bytes', 'gauge', 'Bytes of a stream queue\'s log on disk', l, stream.diskBytes);
      e.add('warren_stream_first_offset', 'gauge', 'Oldest offset a stream still holds (retention moves it)', l, stream.firstOffset);
      e.add('warren_stream_committed_offset', 'gauge', 'Offset below which a stream\'s records are durable', l, stream.committedOffset);
      // named consumers and Kafka consumer groups (whose committed offsets are stored offsets)
      for (const [consumer, offset] of stream.storedOffsets) {
        const c = { ...l, consumer };
        e.add('warren_stream_consumer_offset', 'gauge', 'Last offset a named stream consumer (or Kafka group) processed', c, offset);
        e.add('warren_stream_consumer_lag', 'gauge', 'Committed records a named stream consumer (or Kafka group) has not processed yet', c, Math.max(0, stream.committedOffset - offset - 1));
      }
    }
    const store = admin.storeMetrics(v.name);
    if (store) storeMetrics(e, v.name, store);
  }

  const byProtocol = new Map<string, { connections: number; channels: number }>();
  for (const c of admin.listConnections()) {
    if (c.protocol === MANAGEMENT_PROTOCOL) continue;
    const family = protocolLabel(c.protocol).split(' ')[0]!.toLowerCase();
    const key = `${family}\u0000${c.protocol}`;
    const entry = byProtocol.get(key) ?? { connections: 0, channels: 0 };
    entry.connections++;
    entry.channels += c.sessions;
    byProtocol.set(key, entry);
  }
  // every front-end protocol appears, even with no connection, so dashboards show a 0
  for (const family of ['amqp', 'mqtt', 'stomp']) {
    if (![...byProtocol.keys()].some((k) => k.startsWith(`${family}\u0000`))) byProtocol.set(`${family}\u0000`, { connections: 0, channels: 0 });
  }
  for (const [key, n] of byProtocol) {
    const [family, version] = key.split('\u0000') as [string, string];
    const l = { protocol: family, version: version === '' ? '' : version.slice(family.length + 1) };
    e.add('warren_connections', 'gauge', 'Open client connections, by protocol', l, n.connections);
    e.add('warren_channels', 'gauge', 'Open channels (sessions), by protocol', l, n.channels);
  }

  for (const k of RATE_KEYS) e.add(`warren_node_${k}_total`, 'counter', `${COUNTER_HELP[k]!}, every queue of the node`, {}, s.sampler.node.counters[k]);
  for (const kind of ['memory', 'disk', 'disk_failure'] as const) {
    e.add('warren_alarm', 'gauge', 'Resource alarm in effect (1) or not (0)', { resource: kind }, admin.alarms.active.includes(kind) ? 1 : 0);
  }
  e.add('warren_memory_limit_bytes', 'gauge', 'RSS above which the memory alarm goes off', {}, admin.alarms.memoryLimitBytes);

  const mem = memoryUsage();
  e.add('warren_process_resident_memory_bytes', 'gauge', 'Resident set size of the broker process', {}, mem.rss);
  e.add('warren_process_heap_used_bytes', 'gauge', 'V8 heap in use', {}, mem.heapUsed);
  e.add('warren_process_heap_total_bytes', 'gauge', 'V8 heap reserved', {}, mem.heapTotal);
  e.add('warren_process_external_memory_bytes', 'gauge', 'Memory of Buffers and other objects outside the V8 heap', {}, mem.external + mem.arrayBuffers);
  // the body pool (src/core/body-pool.ts): how often large bodies reuse memory instead of making more
  const pool = bodyPool.stats;
  e.add('warren_body_pool_taken_total', 'counter', 'Large message bodies given a buffer by the body pool', {}, pool.taken);
  e.add('warren_body_pool_allocated_total', 'counter', 'Of those, buffers newly allocated (the rest reused memory)', {}, pool.allocated);
  e.add('warren_body_pool_recycled_total', 'counter', 'Buffers given back to the pool after their message was acked', {}, pool.recycled);
  e.add('warren_body_pool_dropped_total', 'counter', 'Released buffers left to the garbage collector (pool or quarantine full)', {}, pool.dropped);
  e.add('warren_body_pool_free_bytes', 'gauge', 'Bytes of buffers waiting on the pool\'s free lists', {}, bodyPool.freeBytes);
  const cpu = cpuUsage();
  e.add('warren_process_cpu_seconds_total', 'counter', 'User and system CPU time of the broker process', {}, (cpu.user + cpu.system) / 1e6);
  e.add('warren_process_start_time_seconds', 'gauge', 'When the management plugin started, in seconds since the epoch', {}, Math.floor(s.startedAt / 1000));
  const lag = s.sampler.lag;
  for (const [q, v] of [['0.5', lag.p50Seconds], ['0.99', lag.p99Seconds]] as const) {
    e.add('warren_event_loop_lag_seconds', 'summary', 'Event-loop delay over the last sample interval', { quantile: q }, v);
  }
  e.add('warren_event_loop_lag_max_seconds', 'gauge', 'Longest event-loop delay over the last sample interval', {}, lag.maxSeconds);
  e.add('warren_event_loop_lag_mean_seconds', 'gauge', 'Mean event-loop delay over the last sample interval', {}, lag.meanSeconds);
  const cluster = s.cluster();
  if (cluster) clusterMetrics(e, cluster.status());
  return e.text();
}

/** A cluster node's gauges (docs/clustering.md "Operating a cluster"); absent on a single node. */
function clusterMetrics(e: Exposition, c: ClusterStatus): void {
  e.add('warren_cluster_leader', 'gauge', 'This node leads its cluster (1) or not (0)', { node: c.node }, c.role === 'leader' ? 1 : 0);
  e.add('warren_cluster_epoch', 'gauge', 'Epoch of the current leader (its etcd leader key\'s create revision)', {}, c.epoch ?? 0);
  e.add('warren_cluster_nodes', 'gauge', 'Nodes registered in etcd', {}, c.nodes.length);
  e.add('warren_cluster_isr_members', 'gauge', 'Nodes in the in-sync set, the leader included', {}, c.isr.length);
  e.add('warren_cluster_min_isr', 'gauge', 'Nodes that must hold a message before it is confirmed (cluster.min_isr)', {}, c.minIsr);
  for (const f of c.followers) {
    const l = { follower: f.id };
    e.add('warren_cluster_follower_lag_bytes', 'gauge', 'Bytes written by the leader not yet acknowledged by the follower', l, f.lagBytes);
    e.add('warren_cluster_follower_lag_seconds', 'gauge', 'Age of the oldest write the follower has not acknowledged', l, f.lagSeconds);
    e.add('warren_cluster_follower_connected', 'gauge', 'Follower connected to the leader (1) or not (0)', l, f.connected ? 1 : 0);
  }
  if (c.lastFailover) e.add('warren_cluster_last_failover_timestamp_seconds', 'gauge', 'When the current leader took over', {}, Math.floor(c.lastFailover.at / 1000));
}

function storeMetrics(e: Exposition, vhost: string, m: StoreMetricsSnapshot): void {
  const l = { vhost };
  e.add('warren_store_journal_bytes_written_total', 'counter', 'Bytes appended to the message journal (copy-forward included)', l, m.journalBytesWritten);
  e.add('warren_store_user_payload_bytes_total', 'counter', 'Properties and body bytes accepted from publishers', l, m.userPayloadBytes);
  for (const [kind, n] of Object.entries(m.records)) e.add('warren_store_records_total', 'counter', 'Journal records written, by kind', { ...l, kind }, n);
  e.add('warren_store_elided_records_total', 'counter', 'Persistent messages never written: consumed and acked on every queue before their group commit', l, m.elided.records);
  e.add('warren_store_elided_bytes_total', 'counter', 'Journal bytes of the records never written', l, m.elided.bytes);
  e.add('warren_store_flushes_total', 'counter', 'Group commits (one gather write and one sync each)', l, m.flushes);
  e.add('warren_store_fsyncs_total', 'counter', 'fdatasync calls', l, m.fsyncs);
  e.summary('warren_store_fsync_seconds', 'Latency of fdatasync', l, m.fsyncMicros, 1e-6);
  e.summary('warren_store_commit_seconds', 'From append to durable: what the store adds to a confirm', l, m.commitMicros, 1e-6);
  e.summary('warren_store_batch_records', 'Records per group commit', l, m.batchRecords);
  e.add('warren_store_write_errors_total', 'counter', 'Failed journal writes', l, m.writeErrors);
  e.add('warren_store_segments', 'gauge', 'Journal segment files', l, m.segments);
  e.add('warren_store_segments_deleted_total', 'counter', 'Segments reclaimed whole', l, m.segmentsDeleted);
  e.add('warren_store_disk_bytes', 'gauge', 'Bytes of the journal on disk', l, m.diskBytes);
  e.add('warren_store_live_bytes', 'gauge', 'Journal bytes still needed', l, m.liveBytes);
  e.add('warren_store_garbage_bytes', 'gauge', 'Journal bytes no longer needed, not yet reclaimed', l, m.garbageBytes);
  e.add('warren_store_compaction_debt_bytes', 'gauge', 'Garbage the compactor would take now', l, m.compactionDebtBytes);
  e.add('warren_store_compaction_runs_total', 'counter', 'Compaction runs', l, m.compaction.runs);
  e.add('warren_store_compaction_bytes_written_total', 'counter', 'Bytes copied forward by compaction', l, m.compaction.bytesWritten);
  e.add('warren_store_write_amplification', 'gauge', 'Journal bytes written per user payload byte', l, m.writeAmplification);
  e.add('warren_store_space_amplification', 'gauge', 'Disk bytes per live byte', l, m.spaceAmplification);
  e.add('warren_store_messages_on_disk', 'gauge', 'Live entries over all durable queues', l, m.messagesOnDisk);
  e.add('warren_store_index_entries_resident', 'gauge', 'Queue index entries held in memory', l, m.indexEntriesResident);
  e.add('warren_store_index_entries_spilled', 'gauge', 'Queue index entries spilled to index files', l, m.indexEntriesSpilled);
  e.add('warren_store_pending_append_bytes', 'gauge', 'Bytes waiting for the next group commit', l, m.pendingAppendBytes);
  e.add('warren_store_reads_total', 'counter', 'Reads from the journal', l, m.reads.count);
  e.add('warren_store_read_bytes_total', 'counter', 'Bytes read from the journal', l, m.reads.bytes);
  e.add('warren_store_read_only', 'gauge', 'The store refuses writes after a write error (1)', l, m.readOnly ? 1 : 0);
  e.add('warren_store_recovery_seconds', 'gauge', 'Time the last recovery took', l, m.recovery.millis / 1000);
  e.add('warren_store_recovery_truncated_bytes', 'gauge', 'Bytes cut from torn or corrupt journal tails at the last recovery', l, m.recovery.truncatedBytes);
}
