/**
 * The broker under test as a child process, for the durability benches (broker-crash,
 * broker-reclaim, broker-backlog, broker-recovery): spawn it on a data directory, read its
 * JSON log from stderr, learn the AMQP port from the 'broker started' line, sample its RSS
 * and disk I/O from /proc, stop it with SIGTERM or kill it with SIGKILL.
 *
 * Two ways to run it, the same Broker either way:
 *   - 'cli':  `node <build>/src/cli.js start`, exactly what `npm start` runs;
 *   - 'host': bench/broker-host.mjs, which starts the same Broker with the same configuration
 *             layers and answers { type: 'metrics' } over IPC with the stores' metrics (the
 *             CLI has no way to ask for them until the management plugin lands).
 * Either way only the AMQP plugin runs, on an OS-chosen loopback port, and the child's
 * working directory is a scratch directory, so no conf file of the checkout is read.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const REPO = resolve(import.meta.dirname, '..');

/** brokers started and not yet exited: killed if this process exits first (no orphans) */
const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** build directory → env switching off its built-in plugins other than AMQP */
const pluginsOff = new Map();

/**
 * The compiled project: --build, else WARREN_BUILD, else dist/ (npm run build). Also learns
 * its built-in plugins: every one but AMQP is switched off when a broker starts (they would
 * listen on fixed ports: MQTT 1883, STOMP 61613, management 15672 …).
 * @param {string | undefined} arg
 * @returns {Promise<string>}
 */
export async function loadBuild(arg) {
  const dir = resolve(arg ?? process.env.WARREN_BUILD ?? join(REPO, 'dist'));
  if (!existsSync(join(dir, 'src', 'cli.js'))) {
    throw new Error(`no compiled broker in ${dir}: run npm run build, or pass --build <dir> (a tsc --outDir inside node_modules/)`);
  }
  /** @type {{ BUILTIN_PLUGINS: Record<string, unknown> }} */
  const { BUILTIN_PLUGINS } = await import(pathToFileURL(join(dir, 'src', 'plugin-host', 'builtin.js')).href);
  /** @type {Record<string, string>} */
  const env = {};
  for (const name of Object.keys(BUILTIN_PLUGINS)) if (name !== 'amqp') env[`WARREN_PLUGINS_${name.toUpperCase().replace(/[.-]/g, '_')}_ENABLED`] = 'false';
  pluginsOff.set(dir, env);
  return dir;
}

/**
 * @typedef {{ time?: string, level: string, msg: string, [k: string]: any }} LogRecord
 * @typedef {{
 *   child: import('node:child_process').ChildProcess,
 *   pid: number,
 *   spawnedAt: number,
 *   started: Promise<{ port: number, url: string, startMs: number }>,
 *   exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>,
 *   records: () => LogRecord[],
 *   find: (msg: string) => LogRecord | undefined,
 *   stderr: () => string,
 *   kill: () => Promise<{ code: number | null, signal: NodeJS.Signals | null }>,
 *   stop: (timeoutMs?: number) => Promise<{ code: number | null, signal: NodeJS.Signals | null }>,
 *   request: (type: string) => Promise<any>,
 * }} BrokerProcess
 */

/**
 * Start a broker on `dataDir`.
 * The log level stays 'info': the 'broker started' line is how the port is learnt.
 * @param {{ build: string, dataDir: string, mode?: 'cli' | 'host', env?: Record<string, string> }} o
 * @returns {BrokerProcess}
 */
