/**
 * The workloads of bench/frameworks.mjs: each runs client processes against one broker URL
 * and returns its figure (`value`, in the workload's unit) and the CPU its short-lived client
 * processes used (`clientsCpu`). The scripts beside this file are the clients.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

const HERE = import.meta.dirname;
const PYTHON = '/usr/bin/python3'; // Debian's, with python3-celery and python3-pika
const TICKS = 100; // USER_HZ

/**
 * @typedef {{ title: string, metric: string, higherIsBetter: boolean, celery?: boolean,
 *   run: (url: string, ctx: Ctx) => Promise<{ value: number, unit: string, [k: string]: unknown }> }} Workload
 * @typedef {{ workDir: string, round: number, worker?: CeleryWorker }} Ctx
 * @typedef {{ doneFile: string, cpuSeconds: () => number, stop: () => Promise<void> }} CeleryWorker
 */

/** @type {Record<string, Workload>} */
export const WORKLOADS = {
  'celery-sequential': {
    title: 'Celery: one task and its result at a time (200)',
    metric: 'ms per task',
    higherIsBetter: false,
    celery: true,
    run: (url) => celeryClient(url, ['sequential', '200']),
  },
  'celery-pipelined': {
    title: 'Celery: 3,000 tasks sent, then each AsyncResult.get() in order',
    metric: 's',
    higherIsBetter: false,
    celery: true,
    run: (url) => celeryClient(url, ['pipelined', '3000']),
  },
  'celery-joined': {
    title: 'Celery: 3,000 tasks sent, results by ResultSet.join_native()',
    metric: 's',
    higherIsBetter: false,
    celery: true,
    run: (url) => celeryClient(url, ['joined', '3000']),
  },
  'celery-noresult': {
    title: 'Celery: 3,000 tasks without results (ignore_result)',
    metric: 's',
    higherIsBetter: false,
    celery: true,
    run: (url, ctx) => {
      truncateSync(/** @type {CeleryWorker} */ (ctx.worker).doneFile);
      return celeryClient(url, ['noresult', '3000'], { DONE_FILE: /** @type {CeleryWorker} */ (ctx.worker).doneFile });
    },
  },
  'celery-group': {
    title: 'Celery: group of 1,000 tasks, .get()',
    metric: 's',
    higherIsBetter: false,
    celery: true,
    run: (url) => celeryClient(url, ['group', '1000']),
  },
  'pika-qos1': {
    title: 'pika BlockingConnection worker, basic_qos(1), 5,000 persistent 256 B messages',
    metric: 'msg/s',
    higherIsBetter: true,
    run: (url, ctx) => workQueue([PYTHON, join(HERE, 'pika_work.py')], url, `pika-qos1-${ctx.round}`, 5000, 1),
  },
  'pika-prefetch50': {
    title: 'pika BlockingConnection worker, prefetch 50, 20,000 persistent 256 B messages',
    metric: 'msg/s',
    higherIsBetter: true,
    run: (url, ctx) => workQueue([PYTHON, join(HERE, 'pika_work.py')], url, `pika-prefetch50-${ctx.round}`, 20000, 50),
  },
  'amqplib-prefetch10': {
    title: 'amqplib work queue, prefetch(10), manual acks, 20,000 persistent 256 B messages',
    metric: 'msg/s',
    higherIsBetter: true,
    run: (url, ctx) => workQueue([process.execPath, join(HERE, 'amqplib-work.mjs')], url, `amqplib-prefetch10-${ctx.round}`, 20000, 10),
  },
  'pika-rpc': {
    title: 'pika RPC client/server (tutorial), 2,000 calls one at a time',
    metric: 'ms per call',
    higherIsBetter: false,
    run: (url, ctx) => rpcPair([PYTHON, join(HERE, 'pika_rpc.py')], url, `pika-rpc-${ctx.round}`, 2000),
  },
  'amqplib-rpc': {
    title: 'amqplib RPC client/server (tutorial, amqplib\'s default: Nagle on), 200 calls one at a time',
    metric: 'ms per call',
    higherIsBetter: false,
    run: (url, ctx) => rpcPair([process.execPath, join(HERE, 'amqplib-rpc.mjs')], url, `amqplib-rpc-${ctx.round}`, 200),
  },
  'amqplib-rpc-nodelay': {
    title: 'amqplib RPC client/server with { noDelay: true }, 2,000 calls one at a time',
    metric: 'ms per call',
    higherIsBetter: false,
    run: (url, ctx) => rpcPair([process.execPath, join(HERE, 'amqplib-rpc.mjs')], url, `amqplib-rpc-nodelay-${ctx.round}`, 2000, { NO_DELAY: '1' }),
  },
};

/** Run one workload; `clientsCpu` is what the client processes it started and reaped used. */
export async function runWorkload(name, url, ctx) {
  const before = reapedChildrenCpu();
  const r = await WORKLOADS[name].run(url, ctx);
  return { ...r, clientsCpu: reapedChildrenCpu() - before };
}

// ---- Celery -----------------------------------------------------------------------------------

