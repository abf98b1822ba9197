/**
 * /metrics read by a Prometheus text-format parser: per-queue depth, counters, rates and
 * consumers; connections per protocol; the store's metrics; process memory and event-loop
 * lag. The parser is strict, so a format mistake fails the test.
 */
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startManaged, type ManagedBroker } from './helpers.js';
import { parsePrometheus, valueOf } from './prometheus-parser.js';

let m: ManagedBroker;
beforeAll(async () => {
  m = await startManaged({ mqtt: true });
});
afterAll(async () => {
  await m?.stop();
});

async function scrape(auth: string | null = null) {
  const r = await m.api<string>('GET', '/metrics', undefined, auth);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheus(r.text);
}

describe('the parser itself', () => {
  it('refuses what Prometheus refuses', () => {
    expect(() => parsePrometheus('x 1')).toThrow(/newline/);
    expect(() => parsePrometheus('x 1\n')).toThrow(/outside its family/);
    expect(() => parsePrometheus('# TYPE x gauge\nx{a="1} 1\n')).toThrow(/unterminated/);
    expect(() => parsePrometheus('# TYPE x gauge\nx 1\nx 2\n')).toThrow(/twice/);
    expect(() => parsePrometheus('# TYPE x gauge\nx one\n')).toThrow(/bad value/);
    expect(() => parsePrometheus('# TYPE x gauge\n# TYPE x gauge\n')).toThrow(/twice/);
    expect(parsePrometheus('# HELP x a \\\\ b\n# TYPE x gauge\nx{l="q\\"\\n"} +Inf\n').get('x')).toEqual({
      name: 'x',
      type: 'gauge',
      help: 'a \\ b',
      samples: [{ name: 'x', labels: { l: 'q"\n' }, value: Infinity }],
    });
  });
});

