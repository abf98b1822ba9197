/**
 * The MQTT benchmarks against Warren and Mosquitto in the same run, one broker at a time on
 * this machine, each in its own process started here and stopped by its pid.
 *
 *   node bench/mqtt/run.mjs [--brokers warren,mosquitto] [--seconds 10] [--connections 10000]
 *                           [--scenarios fan-in-qos0,fan-in-qos1,fan-out-qos0,fan-out-qos1,idle-connections]
 *                           [--repeat 3] [--out results.jsonl]
 *
 * Warren is built first (tsc, into node_modules/.cache/warren-bench-build) and run with only
 * its MQTT plugin; Mosquitto (Debian package `mosquitto`) gets a minimal config on a free
 * port with the same in-flight limit as Warren's prefetch (100), no queue limit and
 * TCP_NODELAY (Warren sets it on every socket; Mosquitto only when asked). Prints
 * one JSON line per run and a Markdown table.
 */
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sampleHostBusyCores } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const { values: o } = parseArgs({
  options: {
    brokers: { type: 'string', default: 'warren,mosquitto' },
    scenarios: { type: 'string', default: 'fan-in-qos0,fan-in-qos1,fan-out-qos0,fan-out-qos1,idle-connections' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10000' },
    window: { type: 'string', default: '1000' },
    size: { type: 'string', default: '128' },
    out: { type: 'string' },
    repeat: { type: 'string', default: '1' },
  },
});

const freePort = () =>
  new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

function waitForLine(child, pattern, ms) {
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`no '${pattern}' within ${ms} ms: ${out}`)), ms);
    child.stdout.on('data', (d) => {
      out += d;
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m);
      }
    });
    child.on('exit', (code) => rej(new Error(`exited with ${code}: ${out}`)));
  });
}

async function waitForPort(port, ms) {
  const { connect } = await import('node:net');
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((res) => {
      const s = connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        res(true);
      });
      s.on('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} not open`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let buildDir = null;
function buildWarren() {
  buildDir = join(root, 'node_modules', '.cache', 'warren-bench-build');
  process.stderr.write(`building Warren into ${buildDir}\n`);
  try {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', buildDir], { cwd: root, stdio: 'pipe' });
  } catch {
    // type errors elsewhere do not stop the emit (as in test/global-setup.ts)
  }
}

/** @returns {Promise<{ url: string, pid: number, stop: () => Promise<void> }>} */
async function startBroker(name) {
  if (name === 'warren') {
    if (!buildDir) buildWarren();
    const child = spawn(process.execPath, ['--expose-gc', join(here, 'warren-server.mjs'), '--build', buildDir, '--port', '0', '--prefetch', '100'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [, port] = await waitForLine(child, /ready (\d+)/, 30_000);
    return { url: `mqtt://127.0.0.1:${port}`, pid: child.pid, gcSignal: true, stop: () => stopChild(child) };
  }
  if (name === 'mosquitto') {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'mosquitto-bench-'));
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_inflight_messages 100', 'max_queued_messages 0', 'max_connections -1', 'set_tcp_nodelay true', 'log_type error', 'log_dest stderr', ''].join('\n'),
    );
    const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'inherit'] });
    await waitForPort(port, 10_000);
    return {
      url: `mqtt://127.0.0.1:${port}`,
      pid: child.pid,
      stop: async () => {
        await stopChild(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`unknown broker ${name}`);
}

function stopChild(child) {
  return new Promise((res) => {
    if (child.exitCode !== null) return res();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      res();
    });
    child.kill('SIGTERM');
  });
}

function runScenario(scenario, broker, label) {
  const [file, qos] = scenario.startsWith('idle') ? ['idle-connections', null] : [scenario.replace(/-qos\d$/, ''), scenario.slice(-1)];
  const args = [join(here, `${file}.mjs`), '--url', broker.url, '--pid', String(broker.pid), '--label', label];
  if (qos !== null) args.push('--qos', qos, '--seconds', o.seconds, '--window', o.window, '--size', o.size);
  else args.push('--connections', o.connections, ...(broker.gcSignal ? ['--gc-signal'] : []));
  return new Promise((res) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      res(line ? JSON.parse(line) : { scenario, label, ok: false, error: `exit ${code}` });
    });
  });
}

/** Wait (up to 30 s) for the machine to be quiet; @returns the cores busy at the last look */
async function quietMachine() {
  let busy = null;
  for (let i = 0; i < 30; i++) {
    busy = await sampleHostBusyCores(1000);
    if (busy === null || busy < 0.4) return busy;
  }
  return busy;
}

const results = [];
const scenarios = o.scenarios.split(',');
const brokers = o.brokers.split(',');
// rounds interleave the brokers, so a noisy minute on a shared machine hits both alike
for (let round = 0; round < Number(o.repeat); round++) {
  for (const scenario of scenarios) {
    for (const name of brokers) {
      // a fresh broker per run: nothing left over from the previous one
      const broker = await startBroker(name);
      try {
        const busy = await quietMachine();
        process.stderr.write(`round ${round + 1}: ${name} ${scenario} (machine busy before: ${busy} cores)\n`);
        const r = { ...(await runScenario(scenario, broker, name)), round: round + 1, host_busy_before: busy };
        results.push(r);
        process.stdout.write(`${JSON.stringify(r)}\n`);
        if (o.out) appendFileSync(o.out, `${JSON.stringify(r)}\n`);
      } finally {
        await broker.stop();
      }
    }
  }
}

// the Markdown table: one row per scenario, one column per broker, medians over the rounds
const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const cell = (runs) => {
  if (runs.length === 0) return '–';
  const failed = runs.filter((r) => !r.ok).length;
  const note = failed ? ` (${failed} of ${runs.length} runs FAILED)` : '';
  if (runs[0].scenario === 'idle-connections') {
    return `${median(runs.map((r) => r.kib_per_connection))} KiB/conn (RSS ${median(runs.map((r) => r.rss_before_mib))} → ${median(runs.map((r) => r.rss_after_mib))} MiB)${note}`;
  }
  const rate = Math.round(median(runs.map((r) => r.msgs_per_s)));
  const round2 = (v) => (v === null ? null : Math.round(v * 100) / 100);
  const p50 = round2(median(runs.map((r) => r.latency_ms?.p50)));
  const p99 = round2(median(runs.map((r) => r.latency_ms?.p99)));
  const cpu = round2(median(runs.map((r) => r.cpu_cores?.broker)));
  return `${rate.toLocaleString('en')} msg/s; p50 ${p50} ms, p99 ${p99} ms; broker ${cpu} cores${note}`;
};
process.stdout.write(`\n| scenario | ${brokers.join(' | ')} |\n|---|${brokers.map(() => '---').join('|')}|\n`);
for (const s of scenarios) {
  process.stdout.write(`| ${s} | ${brokers.map((b) => cell(results.filter((r) => r.scenario === s && r.label === b))).join(' | ')} |\n`);
}
