/**
 * Fan-in: 4 publishers, each on its own topic `bench/<run>/<n>/data`, → 1 subscriber on the
 * wildcard filter `bench/<run>/+/data`. `--qos 0` or `--qos 1` (both publish and subscribe).
 * Prints one JSON line; `msgs_per_s` is messages received per second.
 *
 *   node bench/mqtt/fan-in.mjs --url mqtt://127.0.0.1:1883 --qos 1 --seconds 10
 */
import { runFlow } from './flow.mjs';
import { options, report } from './lib.mjs';

const o = options({ publishers: { type: 'string', default: '4' } });
const run = `fi${process.pid}`;
const n = Number(o.publishers);
const result = await runFlow({
  url: o.url,
  topics: Array.from({ length: n }, (_, i) => `bench/${run}/${i}/data`),
  filter: `bench/${run}/+/data`,
  subscribers: 1,
  qos: Number(o.qos),
  seconds: Number(o.seconds),
  warmup: Number(o.warmup),
  size: Number(o.size),
  window: Number(o.window),
  pid: o.pid ? Number(o.pid) : null,
  tag: run,
});
report({ scenario: `fan-in-qos${o.qos}`, label: o.label, ...result });
