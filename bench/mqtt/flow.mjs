/**
 * The load both throughput scenarios put on a broker: publishers that keep at most `window`
 * messages between publish and receipt by the slowest subscriber (a closed loop, so neither
 * broker is measured by how big a backlog it can build), subscribers that check order and
 * record latency.
 */
import { CpuSampler, LatencyHistogram, now, publishedAt, publisherOf, sequenceOf, until } from './lib.mjs';
import { WireClient } from './wire.mjs';

/**
 * @param {{ url: string, topics: string[], filter: string, subscribers: number, qos: 0 | 1,
 *   seconds: number, warmup: number, size: number, window: number, pid: number | null, tag: string }} p
 */
export async function runFlow(p) {
  const subs = [];
  const received = new Array(p.subscribers).fill(0);
  const lastSeq = Array.from({ length: p.subscribers }, () => new Map());
  const histogram = new LatencyHistogram();
  let measuring = false;
  let outOfOrder = 0;
  for (let i = 0; i < p.subscribers; i++) {
    const c = await WireClient.open(p.url, `${p.tag}-sub-${i}`);
    c.onMessage = (body) => {
      received[i]++;
      const from = publisherOf(body);
      const seq = sequenceOf(body);
      const last = lastSeq[i].get(from) ?? -1;
      if (seq <= last) outOfOrder++;
      lastSeq[i].set(from, seq);
      if (measuring) histogram.recordMs(now() - publishedAt(body));
      if (waiting && minReceived() >= waitingFor) wake();
    };
    await c.subscribe(p.filter, p.qos);
    subs.push(c);
  }
  const pubs = [];
  for (let i = 0; i < p.topics.length; i++) {
    const c = await WireClient.open(p.url, `${p.tag}-pub-${i}`);
    pubs.push({ client: c, template: c.publisher(p.topics[i], Math.max(16, p.size), p.qos) });
  }

  const minReceived = () => {
    let m = Infinity;
    for (const r of received) if (r < m) m = r;
    return m;
  };
  // the publishers wait here while `window` messages are unreceived
  let waiting = false;
  let waitingFor = 0;
  let wake = () => {};
  let published = 0;
  let running = true;
  const seqs = new Array(pubs.length).fill(0);

  const publishLoop = async () => {
    let k = 0;
    while (running) {
      if (published - minReceived() >= p.window) {
        waitingFor = published - p.window + 1;
        waiting = true;
        await new Promise((r) => {
          wake = r;
          setTimeout(r, 1000); // never stall on a lost message
        });
        waiting = false;
        continue;
      }
      const i = k++ % pubs.length;
      const t = pubs[i].template;
      t.payload.writeDoubleLE(now(), 0);
      t.payload.writeUInt32LE(seqs[i]++, 8);
      t.payload.writeUInt32LE(i, 12);
      published++;
      // respect the socket: wait for it to drain when its buffer is full
      if (!t.send()) await new Promise((r) => pubs[i].client.socket.once('drain', r));
      // yield now and then so deliveries are read
      else if ((published & 63) === 0) await new Promise((r) => setImmediate(r));
    }
  };

  const loop = publishLoop();
  await new Promise((r) => setTimeout(r, p.warmup * 1000));
  const startReceived = received.reduce((a, b) => a + b, 0);
  const startPublished = published;
  const cpu = new CpuSampler(p.pid);
  measuring = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, p.seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  const cpuUse = cpu.finish();
  const measuredReceived = received.reduce((a, b) => a + b, 0) - startReceived;
  const measuredPublished = published - startPublished;
  running = false;
  wake();
  await loop;
  const expected = published * p.subscribers;
  await until(() => received.reduce((a, b) => a + b, 0) >= expected, 15_000);
  const total = received.reduce((a, b) => a + b, 0);
  const ackedNow = () => pubs.reduce((a, x) => a + x.client.acked, 0);
  if (p.qos > 0) await until(() => ackedNow() >= published, 5000);
  const acked = ackedNow();
  await Promise.all([...subs, ...pubs.map((x) => x.client)].map((c) => c.end()));
  return {
    qos: p.qos,
    publishers: pubs.length,
    subscribers: p.subscribers,
    size: p.size,
    window: p.window,
    seconds: Math.round(elapsed * 100) / 100,
    msgs_per_s: Math.round(measuredReceived / elapsed),
    published_per_s: Math.round(measuredPublished / elapsed),
    latency_ms: histogram.summary(),
    published,
    expected_deliveries: expected,
    received: total,
    lost: Math.max(0, expected - total),
    out_of_order: outOfOrder,
    puback_missing: p.qos > 0 ? published - acked : 0,
    cpu_cores: { broker: cpuUse.broker_cores, host_busy: cpuUse.host_busy_cores, of: cpuUse.cores },
    ok: total === expected && outOfOrder === 0 && (p.qos === 0 || acked === published),
  };
}
