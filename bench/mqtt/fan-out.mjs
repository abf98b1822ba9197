/**
 * Fan-out: 1 publisher → 50 subscribers of the same topic. `--qos 0` or `--qos 1`. Prints
 * one JSON line; `msgs_per_s` is deliveries received per second (all subscribers together),
 * `published_per_s` messages published.
 *
 *   node bench/mqtt/fan-out.mjs --url mqtt://127.0.0.1:1883 --qos 0 --seconds 10
 */
import { runFlow } from './flow.mjs';
import { options, report } from './lib.mjs';

const o = options({ subscribers: { type: 'string', default: '50' } });
const run = `fo${process.pid}`;
const result = await runFlow({
  url: o.url,
  topics: [`bench/${run}/news`],
  filter: `bench/${run}/news`,
  subscribers: Number(o.subscribers),
  qos: Number(o.qos),
  seconds: Number(o.seconds),
  warmup: Number(o.warmup),
  size: Number(o.size),
  window: Number(o.window),
  pid: o.pid ? Number(o.pid) : null,
  tag: run,
});
report({ scenario: `fan-out-qos${o.qos}`, label: o.label, ...result });
