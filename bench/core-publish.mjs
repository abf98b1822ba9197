/**
 * CPU per confirmed publish through the core session, without sockets or codecs: a session
 * publishes `--messages` messages (128-byte body) to one durable queue, each with a confirm
 * token, and the run ends when the last is confirmed. Persistent messages go through the
 * journal and wait for its group commit; transient ones are confirmed at once. This is the
 * path a confirm's durability points are gathered on (src/core/durability.ts), measured
 * without the network noise of bench/run.mjs — useful to compare two builds on a busy machine.
 *
 *   npm run build && node bench/core-publish.mjs [--build dist] [--label x] [--messages 100000]
 *        [--kind persistent|transient] [--out bench/results/<file>.jsonl]
 *
 * Prints one JSON line: CPU microseconds per message (user + system of this process, which
 * is the broker) and the wall time.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    build: { type: 'string', default: process.env.WARREN_BUILD ?? 'dist' },
    label: { type: 'string', default: '' },
    messages: { type: 'string', default: '100000' },
    kind: { type: 'string', default: 'persistent' },
    out: { type: 'string' },
  },
});
const build = resolve(String(args.build));
const { Broker } = await import(pathToFileURL(join(build, 'src', 'broker.js')).href);
const { Message } = await import(pathToFileURL(join(build, 'src', 'core', 'message.js')).href);

const n = Number(args.messages);
const persistent = args.kind !== 'transient';
const dataDir = mkdtempSync(join(tmpdir(), 'warren-core-publish-'));
const broker = new Broker({ dataDir, log: { level: 'error' } }, { plugins: {} });
await broker.start();
try {
  const conn = broker.core.connect({ protocol: 'bench', vhost: '/', user: 'guest', peerHost: '', peerPort: 0 });
  let confirmed = 0;
  /** @type {() => void} */
  let allConfirmed = () => {};
  const finished = new Promise((r) => (allConfirmed = () => r(undefined)));
  const session = conn.openSession({
    deliver() {},
    consumerCancelled() {},
    returned() {},
    confirmed() {
      if (++confirmed === n) allConfirmed();
    },
  });
  session.declareQueue('core-publish', { durable: true });
  const body = Buffer.alloc(128);
  const properties = persistent ? { deliveryMode: 2 } : {};
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    session.publish(new Message('', 'core-publish', properties, body), false, i + 1);
    // as a socket would: a batch of publishes per event-loop turn, so group commits can run
    if ((i & 1023) === 1023) await new Promise((r) => setImmediate(r));
  }
  await finished;
  const cpu = process.cpuUsage(cpu0);
  const line = JSON.stringify({
    bench: 'core-publish',
    time: new Date().toISOString(),
    label: args.label,
    kind: persistent ? 'persistent' : 'transient',
    messages: n,
    cpu_us_per_msg: Number(((cpu.user + cpu.system) / n).toFixed(3)),
    wall_ms: Math.round(performance.now() - t0),
  });
  console.log(line);
  if (args.out) appendFileSync(args.out, line + '\n');
  session.purgeQueue('core-publish');
  conn.close();
} finally {
  await broker.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
