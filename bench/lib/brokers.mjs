/**
 * The brokers bench/all.mjs and bench/scaling.mjs compare, found or started here:
 *
 * - warren: started from a compiled build (bench/warren-server.mjs) in its own process, fresh
 *   for every run, on OS-chosen loopback ports, in a temporary data directory, without the
 *   management plugin;
 * - rabbitmq: already running (it is a system service here); found by connecting to its
 *   ports (AMQP 5672, STOMP 61613, MQTT 1883 unless given as URLs) and its pid (beam.smp);
 * - mosquitto: the binary, started fresh for every run with a minimal config on a free port;
 * - aedes: bench/mqtt/aedes-server.mjs loading Aedes from where it was installed outside the
 *   project (`--aedes-dir` / $AEDES_DIR), fresh for every run.
 *
 * A started broker is stopped by its pid (SIGTERM, SIGKILL after 10 s), and killed if this
 * process exits first, so a failed bench leaves nothing running.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..', '..');

/** @typedef {'amqp' | 'mqtt' | 'stomp'} Protocol */
/**
 * @typedef {{ label: string, urls: Partial<Record<Protocol, string>>, pid: number | null,
 *   gcSignal: boolean, stop: () => Promise<void> }} RunningBroker
 * @typedef {{ label: string, protocols: Protocol[], start: (protocol: Protocol) => Promise<RunningBroker>, note: string }} BrokerKind
 */

/** children not yet exited: killed if this process ends first (no orphans) */
const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
// 'exit' does not run when a signal ends the process: stop the brokers first, then exit
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.once(signal, () => {
    for (const child of live) child.kill('SIGKILL');
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

/**
 * How many more connections a process can take without running out of file descriptors: a
 * quarter of its headroom, because a connection may cost more than its socket (RabbitMQ opens
 * a queue index journal for each MQTT QoS 1 subscription's durable queue), and the rest is
 * left for everything else: RabbitMQ from a distribution package
 * often runs with a soft limit of 1,024, and running out crashes parts of it (seen here:
 * Mnesia stopped on `emfile`, and the node refused every connection until restarted).
 * @param {number} pid @returns {number} Infinity when unknown
 */
export function connectionHeadroom(pid) {
  try {
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    const soft = Number(/Max open files\s+(\d+)/.exec(limits)?.[1]);
    const open = readdirSync(`/proc/${pid}/fd`).length;
    return Number.isFinite(soft) ? Math.max(0, Math.floor((soft - open) / 4)) : Infinity;
  } catch {
    return Infinity;
  }
}

/** @returns {Promise<number>} a free loopback port */
export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (address && typeof address === 'object' ? res(address.port) : rej(new Error('no port'))));
    });
  });
}

/** @param {string} host @param {number} port @returns {Promise<boolean>} */
export function reachable(host, port) {
  return new Promise((res) => {
    const s = netConnect({ host, port }, () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
    s.setTimeout(2000, () => {
      s.destroy();
      res(false);
    });
  });
}

/** @param {import('node:child_process').ChildProcess} child @param {RegExp} pattern @param {number} ms */
function waitForLine(child, pattern, ms) {
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`no '${pattern}' within ${ms} ms: ${out}`)), ms);
    /** @type {import('node:stream').Readable} */ (child.stdout).on('data', (d) => {
      out += d;
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`exited with ${code} before it was ready: ${out}`));
    });
  });
}

/** @param {import('node:child_process').ChildProcess} child @returns {Promise<void>} */
export function stopChild(child) {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      live.delete(child);
      return res();
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      live.delete(child);
      res();
    });
    child.kill('SIGTERM');
  });
}

/** @param {string} command @param {string[]} args */
function track(command, args) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  live.add(child);
  return child;
}

/**
 * Compile Warren (tsc, into a cache directory inside node_modules/, as the MQTT bench does) unless
 * a build is given. Type errors elsewhere in the checkout do not stop tsc's emit.
 * @param {string | undefined} given
 * @returns {string} the build directory
 */
export function warrenBuild(given) {
  if (given) {
    const dir = resolve(given);
    if (!existsSync(join(dir, 'src', 'broker.js'))) throw new Error(`no compiled broker in ${dir} (npm run build, or leave --build out)`);
    return dir;
  }
  const dir = join(REPO, 'node_modules', '.cache', 'warren-bench-build');
  process.stderr.write(`[bench] building Warren into ${dir}\n`);
  try {
    execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', dir], { cwd: REPO, stdio: 'pipe' });
  } catch {
    // emitted anyway; checked below
  }
  if (!existsSync(join(dir, 'src', 'broker.js'))) throw new Error('the Warren build failed');
  return dir;
}

/**
 * @param {string} build
 * @param {{ defaults?: boolean }} [o] defaults: Warren's own MQTT settings (no prefetch override)
 * @returns {BrokerKind}
 */
export function warren(build, o = {}) {
  return {
    label: 'warren',
    protocols: ['amqp', 'mqtt', 'stomp'],
    note: `Warren from ${build}`,
    async start(protocol) {
      const child = track(process.execPath, ['--expose-gc', join(REPO, 'bench', 'warren-server.mjs'), '--build', build, '--protocols', protocol, ...(o.defaults ? ['--mqtt-prefetch', 'default'] : [])]);
      const [, ports] = await waitForLine(child, /ready (\{.*\})/, 30_000);
      // `protocol` may name more plugins to start ('amqp,management'); the first is the one measured
      const measured = /** @type {Protocol} */ (protocol.split(',')[0]);
      const port = JSON.parse(ports)[measured];
      const urls = { amqp: `amqp://guest:guest@127.0.0.1:${port}`, mqtt: `mqtt://127.0.0.1:${port}`, stomp: `stomp://guest:guest@127.0.0.1:${port}` };
      return { label: 'warren', urls: { [measured]: urls[measured] }, pid: child.pid ?? null, gcSignal: true, stop: () => stopChild(child) };
    },
  };
}

