/**
 * `--warren-node-args=--require=<abs path>/gc-count-preload.cjs` (bench/sizes.mjs), with
 * BENCH_GC_COUNT_OUT=<file>: counts the process's garbage collections by kind (minor =
 * scavenge, major = mark-compact, incremental = marking steps, weakcb) with their summed
 * durations (perf_hooks 'gc' entries: wall time, inflated on a loaded machine) and appends
 * one JSON line to that file when the process exits. Why: a CPU profile shows only
 * "(garbage collector)"; whether it is scavenges (short-lived JS objects) or mark-compacts
 * (started by external memory: ArrayBuffers of bodies) decides what would cut it.
 */
'use strict';
const { PerformanceObserver, constants } = require('node:perf_hooks');
const { appendFileSync } = require('node:fs');

const out = process.env.BENCH_GC_COUNT_OUT;
if (out && require('node:worker_threads').isMainThread) {
  const names = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  /** @type {Record<string, { n: number, ms: number }>} */
  const kinds = {};
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const k = names[e.detail.kind] ?? String(e.detail.kind);
      const a = (kinds[k] ??= { n: 0, ms: 0 });
      a.n++;
      a.ms += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('exit', () => {
    for (const a of Object.values(kinds)) a.ms = Math.round(a.ms);
    const line = { bench: 'gc-count', time: new Date().toISOString(), label: process.env.BENCH_GC_COUNT_LABEL ?? '', pid: process.pid, uptime_s: Math.round(process.uptime() * 10) / 10, ...kinds };
    appendFileSync(out, `${JSON.stringify(line)}\n`);
  });
}
