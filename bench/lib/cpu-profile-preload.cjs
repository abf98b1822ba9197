/**
 * `NODE_OPTIONS=--require …/cpu-profile-preload.cjs` (with BENCH_CPU_PROFILE_DIR set): a V8
 * CPU profile of the whole process, written as <dir>/<pid>.cpuprofile when it exits — the
 * same as `node --cpu-prof`, which Node does not accept in NODE_OPTIONS, for processes a
 * harness spawns (bench/cluster-compare.mjs --cpu-prof).
 */
'use strict';
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir && require('node:worker_threads').isMainThread) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  process.on('exit', () => {
    // a same-thread session answers synchronously, so this runs to the end inside 'exit'
    session.post('Profiler.stop', (err, r) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(r.profile));
    });
  });
}