describe('/metrics', () => {
  it('per-queue depth, unacked, consumers, counters and rates; odd names are escaped', async () => {
    const odd = 'q "quoted"\\name';
    const c = await amqp.connect(m.amqpUrl);
    try {
      const ch = await c.createChannel();
      await ch.assertQueue('metrics.q', { durable: true });
      await ch.assertQueue('metrics.rate', { durable: false });
      await ch.assertQueue(odd, { durable: false });
      for (let i = 0; i < 7; i++) ch.sendToQueue('metrics.q', Buffer.from('12345'), { persistent: true });
      ch.sendToQueue(odd, Buffer.from('x'));
      await ch.prefetch(2);
      await ch.consume('metrics.q', () => undefined);
      const f = await eventually(async () => {
        const fam = await scrape();
        return valueOf(fam, 'warren_queue_messages_unacked', { queue: 'metrics.q' }) === 2 ? fam : undefined;
      });
      const q = { vhost: '/', queue: 'metrics.q', type: 'classic' };
      expect(valueOf(f, 'warren_queue_messages_ready', q)).toBe(5);
      expect(valueOf(f, 'warren_queue_messages', q)).toBe(7);
      expect(valueOf(f, 'warren_queue_messages_ready_bytes', q)).toBe(25);
      expect(valueOf(f, 'warren_queue_consumers', q)).toBe(1);
      expect(valueOf(f, 'warren_queue_publish_total', q)).toBe(7);
      expect(valueOf(f, 'warren_queue_deliver_get_total', q)).toBe(2);
      expect(f.get('warren_queue_publish_total')?.type).toBe('counter');
      expect(f.get('warren_queue_messages_ready')?.type).toBe('gauge');
      expect(valueOf(f, 'warren_queue_messages_ready', { queue: odd })).toBe(1);
      expect(valueOf(f, 'warren_vhost_queues', { vhost: '/' })).toBe(3);
      // A rate covers one sampling interval: a burst can fall between two scrapes of a busy
      // machine, so this queue keeps receiving until a scrape sees its rate above zero.
      await eventually(async () => {
        ch.sendToQueue('metrics.rate', Buffer.from('r'));
        const fam = await scrape();
        return (valueOf(fam, 'warren_queue_publish_rate', { queue: 'metrics.rate' }) ?? 0) > 0 ? fam : undefined;
      }, 15_000);
    } finally {
      await c.close();
    }
  });

  it('connections and channels per protocol, zero for protocols without any', async () => {
    const a = await amqp.connect(m.amqpUrl);
    await a.createChannel();
    await a.createChannel();
    const mq = await mqtt.connectAsync(m.broker.url('mqtt'), { protocolVersion: 4, reconnectPeriod: 0 });
    try {
      const f = await scrape();
      expect(valueOf(f, 'warren_connections', { protocol: 'amqp' })).toBe(1);
      expect(valueOf(f, 'warren_channels', { protocol: 'amqp' })).toBe(2);
      expect(valueOf(f, 'warren_connections', { protocol: 'mqtt', version: '3.1.1' })).toBe(1);
      expect(valueOf(f, 'warren_connections', { protocol: 'stomp' })).toBe(0);
    } finally {
      await a.close();
      await mq.endAsync();
    }
  });

  it("the store's metrics per vhost: journal bytes, fsyncs and their latency summary, segments", async () => {
    const c = await amqp.connect(m.amqpUrl);
    const ch = await c.createConfirmChannel();
    await ch.assertQueue('metrics.durable', { durable: true });
    for (let i = 0; i < 10; i++) ch.sendToQueue('metrics.durable', Buffer.alloc(1000, 1), { persistent: true });
    await ch.waitForConfirms();
    await c.close();
    const f = await scrape();
    const v = { vhost: '/' };
    expect(valueOf(f, 'warren_store_journal_bytes_written_total', v)).toBeGreaterThan(10_000);
    expect(valueOf(f, 'warren_store_records_total', { vhost: '/', kind: 'msg' })).toBeGreaterThanOrEqual(10);
    expect(valueOf(f, 'warren_store_fsyncs_total', v)).toBeGreaterThan(0);
    expect(valueOf(f, 'warren_store_segments', v)).toBeGreaterThanOrEqual(1);
    const fsync = f.get('warren_store_fsync_seconds');
    expect(fsync?.type).toBe('summary');
    expect(valueOf(f, 'warren_store_fsync_seconds', { vhost: '/', quantile: '0.99' })).toBeGreaterThan(0);
    expect(valueOf(f, 'warren_store_fsync_seconds', v, 'warren_store_fsync_seconds_count')).toBeGreaterThan(0);
    expect(valueOf(f, 'warren_store_read_only', v)).toBe(0);
    // a stream's own log
    await m.api('PUT', '/api/queues/%2F/metrics.stream', { arguments: { 'x-queue-type': 'stream' } });
    await m.api('POST', '/api/exchanges/%2F/amq.default/publish', { properties: {}, routing_key: 'metrics.stream', payload: 'x', payload_encoding: 'string' });
    const s = await scrape();
    expect(valueOf(s, 'warren_stream_disk_bytes', { queue: 'metrics.stream' })).toBeGreaterThan(0);
    expect(valueOf(s, 'warren_stream_committed_offset', { queue: 'metrics.stream' })).toBe(1);
    expect(valueOf(s, 'warren_queue_messages', { queue: 'metrics.stream', type: 'stream' })).toBe(1);
  });

  it('process memory, CPU, event-loop lag and alarms', async () => {
    const f = await eventually(async () => {
      const fam = await scrape();
      return (valueOf(fam, 'warren_event_loop_lag_seconds', { quantile: '0.99' }) ?? 0) > 0 ? fam : undefined;
    });
    expect(valueOf(f, 'warren_process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(valueOf(f, 'warren_process_heap_used_bytes')).toBeGreaterThan(0);
    expect(valueOf(f, 'warren_process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(f, 'warren_event_loop_lag_max_seconds')).toBeGreaterThan(0);
    expect(valueOf(f, 'warren_alarm', { resource: 'memory' })).toBe(0);
    expect(valueOf(f, 'warren_memory_limit_bytes')).toBeGreaterThan(0);
  });

  it('the body pool: large bodies taken, and given back once acked', async () => {
    const c = await amqp.connect(m.amqpUrl);
    try {
      const before = await scrape();
      const ch = await c.createConfirmChannel();
      const q = (await ch.assertQueue('metrics.pool', { durable: true })).queue;
      for (let i = 0; i < 5; i++) ch.sendToQueue(q, Buffer.alloc(64 * 1024, i), { persistent: true });
      await ch.waitForConfirms();
      for (let i = 0; i < 5; i++) {
        const msg = await ch.get(q);
        if (msg) ch.ack(msg);
      }
      await ch.deleteQueue(q);
      const f = await eventually(async () => {
        const fam = await scrape();
        return (valueOf(fam, 'warren_body_pool_recycled_total') ?? 0) - (valueOf(before, 'warren_body_pool_recycled_total') ?? 0) >= 5 ? fam : undefined;
      });
      expect((valueOf(f, 'warren_body_pool_taken_total') ?? 0) - (valueOf(before, 'warren_body_pool_taken_total') ?? 0)).toBe(5);
      expect(f.get('warren_body_pool_recycled_total')?.type).toBe('counter');
      expect(valueOf(f, 'warren_body_pool_free_bytes')).toBeGreaterThanOrEqual(0);
    } finally {
      await c.close();
    }
  });

  it('needs no credentials by default; with metrics_auth, a monitoring user', async () => {
    const locked = await startManaged({ extra: { management: { port: 0, host: '127.0.0.1', metricsAuth: true } } });
    try {
      expect((await locked.api('GET', '/metrics', undefined, null)).status).toBe(401);
      await locked.api('PUT', '/api/users/app', { password: 'pw', tags: 'management' });
      expect((await locked.api('GET', '/metrics', undefined, 'app:pw')).status).toBe(401);
      const r = await locked.api<string>('GET', '/metrics');
      expect(r.status).toBe(200);
      expect(parsePrometheus(r.text).size).toBeGreaterThan(10);
    } finally {
      await locked.stop();
    }
  });
});