export function startBroker(o) {
  if (!pluginsOff.has(o.build)) throw new Error(`startBroker: call loadBuild(${o.build}) first`);
  const mode = o.mode ?? 'cli';
  const script = mode === 'cli' ? join(o.build, 'src', 'cli.js') : join(REPO, 'bench', 'broker-host.mjs');
  const args = mode === 'cli' ? [script, 'start'] : [script, '--build', o.build];
  const scratch = mkdtempSync(join(tmpdir(), 'warren-bench-cwd-'));
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: scratch,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: scratch,
      WARREN_DATA_DIR: o.dataDir,
      WARREN_AMQP_PORT: '0',
      WARREN_AMQP_HOST: '127.0.0.1',
      WARREN_LOG_LEVEL: 'info',
      ...pluginsOff.get(o.build),
      ...o.env,
    },
    stdio: mode === 'cli' ? ['ignore', 'ignore', 'pipe'] : ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  live.add(child);
  /** @type {LogRecord[]} */
  const records = [];
  let err = '';
  let partial = '';
  /** @type {(v: { port: number, url: string, startMs: number }) => void} */
  let onStarted = () => undefined;
  /** @type {(e: Error) => void} */
  let onFailed = () => undefined;
  const started = new Promise((res, rej) => {
    onStarted = res;
    onFailed = rej;
  });
  started.catch(() => undefined); // a broker killed on purpose before it started is no error
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (/** @type {string} */ d) => {
    if (err.length < 1 << 20) err += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      /** @type {LogRecord} */
      let r;
      try {
        r = JSON.parse(line);
      } catch {
        continue;
      }
      records.push(r);
      if (r.msg === 'broker started') {
        const l = (r.listeners ?? []).find((/** @type {any} */ x) => x.name === 'amqp');
        if (l) onStarted({ port: l.port, url: `amqp://guest:guest@127.0.0.1:${l.port}`, startMs: performance.now() - spawnedAt });
        else onFailed(new Error(`'broker started' without an amqp listener: ${line}`));
      }
    }
  });
  const exited = new Promise((res) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      onFailed(new Error(`broker exited (code ${code}, signal ${signal}) before 'broker started'; stderr tail:\n${err.slice(-2000)}`));
      rmSync(scratch, { recursive: true, force: true });
      res({ code, signal });
    });
  });
  let nextRequest = 1;
  /** @type {Map<number, (v: any) => void>} */
  const waiting = new Map();
  child.on('message', (/** @type {any} */ m) => {
    const w = waiting.get(m?.id);
    if (w) {
      waiting.delete(m.id);
      w(m.value);
    }
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: /** @type {number} */ (child.pid),
    spawnedAt,
    started,
    exited: /** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} */ (exited),
    records: () => records,
    find: (msg) => records.find((r) => r.msg === msg),
    stderr: () => err,
    kill() {
      if (running()) child.kill('SIGKILL');
      return /** @type {any} */ (exited);
    },
    async stop(timeoutMs = 60_000) {
      if (running()) child.kill('SIGTERM');
      const timer = setTimeout(() => running() && child.kill('SIGKILL'), timeoutMs);
      const r = /** @type {{ code: number | null, signal: NodeJS.Signals | null }} */ (await exited);
      clearTimeout(timer);
      return r;
    },
    request(type) {
      if (mode !== 'host') return Promise.reject(new Error(`request '${type}' needs mode 'host'`));
      const id = nextRequest++;
      return new Promise((res) => {
        waiting.set(id, res);
        child.send({ id, type });
      });
    },
  };
}

/**
 * Resident set size of a process in MiB (VmRSS of /proc/<pid>/status), or NaN when gone.
 * @param {number} pid
 */
export function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Bytes a process has caused to be written to storage (write_bytes of /proc/<pid>/io), or NaN.
 * @param {number} pid
 */
export function diskWriteBytes(pid) {
  try {
    const m = /write_bytes:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * What a directory tree occupies: `bytes` (apparent sizes) and `allocated` (blocks on disk).
 * Files that vanish while walking (a segment deleted by reclaim) are skipped.
 * @param {string} dir
 * @returns {{ bytes: number, allocated: number, files: number }}
 */
export function dirUsage(dir) {
  const total = { bytes: 0, allocated: 0, files: 0 };
  /** @type {string[]} */
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return total;
  }
  for (const name of names) {
    const p = join(dir, name);
    try {
      const s = statSync(p);
      if (s.isDirectory()) {
        const sub = dirUsage(p);
        total.bytes += sub.bytes;
        total.allocated += sub.allocated;
        total.files += sub.files;
      } else {
        total.bytes += s.size;
        total.allocated += s.blocks * 512;
        total.files++;
      }
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

/** @param {number} n */
export const mib = (n) => Math.round((n / 1048576) * 10) / 10;

/**
 * A small deterministic PRNG (LCG), so a failing run can be replayed with --seed.
 * @param {number} seed
 */
export function prng(seed) {
  let s = seed % 2147483648;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}