/**
 * RabbitMQ if it answers on the given (or default) ports; null otherwise.
 * @param {{ amqp?: string, stomp?: string, mqtt?: string, pid?: string }} o
 * @returns {Promise<BrokerKind | null>}
 */
export async function rabbitmq(o) {
  /** @type {Partial<Record<Protocol, string>>} */
  const urls = {};
  const candidates = {
    amqp: o.amqp ?? 'amqp://guest:guest@127.0.0.1:5672',
    stomp: o.stomp ?? 'stomp://guest:guest@127.0.0.1:61613',
    mqtt: o.mqtt ?? 'mqtt://guest:guest@127.0.0.1:1883',
  };
  for (const [protocol, url] of Object.entries(candidates)) {
    if (url === 'none') continue;
    const u = new URL(url);
    if (await reachable(u.hostname, Number(u.port))) urls[/** @type {Protocol} */ (protocol)] = url;
  }
  if (Object.keys(urls).length === 0) return null;
  let pid = o.pid ? Number(o.pid) : null;
  if (pid === null) {
    try {
      const pids = execFileSync('pgrep', ['-x', 'beam.smp'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      if (pids.length === 1) pid = Number(pids[0]);
    } catch {
      // not found: no CPU or memory figures for it
    }
  }
  return {
    label: 'rabbitmq',
    protocols: /** @type {Protocol[]} */ (Object.keys(urls)),
    note: `RabbitMQ at ${Object.values(urls).map((u) => new URL(u).host).join(', ')}${pid ? `, pid ${pid}` : ' (pid unknown: no CPU or memory figures)'}`,
    async start() {
      return { label: 'rabbitmq', urls, pid, gcSignal: false, stop: async () => undefined };
    },
  };
}

/**
 * The comparison config (below) by default; with `defaults`, Mosquitto's own defaults but for
 * the listener, anonymous access (2.0 refuses it otherwise) and `max_queued_messages 0`: at its
 * default of 1,000 it drops QoS 1 messages queued for a busy subscriber, and a run that loses
 * messages is not a measurement.
 * @param {string | undefined} given @param {{ defaults?: boolean }} [o]
 * @returns {BrokerKind | null} Mosquitto if its binary is found
 */
export function mosquitto(given, o = {}) {
  const candidates = given ? [given] : ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto'];
  const binary = candidates.find((c) => existsSync(c));
  if (!binary) return null;
  return {
    label: 'mosquitto',
    protocols: ['mqtt'],
    note: `Mosquitto ${binary}`,
    async start() {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'mosquitto-bench-'));
      const conf = join(dir, 'mosquitto.conf');
      // the same in-flight limit as Warren's MQTT prefetch, no queue limit, and TCP_NODELAY
      // (Warren sets it on every socket; Mosquitto only when asked): see docs/performance.md
      const tuned = ['persistence false', 'max_inflight_messages 100', 'max_connections -1', 'set_tcp_nodelay true'];
      writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'max_queued_messages 0', ...(o.defaults ? [] : tuned), 'log_type error', 'log_dest stderr', ''].join('\n'));
      const child = track(binary, ['-c', conf]);
      const deadline = Date.now() + 10_000;
      while (!(await reachable('127.0.0.1', port))) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error('mosquitto did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
      return {
        label: 'mosquitto',
        urls: { mqtt: `mqtt://127.0.0.1:${port}` },
        pid: child.pid ?? null,
        gcSignal: false,
        stop: async () => {
          await stopChild(child);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

/**
 * @param {string | undefined} given @param {{ defaults?: boolean }} [o] defaults: no TCP_NODELAY (Aedes' README server)
 * @returns {BrokerKind | null} Aedes if installed where told (or in /work/aedes-bench)
 */
export function aedes(given, o = {}) {
  const dir = given ?? process.env.AEDES_DIR ?? '/work/aedes-bench';
  if (!existsSync(join(dir, 'node_modules', 'aedes', 'aedes.js'))) return null;
  return {
    label: 'aedes',
    protocols: ['mqtt'],
    note: `Aedes from ${dir}`,
    async start() {
      const child = track(process.execPath, ['--expose-gc', join(REPO, 'bench', 'mqtt', 'aedes-server.mjs'), '--aedes-dir', dir, '--port', '0', ...(o.defaults ? ['--defaults'] : [])]);
      const [, port] = await waitForLine(child, /ready (\d+)/, 30_000);
      return { label: 'aedes', urls: { mqtt: `mqtt://127.0.0.1:${port}` }, pid: child.pid ?? null, gcSignal: true, stop: () => stopChild(child) };
    },
  };
}

/**
 * The trivial responder (bench/mqtt/trivial-broker.mjs): not a broker, the ceiling a client
 * process reaches on this machine when the other side costs next to nothing.
 * @returns {BrokerKind}
 */
export function trivialResponder() {
  return {
    label: 'trivial',
    protocols: ['mqtt'],
    note: 'bench/mqtt/trivial-broker.mjs: answers and forwards, no broker work (the client-side ceiling)',
    async start() {
      const child = track(process.execPath, [join(REPO, 'bench', 'mqtt', 'trivial-broker.mjs'), '--port', '0']);
      const [, port] = await waitForLine(child, /ready (\d+)/, 30_000);
      return { label: 'trivial', urls: { mqtt: `mqtt://127.0.0.1:${port}` }, pid: child.pid ?? null, gcSignal: false, stop: () => stopChild(child) };
    },
  };
}