/**
 * `celery worker` with two prefork processes (the setup) for one broker, running until
 * stopped; `cpuSeconds` sums the worker and its pool children.
 * @returns {Promise<CeleryWorker>}
 */
export async function celeryWorker(url, dir) {
  const doneFile = `${dir}-done`;
  writeFileSync(doneFile, '');
  const child = spawn(PYTHON, ['-m', 'celery', '-A', 'celery_app', 'worker', '-c', '2', '-P', 'prefork', '-l', 'warning', '-n', `bench-${process.pid}-${Date.now()}@%h`], {
    cwd: HERE,
    env: { ...process.env, BROKER_URL: url, DONE_FILE: doneFile, PYTHONPATH: HERE },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (b) => (log = (log + b).slice(-4000)));
  const pid = /** @type {number} */ (child.pid);
  // ready once its two pool processes exist and it has declared its queue (a round trip as a client proves it)
  const deadline = Date.now() + 60_000;
  while (childrenOf(pid).length < 2 || !log.includes('bench worker ready.')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`celery worker did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    doneFile,
    cpuSeconds: () => treeCpuSeconds(pid, true),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

function celeryClient(url, args, env = {}) {
  return runJson([PYTHON, join(HERE, 'celery_client.py'), ...args], { BROKER_URL: url, PYTHONPATH: HERE, ...env });
}

// ---- work queues and RPC pairs ------------------------------------------------------------------

/** A worker consuming `n` messages with `prefetch`, then a producer publishing them: messages per second from the first publish to the last ack. */
async function workQueue(command, url, queue, n, prefetch) {
  const worker = start([...command, 'worker', url, queue, String(n), String(prefetch)], {});
  await worker.line((l) => l.ready);
  const producer = await runJson([...command, 'producer', url, queue, String(n), '256'], {});
  const done = await worker.line((l) => l.done);
  await worker.exited;
  const seconds = done.done - producer.started;
  return { value: n / seconds, unit: 'msg/s', n, seconds: Math.round(seconds * 1000) / 1000, publish_s: Math.round((producer.published - producer.started) * 1000) / 1000 };
}

async function rpcPair(command, url, queue, n, env = {}) {
  const server = start([...command, 'server', url, queue], env);
  await server.line((l) => l.ready);
  try {
    return await runJson([...command, 'client', url, queue, String(n)], env);
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}

// ---- processes ----------------------------------------------------------------------------------

/** Start a client; `line(pred)` resolves with its first JSON stdout line matching pred. */
function start(command, env) {
  const child = spawn(command[0], command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  /** @type {any[]} */
  const lines = [];
  /** @type {((l: any) => void)[]} */
  const waiters = [];
  let buffered = '';
  let errors = '';
  child.stdout.on('data', (b) => {
    buffered += b;
    let i;
    while ((i = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      try {
        const l = JSON.parse(text);
        lines.push(l);
        for (const w of waiters) w(l);
      } catch {
        // not ours
      }
    }
  });
  child.stderr.on('data', (b) => (errors = (errors + b).slice(-3000)));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    exited,
    /** @param {(l: any) => unknown} pred */
    line: (pred) =>
      new Promise((resolve, reject) => {
        const found = lines.find(pred);
        if (found) return resolve(found);
        waiters.push((l) => pred(l) && resolve(l));
        void exited.then(({ code, signal }) => reject(new Error(`${command.slice(0, 3).join(' ')} exited (${code ?? signal}) early: ${errors}`)));
      }),
  };
}

/** Run a client to its end and return its last JSON line. */
async function runJson(command, env) {
  const p = start(command, env);
  const { code, signal } = /** @type {any} */ (await p.exited);
  const last = await p.line(() => true).catch(() => null);
  if (code !== 0 || last === null) {
    const err = await p.line(() => false).catch((e) => e);
    throw new Error(`${command[1]} ${command.slice(2, 4).join(' ')} failed (${code ?? signal}): ${err?.message ?? ''}`);
  }
  return last;
}

// ---- CPU from /proc -------------------------------------------------------------------------------

function statFields(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function childrenOf(pid) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(name);
    if (f && Number(f[1]) === pid) out.push(Number(name));
  }
  return out;
}

/** utime + stime of `pid` (and, with `tree`, of its live descendants), in seconds; 0 when unknown. */
export function treeCpuSeconds(pid, tree) {
  if (!pid) return 0;
  const f = statFields(pid);
  let ticks = f ? Number(f[11]) + Number(f[12]) : 0;
  if (tree) for (const c of childrenOf(pid)) ticks += treeCpuSeconds(c, true) * TICKS;
  return ticks / TICKS;
}

/** CPU of this process's children that have exited and been reaped (cutime + cstime). */
function reapedChildrenCpu() {
  const f = statFields('self');
  return f ? (Number(f[13]) + Number(f[14])) / TICKS : 0;
}

/** The host's busy and total jiffies (/proc/stat) and its core count. */
export function hostTicks() {
  try {
    const values = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - values[3] - (values[4] ?? 0), total, cores: cpus().length };
  } catch {
    return null;
  }
}
